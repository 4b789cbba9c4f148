"""The live stream's audio between the reader thread and the decoder: bounded, so memory stays flat."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable

import numpy as np

from whisper_cli.core.errors import AudioError, WhisperCliError, first_line


class AudioBuffer:
    """Samples of the stream from ``base`` to ``end`` (sample indices since the stream began).

    The reader appends and never waits: when more than ``limit`` samples are held (the
    decoder fell that far behind), the oldest are dropped and counted in ``dropped``.
    The decoder reads windows, and releases what it no longer needs.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.base = 0
        self.end = 0
        self.dropped = 0
        self.closed = False
        self.error: WhisperCliError | None = None
        self._chunks: deque[np.ndarray] = deque()
        self._cond = threading.Condition()

    def append(self, block: np.ndarray) -> None:
        """Add the next samples (ignored once closed)."""
        with self._cond:
            if self.closed or not len(block):
                return
            self._chunks.append(block)
            self.end += len(block)
            while self.end - self.base > self.limit and len(self._chunks) > 1:
                self.dropped += len(self._chunks[0])
                self.base += len(self._chunks.popleft())
            self._cond.notify_all()

    def close(self, error: WhisperCliError | None = None) -> None:
        """No more audio: the stream ended, failed (``error``), or the run is stopping."""
        with self._cond:
            if not self.closed:
                self.closed, self.error = True, error
            self._cond.notify_all()

    def wait(self, until: int, timeout: float = 0.25) -> tuple[int, bool]:
        """Wait (at most ``timeout`` s) until ``until`` samples arrived or the stream closed;
        return (end, closed)."""
        with self._cond:
            self._cond.wait_for(lambda: self.end >= until or self.closed, timeout)
            return self.end, self.closed

    def read(self, start: int, stop: int) -> np.ndarray:
        """The samples [start, stop) that are still held, as one array."""
        with self._cond:
            parts, at = [], self.base
            for chunk in self._chunks:
                lo, hi = max(start, at), min(stop, at + len(chunk))
                if lo < hi:
                    parts.append(chunk[lo - at : hi - at])
                at += len(chunk)
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)

    def release(self, upto: int) -> None:
        """Forget whole chunks that end at or before sample ``upto``."""
        with self._cond:
            while self._chunks and self.base + len(self._chunks[0]) <= upto:
                self.base += len(self._chunks.popleft())


def fill(buffer: AudioBuffer, blocks: Iterable[np.ndarray]) -> None:
    """The reader thread: put the source's blocks into ``buffer`` until it ends or fails."""
    error: WhisperCliError | None = None
    try:
        for block in blocks:
            if buffer.closed:
                break
            buffer.append(np.asarray(block, np.float32))
    except WhisperCliError as exc:
        error = exc
    except MemoryError:  # its message is empty
        error = AudioError("<stdin>", "cannot read (out of memory)")
    except (OSError, ValueError) as exc:  # nothing may escape a thread unseen
        error = AudioError("<stdin>", f"cannot read ({first_line(exc)})")
    finally:
        buffer.close(error)
