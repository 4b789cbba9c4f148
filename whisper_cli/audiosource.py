"""Name an audio input for messages, and open it once, or fail with one clear cause."""

from __future__ import annotations

import errno
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from whisper_cli.errors import AudioError

STDIN = "-"
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


def open_input(path: Path, name: str) -> BinaryIO:
    """Open the file once: both decoders read this one handle, so a file deleted or
    replaced while it is being read is still read as it was when opened."""
    stream = _open_path(path, name)
    try:
        if stream.seekable():
            empty = os.fstat(stream.fileno()).st_size == 0
        else:  # a pipe, e.g. <(curl …): both decoders need to seek
            with stream:
                stream = io.BytesIO(stream.read())  # type: ignore[assignment]
            empty = not stream.getbuffer().nbytes  # type: ignore[attr-defined]
    except OSError as exc:
        stream.close()
        raise AudioError(name, f"cannot read ({exc.strerror or exc})") from None
    if empty:
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


@contextmanager
def read_errors(name: str) -> Iterator[None]:
    """Turn the OS's reasons a decode can fail midway into our one-line AudioError."""
    try:
        yield
    except MemoryError:
        raise AudioError(name, "not enough memory to decode") from None
    except OSError as exc:
        raise AudioError(name, f"cannot read ({exc.strerror or exc})") from None
