"""Name an audio input for messages; open it once: a file in place, a pipe or device as a bounded stream."""

from __future__ import annotations

import errno
import io
import os
import select
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from whisper_cli.audio.decoders import check_media
from whisper_cli.core.errors import AudioError

STDIN = "-"
HEAD_BYTES = 1 << 20  # of a stream, looked at before reading on: /dev/zero must not be read blind
# A pipe, device or stdin is held whole, since both decoders seek. 2 GiB is over 3 hours of
# 48 kHz stereo 16-bit WAV, or days of compressed audio, and with its decoded samples (a third
# of such a WAV's size) still fits in 4 GiB of free memory. Regular files are not bounded:
# they are read in place, and streamed when long.
MAX_STREAM_BYTES = 2 << 30
WRITER_POLL_MS = 200  # how often a FIFO with no writer asks whether to go on waiting

AudioSource = str | Path

_SPELLED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def display_name(source: AudioSource) -> str:
    """A file name fit for one line on a terminal: stdin named, every unprintable character
    and undecodable byte escaped, and quotes when it starts or ends with a space."""
    if str(source) == STDIN:
        return "<stdin>"
    text = os.fsencode(source).decode("utf-8", "backslashreplace")
    if not text.isprintable():  # control characters (ESC colours a terminal), line separators …
        text = "".join(char if char.isprintable() else _escaped(char) for char in text)
    return f"'{text}'" if text != text.strip(" ") else text


def _escaped(char: str) -> str:
    if char in _SPELLED:
        return _SPELLED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def open_input(path: Path, name: str, give_up: Callable[[], str | None] | None = None) -> BinaryIO:
    """Open the file once: both decoders read this one handle, so a file deleted or replaced
    while it is being read is still read as it was when opened. A regular file is used as it
    is; anything else (a FIFO, ``<(curl …)``, a device) is read as a stream.

    ``give_up``: polled while a FIFO has no writer (a few times a second); once it returns
    a reason, the input fails with it. None: wait for the writer as open(2) does.
    """
    stream = _open_path(path, name) if give_up is None else _open_when_written(path, name, give_up)
    try:
        info = os.fstat(stream.fileno())
    except OSError as exc:
        stream.close()
        raise AudioError(name, f"cannot read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(info.st_mode):  # /dev/zero is seekable and 0 bytes long, and endless
        with stream:
            held = read_stream(stream, name)
        if _is_empty(held):
            raise AudioError(name, "empty file (0 bytes)")
        return held
    if info.st_size == 0:
        stream.close()
        raise AudioError(name, "empty file (0 bytes)")
    return stream


def _open_path(path: Path, name: str) -> BinaryIO:
    try:
        return path.open("rb")
    except FileNotFoundError:
        cause = "broken symbolic link" if path.is_symlink() else "no such file"
        raise AudioError(name, cause) from None
    except IsADirectoryError:
        raise AudioError(name, "is a directory, not an audio file") from None
    except PermissionError:
        raise AudioError(name, "permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise AudioError(name, "symbolic link loop") from None
        raise AudioError(name, f"cannot read ({exc.strerror or exc})") from None


def _open_when_written(path: Path, name: str, give_up: Callable[[], str | None]) -> BinaryIO:
    """Open without blocking, then wait until there is something to read (a FIFO's writer
    came, and wrote or left) or ``give_up`` says to stop waiting."""
    if not hasattr(select, "poll"):  # Windows: no FIFOs to wait for
        return _open_path(path, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return _open_path(path, name)  # the same failure, said as for any input
    try:
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        while not poller.poll(WRITER_POLL_MS):
            if (reason := give_up()) is not None:
                raise AudioError(name, reason)
        os.set_blocking(fd, True)
        return open(fd, "rb", closefd=True)
    except BaseException:
        os.close(fd)
        raise


def read_stream(raw: BinaryIO, name: str) -> io.BytesIO:
    """All of a pipe, device or stdin, in memory, once its first bytes look like media, and
    at most MAX_STREAM_BYTES of it (AudioError past that)."""
    held = io.BytesIO()
    with read_errors(name):
        head = _read_up_to(raw, HEAD_BYTES)
        held.write(head)
        if len(head) < HEAD_BYTES:
            held.seek(0)
            return held  # all of it: the decoders tell what it is, with their own causes
        check_media(head, name)
        while block := raw.read(HEAD_BYTES):
            if held.tell() + len(block) > MAX_STREAM_BYTES:
                limit = _size_text(MAX_STREAM_BYTES)
                cause = f"more than {limit} from a pipe or device, too much to hold; save it to a file first"
                raise AudioError(name, cause)
            held.write(block)
    held.seek(0)
    return held


def _read_up_to(raw: BinaryIO, size: int) -> bytes:
    """``size`` bytes, or fewer at the end: a pipe may hand them over in pieces."""
    parts, got = [], 0
    while got < size and (part := raw.read(size - got)):
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def _is_empty(stream: io.BytesIO) -> bool:
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    return size == 0


def _size_text(size: int) -> str:
    return f"{size >> 30} GiB" if size % (1 << 30) == 0 else f"{size >> 20} MiB"


@contextmanager
def read_errors(name: str) -> Iterator[None]:
    """Turn the OS's reasons a decode can fail midway into our one-line AudioError."""
    try:
        yield
    except MemoryError:
        raise AudioError(name, "not enough memory to decode") from None
    except OSError as exc:
        raise AudioError(name, f"cannot read ({exc.strerror or exc})") from None
