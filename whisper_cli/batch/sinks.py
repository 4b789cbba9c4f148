"""Where a writer's text goes: stdout, or a file that appears only once it is complete."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import logging
import os
import secrets
import stat
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from whisper_cli.core.errors import OutputError

try:
    import fcntl
except ImportError:  # Windows: stale temp files cannot be told from live ones, and are kept
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

PARTIAL_PREFIX = ".whisper-cli-partial-"  # temp files carry it; never mistaken for output
# A temp file is locked by its writer for its whole life; an unlocked one older than this
# belongs to a run that was killed (SIGKILL, power loss). The age covers the instant
# between a temp file's creation and its lock.
STALE_AFTER = 10.0  # seconds


class _SharedStdout:
    """stdout for writers in several threads (-o -): each write lands whole, a line never
    split by another input's."""

    _lock = threading.Lock()

    def write(self, text: str) -> int:
        with self._lock:
            return sys.stdout.write(text)

    def flush(self) -> None:
        with self._lock:
            sys.stdout.flush()


class StdoutSink:
    """The process's stdout; nothing to commit or undo."""

    label = "<stdout>"

    def open(self) -> TextIO:
        """The text stream to write to."""
        return _SharedStdout()  # type: ignore[return-value]  # writers only write and flush

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
                fd = os.open(self._tmp, _CREATE_FLAGS, 0o600)
                if fcntl is not None:
                    fcntl.flock(fd, fcntl.LOCK_EX)  # held until committed or discarded: "in use"
                return fd
            except FileExistsError:
                self._tmp = None  # another file's name: not ours to discard
            except OSError:
                self._tmp = None
                raise
        raise FileExistsError(errno.EEXIST, "no free temp file name")

    def seal(self) -> tuple[str, int]:
        """Flush the temp file to disk; return its content's SHA-256 and size (for the ledger)."""
        assert self._file is not None and self._tmp is not None
        try:
            self._file.flush()
            os.fsync(self._file.fileno())
            os.chmod(self._tmp, 0o666 & ~_UMASK)  # created 0600
            return file_digest(self._tmp)
        except OSError as exc:
            self.discard()
            raise OutputError(f"{self.label}: cannot write ({_cause(exc)})") from None

    def commit(self) -> None:
        """Seal (if not yet) and rename into place."""
        assert self._file is not None and self._tmp is not None
        self.seal()
        try:
            os.replace(self._tmp, self.path)
            self._file.close()
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


def file_digest(path: Path | str) -> tuple[str, int]:
    """SHA-256 and size of a file's content (what the ledger records of an output)."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def remove_stale_partials(folder: Path) -> int:
    """Remove the temp files that killed runs left in ``folder``; return how many.

    A temp file still locked belongs to a live run (this one or another) and is left.
    """
    if fcntl is None:
        return 0
    removed = 0
    try:
        names = [e.name for e in os.scandir(folder) if e.name.startswith(PARTIAL_PREFIX)]
    except OSError:
        return 0
    for name in names:
        path = folder / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode) or time.time() - st.st_mtime < STALE_AFTER:
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            path.unlink()
            removed += 1
        except OSError:  # locked (in use), or gone meanwhile
            continue
        finally:
            os.close(fd)
    if removed:
        log.info("%s: removed %d partial file(s) left by a run that was killed", folder, removed)
    return removed


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
