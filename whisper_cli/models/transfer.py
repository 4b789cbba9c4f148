"""A file's body from the Hub into its partial file: each byte counted on arrival; a progress deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from http.client import HTTPException, HTTPResponse
from typing import BinaryIO

from whisper_cli.models.http import Failed, progress_timeout
from whisper_cli.models.hubcache import format_size

CHUNK = 1 << 16  # bytes per read at most: the bar moves, and a stop is seen, at least this often
PROGRESS_BYTES = 64_000  # "useful progress": this much within the progress deadline


def copy_body(
    response: HTTPResponse, out: BinaryIO, got: int, size: int, name: str, arrived: Callable[[bytes], None]
) -> None:
    """Write ``response``'s body to ``out`` until the file (``size`` bytes, ``got`` of them there
    already) is whole, calling ``arrived`` with each piece once it is written.

    Each read returns what the socket has (``read1``), so bytes that came before a stall are
    written and counted, not lost with an unfinished read. The read timeout bounds each wait
    for bytes; the progress deadline bounds a trickle: less than PROGRESS_BYTES in
    ``progress_timeout()`` seconds fails the file (what came stays, for the next run to resume).

    Raises:
        Failed: the server stopped, trickled or cut the connection, said with the bytes received.
    """
    deadline = progress_timeout()
    mark, marked = got, time.monotonic()
    while got < size:
        chunk = _read(response, min(CHUNK, size - got), _where(got, size, name))
        out.write(chunk)
        got += len(chunk)
        arrived(chunk)
        now = time.monotonic()
        if got - mark >= PROGRESS_BYTES:
            mark, marked = got, now
        elif got < size and now - marked > deadline:
            slow = f"less than {format_size(PROGRESS_BYTES)} in {deadline:g} s"
            raise Failed(f"the download stalled ({slow}) {_where(got, size, name)}")


def _read(response: HTTPResponse, size: int, where: str) -> bytes:
    try:
        chunk = response.read1(size)
    except TimeoutError:
        raise Failed(f"the server stopped sending {where}") from None
    except (OSError, HTTPException):
        chunk = b""
    if not chunk:  # http.client returns b"" when the connection closes before Content-Length
        raise Failed(f"the connection was cut {where}")
    return chunk


def _where(got: int, size: int, name: str) -> str:
    return f"after {format_size(got)} of {format_size(size)} of {name}; run again to resume"
