"""The record of what whisper-cli wrote in a folder: each output's content hash, its input and its settings.

One hidden file per output folder, ``.whisper-cli-ledger.jsonl``, one JSON object a line.
A run appends the lines of an input's outputs (under an exclusive lock, synced) before it
renames them into place, so every output on disk that whisper-cli wrote has a line whose
hash matches its content. That is the only proof a run accepts: a file at an output's
name whose content no line claims is the user's (their notes, a transcript they edited)
and is never replaced or taken as done. A crash between the append and the rename leaves
a line that matches nothing on disk, which proves nothing and costs nothing.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import stat
import threading
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from whisper_cli import __version__
from whisper_cli.batch.paths import RealPaths
from whisper_cli.batch.sinks import PARTIAL_PREFIX, file_digest

try:
    import fcntl
except ImportError:  # Windows: a run is assumed alone in its folders
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

LEDGER_NAME = ".whisper-cli-ledger.jsonl"
KEEP_PER_OUTPUT = 3  # lines kept per output name when a ledger is compacted
COMPACT_OVER = 1000  # lines: a ledger this long with three times the lines it needs is compacted
_OPEN_FLAGS = os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


@dataclass(frozen=True, slots=True)
class InputStamp:
    """An input as a ledger line names it: its real path from the ledger's folder, size and mtime."""

    path: str
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, source: str, folder: Path, real: RealPaths | None = None) -> InputStamp | None:
        """The stamp of ``source`` seen from ``folder``; None when it cannot be read (or is stdin).
        ``real``: the run's real paths (each folder resolved once)."""
        try:
            st = os.stat(source)
        except (OSError, ValueError):
            return None
        if not stat.S_ISREG(st.st_mode):
            return None  # a pipe or a device: what it held cannot be known again
        real = real or RealPaths()
        return cls(os.path.relpath(real(source), real.folder(str(folder))), st.st_size, st.st_mtime_ns)


@dataclass(frozen=True, slots=True)
class Entry:
    """One output whisper-cli wrote: its name in the folder, content, input and settings."""

    output: str
    sha256: str
    size: int
    input: InputStamp | None  # None: from stdin or a stream, never taken as done
    settings: str  # the settings' fingerprint (RunSettings.fingerprint)
    line: str = field(default="", compare=False)  # as read from the ledger (kept whole by compaction)

    def to_json(self) -> str:
        """The ledger line (without its newline)."""
        record: dict[str, Any] = {
            "output": self.output,
            "sha256": self.sha256,
            "size": self.size,
            "input": None if self.input is None else _stamp_json(self.input),
            "settings": self.settings,
            "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "by": f"whisper-cli {__version__}",
        }
        return json.dumps(record, separators=(",", ":"))  # ASCII: any file name survives

    @classmethod
    def from_json(cls, line: str) -> Entry | None:
        """The entry of a ledger line; None for a line that is torn or not ours."""
        try:
            r = json.loads(line)
            stamp = r["input"]
            return cls(
                line=line,
                output=str(r["output"]),
                sha256=str(r["sha256"]),
                size=int(r["size"]),
                input=None
                if stamp is None
                else InputStamp(str(stamp["path"]), int(stamp["size"]), int(stamp["mtime_ns"])),
                settings=str(r["settings"]),
            )
        except (ValueError, KeyError, TypeError):
            return None


def _stamp_json(stamp: InputStamp) -> dict[str, Any]:
    return {"path": stamp.path, "size": stamp.size, "mtime_ns": stamp.mtime_ns}


class State(str, Enum):
    """What is at an output's path, as far as whisper-cli is concerned."""

    absent = "absent"
    ours = "ours"  # a regular file whose content a ledger line claims
    foreign = "foreign"  # a file whisper-cli did not write, or changed since it did
    special = "special"  # a folder, FIFO, device, socket or link: never replaced


@dataclass(frozen=True, slots=True)
class Claim:
    """The state of one path, and for ``ours`` the ledger line that matches its content."""

    state: State
    entry: Entry | None = None


