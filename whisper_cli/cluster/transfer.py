"""Whole inputs for Ray workers that cannot open the driver's path: sent through the object store in pieces.

Each input goes to a worker as a ``Source``. At first it carries the driver's path and
a ``Stamp`` of the file (size, modification time, a hash of its first 64 KiB): the worker
reads the file by that path only when its own node has that very file (a shared
filesystem); otherwise it answers "unseen", its node is marked blind, and that input and
every later one sent there carry the bytes instead: the driver reads the file in pieces
of PIECE bytes, putting each into Ray's object store as it goes (never the whole file in
its memory), and the worker writes them to a temporary file on its node, transcribes
that, and removes it. Only the calls in flight hold pieces: Ray frees them when the call
has returned and the driver has dropped the ``Source``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

PREFIX = "whisper-cli-input-"  # a worker's temporary folders: PREFIX, its PID, "-", a random part
PIECE = 8 * 2**20  # bytes per object: a few of them per recording, none too large to move at once
HEAD = 64 * 2**10  # bytes hashed to tell two files of the same size and time apart


@dataclass(frozen=True, slots=True)
class Stamp:
    """What identifies a file on the driver's disk: a worker's file at the same path must match it."""

    size: int
    mtime_ns: int
    head: str  # sha256 of its first HEAD bytes


def stamp(path: str) -> Stamp | None:
    """``path``'s stamp here; None when it cannot be read (the decoder will say why)."""
    try:
        with open(path, "rb") as file:
            info = os.fstat(file.fileno())
            head = hashlib.sha256(file.read(HEAD)).hexdigest()
    except OSError:
        return None
    return Stamp(info.st_size, info.st_mtime_ns, head)


@dataclass(frozen=True, slots=True)
class Source:
    """One input as a worker gets it: the driver's absolute path, and either the stamp its file
    there must match, or the object refs of its bytes in order (``pieces``), or neither (read
    it by that path as it is)."""

    path: str
    stamp: Stamp | None = None
    pieces: tuple[Any, ...] | None = None


@dataclass(slots=True)
class Sender:
    """The driver's side: which nodes cannot see its files, and each input's Source for a node."""

    ray: ModuleType
    blind: set[str] = field(default_factory=set)  # nodes that answered "unseen"
    sent: int = 0  # bytes sent so far, for the log

    def source(self, path: str, node: str) -> Source:
        """``path`` (absolute) for a worker on ``node``: by path where it may see the file, else sent."""
        if node not in self.blind:
            found = stamp(path)
            if found is None:
                return Source(path)  # unreadable here too: the worker's decoder says why, as on one machine
            return Source(path, stamp=found)
        return self.pieces(path)

    def pieces(self, path: str) -> Source:
        """``path``'s bytes put into the object store PIECE bytes at a time."""
        refs = []
        try:
            with open(path, "rb") as file:
                while piece := file.read(PIECE):
                    refs.append(self.ray.put(piece))
                    self.sent += len(piece)
        except OSError:
            return Source(path)  # the worker's decoder says why it cannot be read
        return Source(path, pieces=tuple(refs))


def sees(path: str, expected: Stamp) -> bool:
    """Whether this node has the driver's file at ``path`` (same size, time and first bytes)."""
    return stamp(path) == expected


@contextlib.contextmanager
def readable(source: Source | str) -> Iterator[str | None]:
    """Within: the path to read ``source`` by on this node (a worker's side), or None when this
    node does not have the driver's file (the driver must send it). Sent bytes are written to a
    temporary folder, under the input's own name, and removed when this ends."""
    if isinstance(source, str):
        yield source
        return
    if source.pieces is None:
        yield source.path if source.stamp is None or sees(source.path, source.stamp) else None
        return
    import ray  # only ever on a Ray worker

    folder = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-")
    try:
        local = os.path.join(folder, os.path.basename(source.path))
        with open(local, "wb") as file:
            for ref in source.pieces:
                file.write(ray.get(ref))  # one piece in memory at a time
        yield local
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def as_sent(text: str, local: str | None, source: Source | str) -> str:
    """A message that names the temporary copy, naming the driver's path instead."""
    original = source if isinstance(source, str) else source.path
    return text.replace(local, original) if local and local != original else text


def sweep() -> None:
    """Remove the temporary copies that workers killed on this node left behind (their PID is gone)."""
    root = tempfile.gettempdir()
    for name in os.listdir(root):
        pid = name[len(PREFIX) :].partition("-")[0]
        if name.startswith(PREFIX) and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(root, name), ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process
        return True
    return True
