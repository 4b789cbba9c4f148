"""Read any audio or video input whole as 16 kHz mono float32, or fail with one clear cause."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

import numpy as np

from whisper_cli.audio.decoders import (
    BLOCK,
    SAMPLE_RATE,
    SNDFILE_MAGIC,
    QuietSeeks,
    announced_seconds,
    av_open,
    av_samples,
    downmix,
    sndfile_view,
)
from whisper_cli.audio.source import STDIN, AudioSource, display_name, open_input, read_errors, read_stream
from whisper_cli.audio.stream import audio_duration, iter_audio
from whisper_cli.audio.wavheader import Seekable
from whisper_cli.core.errors import AudioError

log = logging.getLogger(__name__)

__all__ = [
    "SAMPLE_RATE",
    "STDIN",
    "AudioSource",
    "audio_duration",
    "display_name",
    "iter_audio",
    "load_audio",
]

_MAX_PREALLOCATED = 48 * 3600 * SAMPLE_RATE  # samples: longer claims are not trusted up front


def load_audio(source: AudioSource, *, give_up: Callable[[], str | None] | None = None) -> np.ndarray:
    """Decode ``source`` (a path, or "-" for stdin) to float32 mono samples at 16 kHz.

    ``give_up``: for a FIFO with no writer, polled while waiting for one (``open_input``).

    Raises:
        AudioError: the input is missing, unreadable, not audio, corrupt or empty.
    """
    name = display_name(source)
    if str(source) == STDIN:
        data = read_stream(sys.stdin.buffer, name)
        if not data.getbuffer().nbytes:
            raise AudioError(name, "no data on standard input")
        return _decode(data, name)
    with open_input(Path(source), name, give_up) as stream:
        return _decode(stream, name)


def _decode(stream: BinaryIO, name: str) -> np.ndarray:
    with read_errors(name):
        samples = _decode_soundfile(sndfile_view(stream, warn_as=name))
        if samples is None:
            stream.seek(0)
            samples = _decode_av(stream, name)
    if samples.size == 0:
        raise AudioError(name, "contains no audio samples")
    return samples


def _decode_soundfile(stream: Seekable) -> np.ndarray | None:
    """Decode with libsndfile; None when it does not know the format or fails mid-file."""
    import soundfile

    head = stream.read(4)
    stream.seek(0)
    if head not in SNDFILE_MAGIC:
        return None
    try:
        with soundfile.SoundFile(QuietSeeks(stream)) as sf:
            rate, channels = sf.samplerate, sf.channels
            # BLOCK samples per read whatever the channel count: a header claiming
            # 1,024 channels must not make one read take a gigabyte
            frames = max(1024, BLOCK // channels)
            blocks = (
                downmix(block) for block in sf.blocks(blocksize=frames, dtype="float32", always_2d=True)
            )
            return _resample(blocks, rate, expected=sf.frames)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        log.debug("soundfile cannot decode this input (%s); trying PyAV", exc)
        return None


class _Samples:
    """The decoded samples, in an array sized once from the expected length.

    Joining a list of blocks at the end would hold a long file twice at its peak; an
    array of the announced length is filled in place instead. Its pages are only touched
    as they are filled, so a header announcing far more than the file holds costs
    address space, not memory; samples beyond the announced length are still kept.
    """

    def __init__(self, expected: int) -> None:
        try:
            self._buf = np.empty(min(max(expected, 0), _MAX_PREALLOCATED), np.float32)
        except MemoryError:
            self._buf = np.empty(0, np.float32)
        self._size = 0
        self._extra: list[np.ndarray] = []

    def add(self, block: np.ndarray) -> None:
        room = min(len(block), len(self._buf) - self._size)
        self._buf[self._size : self._size + room] = block[:room]
        self._size += room
        if room < len(block):
            self._extra.append(np.array(block[room:], np.float32))

    def __len__(self) -> int:
        return self._size + sum(len(b) for b in self._extra)

    def array(self) -> np.ndarray:
        if self._extra:
            return np.concatenate([self._buf[: self._size], *self._extra])
        self._buf.resize(self._size, refcheck=False)  # shrinks in place: no second copy
        return self._buf


def _resample(blocks: Iterable[np.ndarray], rate: int, *, expected: int) -> np.ndarray:
    """Join mono float32 blocks at ``rate`` (``expected`` frames) into one 16 kHz array."""
    out = _Samples(-(-expected * SAMPLE_RATE // rate) + SAMPLE_RATE)
    if rate == SAMPLE_RATE:
        for block in blocks:
            out.add(block)
        return out.array()
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    pts = 0
    first: np.ndarray | None = None
    for block in blocks:
        first = block if first is None else first
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(block, dtype=np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = rate
        frame.pts = pts
        pts += block.shape[0]
        for f in resampler.resample(frame):
            out.add(f.to_ndarray().reshape(-1))
    for f in resampler.resample(None):
        out.add(f.to_ndarray().reshape(-1))
    length = max(1, round(pts * SAMPLE_RATE / rate))  # never nothing from something
    if first is not None and pts == len(first) and (not len(out) or len(out) + 2 < length):
        return _interpolate(first, rate, length)  # libswresample keeps back all of a few-ms input
    return out.array()


def _interpolate(samples: np.ndarray, rate: int, length: int) -> np.ndarray:
    """Linear resampling to ``length`` samples, for inputs too short for libswresample's filter."""
    positions = np.arange(length) * (rate / SAMPLE_RATE)
    return np.interp(positions, np.arange(len(samples)), samples).astype(np.float32)


def _decode_av(stream: BinaryIO, name: str) -> np.ndarray:
    """Decode compressed audio or a video's first audio stream with PyAV."""
    with av_open(stream, name) as container:
        out = _Samples(_expected_samples(container))
        for block in av_samples(container, name):
            out.add(block)
    if not len(out):
        raise AudioError(name, "cannot decode audio (no audio frames in it: damaged or not audio)")
    return out.array()


def _expected_samples(container: object) -> int:
    """The 16 kHz length the container announces (0 when it does not say)."""
    seconds = announced_seconds(container)
    return 0 if seconds is None else int(seconds * SAMPLE_RATE * 1.01) + SAMPLE_RATE
