"""Where a RIFF/WAVE file's audio really ends, and a view of the file whose header says so."""

from __future__ import annotations

import io
import logging
import struct
from dataclasses import dataclass
from typing import BinaryIO, Protocol

log = logging.getLogger(__name__)

UNSET = 0xFFFFFFFF  # the size a writer that cannot seek back leaves (ffmpeg -f wav to a pipe)
_MAX_CHUNKS = 1024  # chunk headers walked looking for "data": real files have a handful


class Seekable(Protocol):
    """What libsndfile's virtual I/O needs of a stream."""

    def seek(self, offset: int, whence: int = ..., /) -> int: ...
    def tell(self) -> int: ...
    def read(self, size: int = ..., /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class DataChunk:
    """A WAV's data chunk: where its audio starts, the size its header declares, the size the file holds."""

    start: int  # offset of the first audio byte; the size field is the 4 bytes before it
    declared: int  # bytes
    held: int  # bytes of whole frames actually there
    byte_rate: int
    block_align: int  # bytes per frame (per block for ADPCM and the like)

    @property
    def agrees(self) -> bool:
        """Whether the header's length is the file's, to the frame."""
        return self.declared // self.block_align == self.held // self.block_align

    @property
    def needs_new_header(self) -> bool:
        """True when libsndfile would stop short of the audio (or guess) with the header as it is."""
        return not self.agrees and (self.declared < self.held or self.declared == UNSET)


def find_data_chunk(stream: Seekable) -> DataChunk | None:
    """The data chunk of a RIFF/WAVE ``stream``; None for anything else or a header too damaged
    to walk (the decoders then report it). Only chunk headers are read; the stream is left at 0."""
    try:
        return _walk(stream, stream.seek(0, io.SEEK_END))
    finally:
        stream.seek(0)


def _walk(stream: Seekable, size: int) -> DataChunk | None:
    stream.seek(0)
    riff = stream.read(12)
    if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:] != b"WAVE":
        return None  # RF64/BW64 keep their sizes in a ds64 chunk, and 0xFFFFFFFF here is right
    pos, rates = 12, None
    for _ in range(_MAX_CHUNKS):
        stream.seek(pos)
        header = stream.read(8)
        if len(header) < 8:
            return None
        chunk_id, chunk_size = header[:4], int.from_bytes(header[4:], "little")
        if chunk_id == b"fmt ":
            fmt = stream.read(14)  # format, channels, rate, byte rate, block align
            rates = struct.unpack("<8xIH", fmt) if len(fmt) == 14 else None
        elif chunk_id == b"data":
            if rates is None or 0 in rates:
                return None
            return _measure(stream, pos + 8, chunk_size, size, *rates)
        pos += 8 + chunk_size + (chunk_size & 1)  # chunks are padded to even sizes
    return None


def _measure(stream: Seekable, start: int, declared: int, size: int, byte_rate: int, align: int) -> DataChunk:
    available = size - start
    end = start + declared
    if declared < available and any(_is_chunk(stream, at, size) for at in {end, end + (declared & 1)}):
        held = declared  # metadata (LIST, id3, cue …) follows the audio, as it may
    else:
        held = available - available % align
    return DataChunk(start, declared, held, byte_rate, align)


def _is_chunk(stream: Seekable, at: int, size: int) -> bool:
    """Whether a plausible chunk header is at ``at``: a printable ASCII id and a size that fits."""
    if at + 8 > size:
        return False
    stream.seek(at)
    header = stream.read(8)
    chunk_id, chunk_size = header[:4], int.from_bytes(header[4:], "little")
    return all(0x20 <= b < 0x7F for b in chunk_id) and chunk_id != b"    " and at + 8 + chunk_size <= size


def corrected(stream: BinaryIO, chunk: DataChunk) -> Seekable:
    """``stream`` as libsndfile should see it: RIFF and data sizes that cover the audio held."""
    if not chunk.needs_new_header:
        return stream
    most = UNSET - 1 - (UNSET - 1) % chunk.block_align  # a 32-bit field; UNSET itself means "unknown"
    data_size = min(chunk.held, most)
    riff_size = min(chunk.start + data_size - 8, UNSET - 1)
    patches = ((4, struct.pack("<I", riff_size)), (chunk.start - 4, struct.pack("<I", data_size)))
    return PatchedHeader(stream, patches)


def report(chunk: DataChunk, name: str) -> None:
    """Log once how the header and the file disagree: a warning, or a note for an unset size."""
    if chunk.agrees:
        return
    held = chunk.held / chunk.byte_rate
    if chunk.declared == UNSET:
        log.info("%s: the WAV header leaves the length unset; reading all %.1f s", name, held)
        return
    announced, holds = _distinct(chunk.declared / chunk.byte_rate, held)
    outcome = "; transcribing all of it" if chunk.declared < chunk.held else " (truncated?)"
    log.warning(
        "%s: the WAV header announces %s s of audio but the file holds %s s%s",
        name,
        announced,
        holds,
        outcome,
    )


def _distinct(a: float, b: float) -> tuple[str, str]:
    """Two durations with one decimal, or as many more as it takes to tell them apart."""
    digits = next((d for d in range(1, 7) if f"{a:.{d}f}" != f"{b:.{d}f}"), 1)
    return f"{a:.{digits}f}", f"{b:.{digits}f}"


class PatchedHeader:
    """A stream read through as it is, except for a few replaced bytes (the file is untouched).

    Nothing is read ahead or held: an hours-long file costs what reading it costs.
    """

    def __init__(self, stream: BinaryIO, patches: tuple[tuple[int, bytes], ...]) -> None:
        self._stream = stream
        self._patches = patches
        self._patched_end = max(at + len(new) for at, new in patches)

    def seek(self, offset: int, whence: int = io.SEEK_SET, /) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()

    def read(self, size: int = -1, /) -> bytes:
        start = self._stream.tell()
        data = self._stream.read(size)
        if start >= self._patched_end:
            return data  # past the header: every read after the first few
        for at, new in self._patches:
            lo, hi = max(at, start), min(at + len(new), start + len(data))
            if lo < hi:
                data = data[: lo - start] + new[lo - at : hi - at] + data[hi - start :]
        return data
