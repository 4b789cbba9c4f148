"""The two channels of a stereo recording, 16 kHz, block by block (--diarize channels); the
transcript itself is made from the mono mix, as for any input."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from whisper_cli.audio.decoders import (
    BLOCK,
    SAMPLE_RATE,
    SNDFILE_MAGIC,
    QuietSeeks,
    av_cause,
    av_open,
    resample_blocks,
    sndfile_view,
)
from whisper_cli.audio.source import STDIN, AudioSource, display_name, open_input, read_errors
from whisper_cli.core.errors import AudioError


def not_stereo(channels: int) -> str:
    """The cause given for an input that is not two-channel, naming its channel count."""
    count = "mono" if channels == 1 else f"{channels} channels"
    return f"{count}: --diarize channels needs a stereo recording, one speaker per channel"


def channel_count(source: AudioSource) -> int | None:
    """The file's channel count from its header, without decoding it; None when it cannot be
    told (stdin, a pipe, an unreadable file: decoding it gives the real error)."""
    if str(source) == STDIN:
        return None
    try:
        if not stat.S_ISREG(os.stat(source).st_mode):
            return None
        with open(source, "rb") as f:
            if f.read(4) in SNDFILE_MAGIC:
                import soundfile

                f.seek(0)
                with soundfile.SoundFile(QuietSeeks(sndfile_view(f, warn_as=None))) as sf:
                    return int(sf.channels)
        import av

        with av.open(os.fspath(source), metadata_errors="ignore") as container:
            if not container.streams.audio:
                return None
            return int(container.streams.audio[0].codec_context.channels)
    except Exception:  # any reason not to know: the decoder reports it properly
        return None


def iter_stereo(source: AudioSource, name: str | None = None) -> Iterator[np.ndarray]:
    """Decode ``source`` as (frames, 2) float32 blocks at 16 kHz, left channel first.

    Raises:
        AudioError: it cannot be read, or it is not two-channel.
    """
    name = name or display_name(source)
    with read_errors(name), open_input(Path(source), name) as stream:
        yield from _blocks(stream, name)


def _blocks(stream: BinaryIO, name: str) -> Iterator[np.ndarray]:
    import soundfile

    head = stream.read(4)
    stream.seek(0)
    if head in SNDFILE_MAGIC:
        try:
            sf = soundfile.SoundFile(QuietSeeks(sndfile_view(stream, warn_as=None)))
        except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError):
            stream.seek(0)  # not for libsndfile after all: PyAV below
        else:
            with sf:
                if sf.channels != 2:
                    raise AudioError(name, not_stereo(sf.channels))
                blocks = sf.blocks(blocksize=BLOCK // 2, dtype="float32", always_2d=True)
                yield from resample_blocks((np.nan_to_num(b, copy=False) for b in blocks), sf.samplerate, 2)
            return
    yield from _av_blocks(stream, name)


def _av_blocks(stream: BinaryIO, name: str) -> Iterator[np.ndarray]:
    import av

    with av_open(stream, name) as container:
        audio = container.streams.audio[0]
        channels = audio.codec_context.channels
        if channels != 2:
            raise AudioError(name, not_stereo(channels))
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=SAMPLE_RATE)
        try:
            for packet in container.demux(audio):
                try:
                    frames = packet.decode()
                except av.error.InvalidDataError:
                    continue  # one damaged packet: skip it, as ffmpeg does
                for frame in frames:
                    frame.pts = None
                    yield from _packed(resampler.resample(frame))
            yield from _packed(resampler.resample(None))
        except av.error.FFmpegError as exc:
            raise AudioError(name, f"cannot decode audio ({av_cause(exc)})") from None


def _packed(frames: Iterable[Any]) -> Iterator[np.ndarray]:
    """PyAV's packed stereo frames as (frames, 2) arrays."""
    for frame in frames:
        yield frame.to_ndarray().reshape(-1, 2)
