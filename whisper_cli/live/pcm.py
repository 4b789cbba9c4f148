"""PCM bytes from a pipe as 16 kHz mono samples: the stream read as it fills, whole frames, resampling."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from whisper_cli.audio.decoders import SAMPLE_RATE, flushed
from whisper_cli.core.errors import AudioError

NAME = "<stdin>"
READ_BYTES = 1 << 14  # per read: a pipe hands over what it has, up to this; small keeps latency low
_START_LENGTH = 12  # RIFF <size> WAVE: where another WAV begins (cat a.wav b.wav, a writer restarted)
_DTYPES = {"s16le": ("<i2", 32768.0, 0.0), "s32le": ("<i4", 2147483648.0, 0.0), "u8": ("u1", 128.0, 128.0)}
Block = np.ndarray  # 16 kHz mono float32 samples
_WIDTHS = {"u8": 1, "s16le": 2, "s32le": 4, "f32le": 4}


class ByteStream:
    """A file descriptor read as it fills (a read returns what the pipe holds), with the first
    bytes looked at and put back; PyAV reads it like a file it cannot seek."""

    def __init__(self, fd: int, head: bytes = b"") -> None:
        self.fd = fd
        self._head = head

    def read(self, size: int = -1) -> bytes:
        """Up to ``size`` bytes, as soon as any are there; b"" at the end."""
        size = READ_BYTES if size is None or size < 0 else min(size, READ_BYTES)
        if self._head:
            part, self._head = self._head[:size], self._head[size:]
            return part
        try:
            return os.read(self.fd, size)
        except OSError as exc:
            raise AudioError(NAME, f"cannot read ({exc.strerror or exc})") from None

    def exactly(self, size: int) -> bytes:
        """``size`` bytes, or fewer only at the end of the stream (callers keep ``size`` small)."""
        parts, got = [], 0
        while got < size and (part := self.read(size - got)):
            parts.append(part)
            got += len(part)
        return b"".join(parts)

    def skip(self, size: int) -> int:
        """Read and drop ``size`` bytes, a piece at a time; return how many there were."""
        left = size
        while left > 0 and (part := self.read(left)):
            left -= len(part)
        return size - left

    def push_back(self, data: bytes) -> None:
        """Make ``data`` the next bytes read."""
        self._head = data + self._head


@dataclass(frozen=True)
class PcmFormat:
    """How headerless samples are laid out: ``encoding`` (s16le, s32le, f32le, u8), rate, channels."""

    encoding: str
    rate: int
    channels: int

    @property
    def frame(self) -> int:
        """Bytes per frame (one sample of every channel)."""
        return self.channels * _WIDTHS[self.encoding]

    def describe(self) -> str:
        """``s16le 16000 Hz mono``, ``f32le 48000 Hz 2 channels``."""
        layout = "mono" if self.channels == 1 else f"{self.channels} channels"
        return f"{self.encoding} {self.rate} Hz {layout}"


class PcmDecoder:
    """Whole frames of one format as 16 kHz mono blocks, over one or several stretches of the
    stream; ``frames`` counts what was decoded."""

    def __init__(self, fmt: PcmFormat) -> None:
        self.fmt = fmt
        self.frames = 0
        self._resampler = Resampler(fmt.rate)

    @property
    def seconds(self) -> float:
        """How much of the stream was decoded, in seconds."""
        return self.frames / self.fmt.rate

    def read(self, stream: ByteStream, limit: int | None, *, stop_at_wav: bool = False) -> Iterator[Block]:
        """Samples of the next ``limit`` bytes (None: up to the end of the stream); with
        ``stop_at_wav``, up to where another WAV header begins, which is put back for the
        caller. A partial frame before the end or the header is dropped."""
        frame, left, pending = self.fmt.frame, limit, b""
        held = _START_LENGTH - 1 if stop_at_wav else 0  # the start of a header the next read may finish
        while left is None or left > 0:
            data = stream.read(READ_BYTES if left is None else left)
            if not data:
                break
            if left is not None:
                left -= len(data)
            data = pending + data
            if stop_at_wav and (start := wav_start(data)) >= 0:
                stream.push_back(data[start:])
                yield from self._samples(data[: start - start % frame])
                return
            whole = max(0, len(data) - held)
            whole -= whole % frame
            pending = data[whole:]
            yield from self._samples(data[:whole])
        yield from self._samples(pending[: len(pending) - len(pending) % frame])

    def flush(self) -> Iterator[Block]:
        """What the resampler still holds, at the end of the stream."""
        yield from self._resampler.flush()

    def _samples(self, data: bytes) -> Iterator[np.ndarray]:
        if data:
            self.frames += len(data) // self.fmt.frame
            yield from self._resampler.feed(samples(data, self.fmt.encoding, self.fmt.channels))


def wav_start(data: bytes) -> int:
    """Where ``RIFF``/``RF64`` <size> ``WAVE`` begins in ``data``; -1 if nowhere."""
    at = data.find(b"WAVE", 8)
    while at >= 0:
        if data[at - 8 : at - 4] in (b"RIFF", b"RF64"):
            return at - 8
        at = data.find(b"WAVE", at + 1)
    return -1


def samples(data: bytes, encoding: str, channels: int) -> np.ndarray:
    """Mono float32 in [-1, 1] from whole PCM frames."""
    if encoding == "f32le":
        mono = np.frombuffer(data, "<f4").astype(np.float32)
        np.nan_to_num(mono, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
    else:
        dtype, scale, offset = _DTYPES[encoding]
        mono = ((np.frombuffer(data, dtype).astype(np.float32) - offset) / scale).astype(np.float32)
    if channels > 1:
        mono = mono.reshape(-1, channels).mean(axis=1, dtype=np.float32)
    return mono


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
