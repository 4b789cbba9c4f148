"""Real paths of many files in few folders: each folder resolved once, not once per file."""

from __future__ import annotations

import os


class RealPaths:
    """``os.path.realpath`` for the files of a run: a folder's real path is looked up once,
    and a file's own name is resolved only when it is a symbolic link (one lstat)."""

    def __init__(self) -> None:
        self._folders: dict[str, str] = {}

    def folder(self, folder: str) -> str:
        """The real path of ``folder`` ("" is the working folder)."""
        real = self._folders.get(folder)
        if real is None:
            real = self._folders[folder] = os.path.realpath(folder or os.curdir)
        return real

    def __call__(self, path: str) -> str:
        """The real path of ``path``, as ``os.path.realpath`` gives it."""
        head, name = os.path.split(path)
        if name in ("", os.curdir, os.pardir):
            return os.path.realpath(path)
        joined = os.path.join(self.folder(head), name)
        return os.path.realpath(joined) if os.path.islink(joined) else joined
