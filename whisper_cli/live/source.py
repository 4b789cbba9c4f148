"""Live stdin decoded as it arrives: WAV of unknown length, raw PCM, or a container PyAV streams."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from whisper_cli.audio.decoders import av_cause, av_samples
from whisper_cli.core.errors import AudioError
from whisper_cli.live.pcm import NAME, ByteStream, PcmDecoder, PcmFormat
from whisper_cli.live.wavstream import wav_blocks
from whisper_cli.settings import RawFormat

__all__ = ["NAME", "live_blocks"]

# PyAV reads a pipe with small probes: the first text waits on no more than this much audio.
_AV_OPTIONS = {"probesize": "65536", "analyzeduration": "1000000"}


def live_blocks(raw: RawFormat | None, fd: int = 0) -> Iterator[np.ndarray]:
    """16 kHz mono float32 blocks of the stream on ``fd`` as they arrive.

    Raises:
        AudioError: the stream is not audio (one line naming the cause), or cannot be read.
    """
    stream = ByteStream(fd)
    if raw is not None:
        decoder = PcmDecoder(PcmFormat(raw.encoding, raw.rate, raw.channels))  # raw PCM cannot change
        yield from decoder.read(stream, None)
        yield from decoder.flush()
        return
    head = stream.exactly(12)
    if not head:
        raise AudioError(NAME, "empty stream (no bytes before the end)")
    stream.push_back(head)
    if head[:4] in (b"RIFF", b"RF64") and head[8:12] == b"WAVE":
        yield from wav_blocks(stream)
    else:
        yield from _container(stream)


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
        yield from av_samples(container, NAME, strict=True)
