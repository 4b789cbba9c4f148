"""Live stdin decoded as it arrives: WAV of unknown length, raw PCM, or a container PyAV streams."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np

from whisper_cli.audio.decoders import SAMPLE_RATE, av_cause, av_samples, flushed
from whisper_cli.core.errors import AudioError
from whisper_cli.settings import RawFormat

NAME = "<stdin>"
READ_BYTES = 1 << 14  # per read: a pipe hands over what it has, up to this; small keeps latency low
# A WAV data size a writer puts when it cannot know the length (ffmpeg: 0xFFFFFFFF, arecord:
# 0x7FFFFFFF less the header, sox: 0 or 0x7FFFF000): read on to the end of the stream instead.
_UNKNOWN_SIZE = 0x7FFF0000
_WAV_FLOAT, _WAV_PCM, _WAV_EXTENSIBLE = 3, 1, 0xFFFE
# PyAV reads a pipe with small probes: the first text waits on no more than this much audio.
_AV_OPTIONS = {"probesize": "65536", "analyzeduration": "1000000"}
_WAV_ENCODINGS = {
    (_WAV_PCM, 8): "u8",
    (_WAV_PCM, 16): "s16le",
    (_WAV_PCM, 32): "s32le",
    (_WAV_FLOAT, 32): "f32le",
}
_DTYPES = {"s16le": ("<i2", 32768.0, 0.0), "s32le": ("<i4", 2147483648.0, 0.0), "u8": ("u1", 128.0, 128.0)}


class ByteStream:
    """A file descriptor read as it fills (a read returns what the pipe holds), with the first
    bytes looked at and put back; PyAV reads it like a file it cannot seek."""

    def __init__(self, fd: int, head: bytes = b"") -> None:
        self.fd = fd
        self._head = head

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes, as soon as any are there; b"" at the end."""
        size = READ_BYTES if size is None or size < 0 else size
        if self._head:
            part, self._head = self._head[:size], self._head[size:]
            return part
        try:
            return os.read(self.fd, size)
        except OSError as exc:
            raise AudioError(NAME, f"cannot read ({exc.strerror or exc})") from None

    def exactly(self, size: int) -> bytes:
        """``size`` bytes, or fewer only at the end of the stream."""
        parts, got = [], 0
        while got < size and (part := self.read(size - got)):
            parts.append(part)
            got += len(part)
        return b"".join(parts)

    def push_back(self, data: bytes) -> None:
        """Make ``data`` the next bytes read."""
        self._head = data + self._head


def live_blocks(raw: RawFormat | None, fd: int = 0) -> Iterator[np.ndarray]:
    """16 kHz mono float32 blocks of the stream on ``fd`` as they arrive.

    Raises:
        AudioError: the stream is not audio (one line naming the cause), or cannot be read.
    """
    stream = ByteStream(fd)
    if raw is not None:
        yield from _pcm(stream, raw.encoding, raw.rate, raw.channels, None)
        return
    head = stream.exactly(12)
    if not head:
        raise AudioError(NAME, "empty stream (no bytes before the end)")
    stream.push_back(head)
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        yield from _wav(stream)
    else:
        yield from _container(stream)


def _wav(stream: ByteStream) -> Iterator[np.ndarray]:
    """A WAV header read chunk by chunk up to ``data``; then its samples as they come."""
    stream.exactly(12)
    fmt: tuple[str, int, int] | None = None
    while True:
        header = stream.exactly(8)
        if len(header) < 8:
            raise AudioError(NAME, "cannot decode audio (a WAV stream that ends before its audio)")
        kind, size = header[:4], struct.unpack("<I", header[4:])[0]
        if kind == b"data":
            if fmt is None:
                raise AudioError(NAME, "cannot decode audio (a WAV stream with no format before its data)")
            limit = None if size == 0 or size >= _UNKNOWN_SIZE else size
            yield from _pcm(stream, *fmt, limit)
            return
        body = stream.exactly(size + (size & 1))  # chunks are padded to even sizes
        if kind == b"fmt ":
            fmt = _wav_format(body)


def _wav_format(body: bytes) -> tuple[str, int, int]:
    """(encoding, rate, channels) from a WAV ``fmt `` chunk; AudioError for what is not PCM."""
    if len(body) < 16:
        raise AudioError(NAME, "cannot decode audio (a damaged WAV format chunk)")
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == _WAV_EXTENSIBLE and len(body) >= 26:
        tag = struct.unpack("<H", body[24:26])[0]  # the sub-format GUID's first two bytes
    encoding = _WAV_ENCODINGS.get((tag, bits))
    if encoding is None or channels == 0 or rate == 0:
        cause = f"WAV encoding {tag}, {bits}-bit samples, is not streamed; use 16-bit PCM (-c:a pcm_s16le)"
        raise AudioError(NAME, f"cannot decode audio ({cause})")
    return encoding, rate, channels


def _pcm(
    stream: ByteStream, encoding: str, rate: int, channels: int, limit: int | None
) -> Iterator[np.ndarray]:
    """Samples of headerless PCM, downmixed and resampled; a partial last frame is dropped."""
    frame = channels * (1 if encoding == "u8" else 2 if encoding == "s16le" else 4)
    resampler = Resampler(rate)
    left, pending = limit, b""
    while left is None or left > 0:
        data = stream.read(READ_BYTES if left is None else min(READ_BYTES, left))
        if not data:
            break
        if left is not None:
            left -= len(data)
        data = pending + data
        whole = len(data) - len(data) % frame
        pending = data[whole:]
        if whole:
            yield from resampler.feed(_samples(data[:whole], encoding, channels))
    yield from resampler.flush()


def _samples(data: bytes, encoding: str, channels: int) -> np.ndarray:
    """Mono float32 in [-1, 1] from whole PCM frames."""
    if encoding == "f32le":
        samples = np.frombuffer(data, "<f4").astype(np.float32)
        np.nan_to_num(samples, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
    else:
        dtype, scale, offset = _DTYPES[encoding]
        samples = ((np.frombuffer(data, dtype).astype(np.float32) - offset) / scale).astype(np.float32)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return samples


class Resampler:
    """Mono float32 at any rate to 16 kHz, block by block (PyAV's swresample keeps the state)."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._resampler: Any = None
        if rate != SAMPLE_RATE:
            import av

            self._resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)

    def feed(self, samples: np.ndarray) -> Iterator[np.ndarray]:
        """The 16 kHz samples ready after ``samples``."""
        if self._resampler is None:
            yield samples
            return
        import av

        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = self.rate
        for out in self._resampler.resample(frame):
            yield out.to_ndarray().reshape(-1)

    def flush(self) -> Iterator[np.ndarray]:
        """What the resampler still holds, at the end of the stream."""
        if self._resampler is not None:
            yield from flushed(self._resampler)


def _container(stream: ByteStream) -> Iterator[np.ndarray]:
    """Ogg, MP3, MPEG-TS, Matroska/WebM, FLAC …: PyAV reads the pipe and decodes as it goes."""
    import av

    try:
        container = av.open(stream, mode="r", options=_AV_OPTIONS, metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise AudioError(NAME, f"cannot decode audio (not an audio stream: {av_cause(exc)})") from None
    with container:
        if not container.streams.audio:
            raise AudioError(NAME, "cannot decode audio (no audio stream)")
        yield from av_samples(container, NAME)
