"""The standard streams made safe: closed ones found at start; a stderr whose reader left never stops a run.

A stream closed before the process started (``>&-``, ``2>&-``, ``<&-``) leaves its file
descriptor free, and the next file the process opens would take it: a C library's
warning on fd 2 would then land in a transcript. So each closed descriptor is pointed at
/dev/null at once and remembered, and the run refuses what needs it (a transcript on a
closed stdout, audio from a closed stdin). stderr only carries messages: when its reader
goes away (``2>&1 | grep -m1 error``, an ssh session that drops), further messages are
dropped and the work goes on.
"""

from __future__ import annotations

import io
import os
import sys
from typing import Any, TextIO

STREAMS = ("stdin", "stdout", "stderr")
closed: set[str] = set()  # the standard streams that were closed when the process started


def guard() -> None:
    """Find the closed standard streams, give them /dev/null, and make stderr never fail."""
    for fd, stream in enumerate(STREAMS):
        try:
            os.fstat(fd)
        except OSError:
            closed.add(stream)
            _reopen_on_devnull(fd, stream)
    if not isinstance(sys.stderr, SafeStream):
        sys.stderr = SafeStream(sys.stderr)  # type: ignore[assignment]


def _reopen_on_devnull(fd: int, stream: str) -> None:
    null = os.open(os.devnull, os.O_RDWR)
    if null != fd:  # the lowest free descriptor is ``fd`` unless a lower one was also closed
        os.dup2(null, fd)
        os.close(null)
    mode = "r" if stream == "stdin" else "w"
    setattr(sys, stream, io.TextIOWrapper(io.FileIO(fd, mode, closefd=False), encoding="utf-8"))


def is_closed(stream: str) -> bool:
    """Whether ``stream`` ("stdin", "stdout", "stderr") was closed when the process started."""
    return stream in closed


class SafeStream:
    """A text stream whose writes never raise: once the reader is gone, messages are dropped."""

    def __init__(self, stream: TextIO | None) -> None:
        self._stream = stream
        self.gone = stream is None

    def write(self, text: str) -> int:
        """Write ``text``, or drop it when the stream cannot take it."""
        if not self.gone:
            try:
                return self._stream.write(text)  # type: ignore[union-attr]
            except (OSError, ValueError):  # EPIPE, EIO (a hung-up terminal), closed
                self.gone = True
        return len(text)

    def flush(self) -> None:
        """Flush, or drop what cannot be delivered."""
        if not self.gone:
            try:
                self._stream.flush()  # type: ignore[union-attr]
            except (OSError, ValueError):
                self.gone = True

    def isatty(self) -> bool:
        """A terminal that is still there."""
        try:
            return not self.gone and self._stream.isatty()  # type: ignore[union-attr]
        except (OSError, ValueError):
            return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