class Ledger:
    """The ledger of one folder: read once, appended to as outputs are committed."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / LEDGER_NAME
        self._lock = threading.Lock()
        self._entries: dict[str, list[Entry]] = {}
        self._read()

    def _read(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDONLY | _OPEN_FLAGS)
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                log.warning("%s: cannot read whisper-cli's ledger (%s)", self.path, exc.strerror)
            return
        with open(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                log.warning("%s: not a regular file, not read as whisper-cli's ledger", self.path)
                return
            self._entries = _parse(f.read())
        lines = sum(map(len, self._entries.values()))
        if lines > COMPACT_OVER and lines > 3 * KEEP_PER_OUTPUT * len(self._entries):
            self._compact()

    def _compact(self) -> None:
        """Rewrite the ledger with the last few lines of each output (it grows with every
        output written: a folder redone a hundred times would hold a hundred lines each).

        The file on disk is almost always an output's newest line, or the one before when a
        run died between appending and renaming; older ones can only match a file that was
        since replaced by one of ours. Done under the ledger's lock, from what is in it then;
        appenders that opened the old file notice (its inode is gone) and open the new one.
        """
        tmp = self.folder / f"{PARTIAL_PREFIX}{os.getpid()}-{LEDGER_NAME}"
        with self._lock:
            try:
                fd = os.open(self.path, os.O_RDONLY | _OPEN_FLAGS)
            except OSError:
                return
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                with open(fd, "rb", closefd=False) as f:
                    current = _parse(f.read())
                kept = {name: entries[-KEEP_PER_OUTPUT:] for name, entries in current.items()}
                lines = (e.line or e.to_json() for entries in kept.values() for e in entries)
                data = "".join(line + "\n" for line in lines).encode("ascii")
                with open(tmp, "wb") as out:
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                os.chmod(tmp, stat.S_IMODE(os.fstat(fd).st_mode))
                os.replace(tmp, self.path)
                self._entries = kept
            except OSError as exc:  # a read-only folder, a full disk: the long ledger still serves
                log.debug("%s: not compacted (%s)", self.path, exc)
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            finally:
                os.close(fd)

    def claim(self, path: Path) -> Claim:
        """Whose the file at ``path`` (in this folder) is."""
        try:
            st = os.lstat(path)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return Claim(State.absent)
            return Claim(State.special)  # cannot even be looked at: not to be touched
        if not stat.S_ISREG(st.st_mode):
            return Claim(State.special)
        with self._lock:
            candidates = [e for e in self._entries.get(path.name, ()) if e.size == st.st_size]
        if not candidates:
            return Claim(State.foreign)
        try:
            digest, _ = file_digest(path)
        except OSError:
            return Claim(State.foreign)
        for entry in reversed(candidates):  # the newest line that matches
            if entry.sha256 == digest:
                return Claim(State.ours, entry)
        return Claim(State.foreign)

    def record(self, entries: list[Entry]) -> None:
        """Append ``entries`` durably, under an exclusive lock shared with other runs.

        Raises:
            OSError: the ledger cannot be written (the outputs must then not be committed).
        """
        data = "".join("\n" + e.to_json() for e in entries).encode("ascii")  # a torn line before stays apart
        with self._lock:
            fd = self._open_for_append()
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            for entry in entries:
                self._entries.setdefault(entry.output, []).append(entry)

    def _open_for_append(self) -> int:
        """The ledger, open for appending and locked; reopened if another run compacted it meanwhile."""
        while True:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _OPEN_FLAGS, 0o666)
            try:
                st = os.fstat(fd)
                if not stat.S_ISREG(st.st_mode):
                    raise OSError(errno.EINVAL, f"{LEDGER_NAME} is not a regular file")
                if fcntl is None:
                    return fd
                fcntl.flock(fd, fcntl.LOCK_EX)
                if os.stat(self.path).st_ino == st.st_ino:
                    return fd
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # replaced by a compaction while we waited for the lock


def _parse(data: bytes) -> dict[str, list[Entry]]:
    """Output name → its ledger lines, oldest first; torn or foreign lines are passed over."""
    entries: dict[str, list[Entry]] = {}
    for raw in data.splitlines():
        entry = Entry.from_json(raw.decode("ascii", "replace").strip()) if raw.strip() else None
        if entry is not None:
            entries.setdefault(entry.output, []).append(entry)
    return entries


class Ledgers:
    """The ledgers a run uses, one per output folder, each read once; thread-safe."""

    def __init__(self) -> None:
        self._ledgers: dict[str, Ledger] = {}  # by absolute folder
        self._named: dict[str, Ledger] = {}  # by folder as given: no abspath per output
        self._lock = threading.Lock()
        self.real = RealPaths()  # the run's real paths, for the inputs' stamps

    def of(self, path: Path) -> Ledger:
        """The ledger of the folder that holds ``path``."""
        folder = path.parent
        named = self._named.get(str(folder))
        if named is not None:
            return named
        key = os.path.abspath(folder)
        with self._lock:
            if key not in self._ledgers:
                self._ledgers[key] = Ledger(folder)
            self._named[str(folder)] = self._ledgers[key]
            return self._ledgers[key]

    def claim(self, path: Path) -> Claim:
        """Whose the file at ``path`` is."""
        return self.of(path).claim(path)


def record_outputs(ledgers: Ledgers, written: list[tuple[Path, Entry]]) -> None:
    """Append each output's entry to the ledger of its folder (one write per folder)."""
    by_folder: dict[str, tuple[Ledger, list[Entry]]] = {}
    for path, entry in written:
        ledger = ledgers.of(path)
        by_folder.setdefault(os.path.abspath(ledger.folder), (ledger, []))[1].append(entry)
    for ledger, entries in by_folder.values():
        ledger.record(entries)
