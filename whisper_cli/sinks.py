"""Where a writer's text goes: stdout, or a file that appears only once it is complete."""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import sys
from pathlib import Path
from typing import TextIO

from whisper_cli.errors import OutputError

PARTIAL_PREFIX = ".whisper-cli-partial-"  # temp files carry it; never mistaken for output


class StdoutSink:
    """The process's stdout; nothing to commit or undo."""

    label = "<stdout>"

    def open(self) -> TextIO:
        """The text stream to write to."""
        return sys.stdout

    def commit(self) -> None:
        """Flush what was written."""
        sys.stdout.flush()

    def discard(self) -> None:
        """Nothing can be taken back from a pipe; flush what is there."""
        with contextlib.suppress(BrokenPipeError, ValueError):
            sys.stdout.flush()


class AtomicFileSink:
    """A temp file beside ``path``, renamed onto it by ``commit``; ``discard`` removes it.

    An interrupted or failed run thus never leaves a half-written transcript under the
    final name, and an older complete file stays untouched until the new one is done.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        self._tmp: Path | None = None
        self._file: TextIO | None = None

    def open(self) -> TextIO:
        """Create the parent folder and the temp file; return it for writing."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = self._create_tmp()
        except OSError as exc:
            raise OutputError(f"{self.label}: cannot create ({_cause(exc)})") from None
        self._file = open(fd, "w", encoding="utf-8", newline="\n")  # noqa: SIM115
        return self._file

    def _create_tmp(self) -> int:
        """Create a new temp file, 0600 like mkstemp's, and return its descriptor.

        The name is recorded before the file exists, so a Ctrl-C that lands just after its
        creation still finds it to discard (mkstemp returns the name only afterwards).
        """
        for _ in range(100):
            self._tmp = self.path.parent / f"{PARTIAL_PREFIX}{secrets.token_hex(4)}{self.path.suffix}"
            try:
                return os.open(self._tmp, _CREATE_FLAGS, 0o600)
            except FileExistsError:
                self._tmp = None  # another file's name: not ours to discard
            except OSError:
                self._tmp = None
                raise
        raise FileExistsError(errno.EEXIST, "no free temp file name")

    def commit(self) -> None:
        """Flush to disk and rename into place."""
        assert self._file is not None and self._tmp is not None
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            os.chmod(self._tmp, 0o666 & ~_UMASK)  # created 0600
            os.replace(self._tmp, self.path)
        except OSError as exc:
            self.discard()
            raise OutputError(f"{self.label}: cannot write ({_cause(exc)})") from None
        self._tmp = self._file = None

    def discard(self) -> None:
        """Remove the temp file; the final path is left as it was."""
        if self._file is not None:
            with contextlib.suppress(OSError):  # a full disk: the buffered rest cannot be flushed
                self._file.close()
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
        self._tmp = self._file = None


def write_error(label: str, exc: OSError) -> OutputError:
    """An OutputError for a failed write to ``label``."""
    return OutputError(f"{label}: cannot write ({_cause(exc)})")


def _cause(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on device"
    if exc.errno == errno.EFBIG:
        return "file too large (file size limit reached)"
    return exc.strerror or str(exc)


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp's flags: a new file only, not inherited by child processes, no newline
# translation by the C runtime (Windows)
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL
_CREATE_FLAGS |= getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
_UMASK = _read_umask()  # read once at import: os.umask is process-wide, not thread-safe
