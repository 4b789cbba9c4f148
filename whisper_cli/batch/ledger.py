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
import logging
import os
import secrets
import stat
import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from whisper_cli.audio.load import display_name
from whisper_cli.batch.ledgerline import Entry, parse_lines
from whisper_cli.batch.paths import RealPaths
from whisper_cli.batch.sinks import PARTIAL_PREFIX, create_locked, file_digest

try:
    import fcntl
except ImportError:  # Windows: a run is assumed alone in its folders
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

LEDGER_NAME = ".whisper-cli-ledger.jsonl"
KEEP_PER_OUTPUT = 3  # lines kept per output name when a ledger is compacted
COMPACT_OVER = 1000  # lines: a ledger this long with three times the lines it needs is compacted
_OPEN_FLAGS = os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


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
        self.unusable: str | None = None  # why no output can be recorded here (a link, a folder)
        self._read()

    def _read(self) -> None:
        try:
            st = os.lstat(self.path)
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                log.warning("%s: cannot read whisper-cli's ledger (%s)", self.path, exc.strerror)
            return
        if not stat.S_ISREG(st.st_mode):  # followed, a link could make a run append to any file
            self._refuse(st.st_mode)
            return
        try:
            fd = os.open(self.path, os.O_RDONLY | _OPEN_FLAGS)
        except OSError as exc:
            log.warning("%s: cannot read whisper-cli's ledger (%s)", self.path, exc.strerror)
            return
        with open(fd, "rb") as f:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):  # replaced since the lstat
                self._refuse(mode)
                return
            self._entries = parse_lines(f.read())
        lines = sum(map(len, self._entries.values()))
        if lines > COMPACT_OVER and lines > 3 * KEEP_PER_OUTPUT * len(self._entries):
            self._compact()

    def _refuse(self, mode: int) -> None:
        self.unusable = (
            f"{display_name(self.path)} is {_kind(mode)}: whisper-cli keeps its ledger only in a "
            f"regular file, and writes nothing in {display_name(self.folder)} without one"
        )

    def _compact(self) -> None:
        """Rewrite the ledger with the last few lines of each output (it grows with every
        output written: a folder redone a hundred times would hold a hundred lines each).

        The file on disk is almost always an output's newest line, or the one before when a
        run died between appending and renaming; older ones can only match a file that was
        since replaced by one of ours. Done under the ledger's lock, from what is in it then;
        appenders that opened the old file notice (its inode is gone) and open the new one.
        """
        tmp = self.folder / f"{PARTIAL_PREFIX}{secrets.token_hex(4)}-{LEDGER_NAME}"
        with self._lock:
            try:
                fd = os.open(self.path, os.O_RDONLY | _OPEN_FLAGS)
            except OSError:
                return
            try:
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                with open(fd, "rb", closefd=False) as f:
                    current = parse_lines(f.read())
                kept = {name: entries[-KEEP_PER_OUTPUT:] for name, entries in current.items()}
                lines = (e.line or e.to_json() for entries in kept.values() for e in entries)
                data = "".join(line + "\n" for line in lines).encode("ascii")
                with open(create_locked(tmp), "wb") as out:  # locked: not taken for a killed run's
                    out.write(data)
                    out.flush()
                    os.fsync(out.fileno())
                    os.fchmod(out.fileno(), stat.S_IMODE(os.fstat(fd).st_mode))
                    os.replace(tmp, self.path)
                self._entries = kept
            except OSError as exc:  # a read-only folder, a full disk: the long ledger still serves
                log.debug("%s: not compacted (%s)", self.path, exc)
                if not isinstance(exc, FileExistsError):  # that name is not ours
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
            finally:
                os.close(fd)

    def named(self, name: str) -> bool:
        """Whether a line names the output ``name``: whisper-cli wrote a file of that name here."""
        with self._lock:
            return name in self._entries

    def claim(self, path: Path, source: str | None = None) -> Claim:
        """Whose the file at ``path`` (in this folder) is; among the lines that match its
        content, the newest that names the input ``source`` (an ``input_path``), else the newest."""
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
        matches = [e for e in reversed(candidates) if e.sha256 == digest]
        mine = [e for e in matches if e.input is not None and e.input.path == source]
        return Claim(State.ours, (mine or matches)[0]) if matches else Claim(State.foreign)

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

    def claim(self, path: Path, source: str | None = None) -> Claim:
        """Whose the file at ``path`` is (see ``Ledger.claim``)."""
        return self.of(path).claim(path, source)


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "a FIFO" if stat.S_ISFIFO(mode) else "a device or socket"


def record_outputs(ledgers: Ledgers, written: list[tuple[Path, Entry]]) -> None:
    """Append each output's entry to the ledger of its folder (one write per folder)."""
    by_folder: dict[str, tuple[Ledger, list[Entry]]] = {}
    for path, entry in written:
        ledger = ledgers.of(path)
        by_folder.setdefault(os.path.abspath(ledger.folder), (ledger, []))[1].append(entry)
    for ledger, entries in by_folder.values():
        ledger.record(entries)
