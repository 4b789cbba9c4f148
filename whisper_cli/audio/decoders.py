"""The two decoder back-ends' shared parts: which reads what, libsndfile's view, PyAV's 16 kHz blocks."""

from __future__ import annotations

import io
import itertools
import logging
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import numpy as np

from whisper_cli.audio.wavheader import Seekable, corrected, find_data_chunk, report
from whisper_cli.core.errors import AudioError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000  # Hz: what Whisper models expect
BLOCK = 1 << 18  # samples per soundfile read: bounds the working set
# soundfile (libsndfile) decodes WAV, FLAC, OGG/Vorbis and friends quickly and exactly;
# everything else (MP3, M4A, Opus, video containers) goes through PyAV, which faster-whisper
# already brings. Containers handed to libsndfile, by their first bytes. MP3 is left to PyAV
# although recent libsndfile reads it: its mpg123 prints warnings straight to fd 2 and trusts
# the Xing header's length on truncated files.
SNDFILE_MAGIC = (b"RIFF", b"RIFX", b"RF64", b"BW64", b"FORM", b"fLaC", b"OggS", b".snd", b"caff")
# First bytes that say "media" before PyAV need look: the above, an ID3 tag, Matroska/WebM.
_MEDIA_MAGIC = (*SNDFILE_MAGIC, b"ID3", b"\x1aE\xdf\xa3")


def check_media(head: bytes, name: str) -> None:
    """Raise AudioError unless ``head``, a stream's first bytes, looks like audio or video."""
    if head.startswith(_MEDIA_MAGIC) or head[4:8] == b"ftyp":  # ftyp: MP4, M4A, MOV, 3GP
        return
    import av

    try:
        with av.open(io.BytesIO(head), mode="r", metadata_errors="ignore"):
            return
    except av.error.EOFError:
        return  # a header longer than the head: the decoder reads on and decides
    except av.error.FFmpegError as exc:
        cause = f"not an audio or video file: {av_cause(exc)}"
        raise AudioError(name, f"cannot decode audio ({cause})") from None


def sndfile_view(stream: BinaryIO, *, warn_as: str | None) -> Seekable:
    """The stream as libsndfile is to read it: a WAV whose header misstates its audio's length
    gets a corrected header, and with ``warn_as`` (the input's name) the disagreement is logged."""
    chunk = find_data_chunk(stream)
    if chunk is None:
        return stream
    if warn_as is not None:
        report(chunk, warn_as)
    return corrected(stream, chunk)


class QuietSeeks:
    """The stream as libsndfile reads it. soundfile calls seek from a C callback, where an
    exception cannot propagate: it would be printed to stderr with a traceback ("Exception
    ignored from cffi callback") and decoding would go on. A damaged header can ask for a
    negative offset; that seek now leaves the position as it was, and libsndfile reports
    the file as broken itself."""

    def __init__(self, stream: Seekable) -> None:
        self._stream = stream

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        try:
            return self._stream.seek(offset, whence)
        except (OSError, ValueError, OverflowError):
            return self._stream.tell()

    def tell(self) -> int:
        return self._stream.tell()

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)


def downmix(block: np.ndarray) -> np.ndarray:
    """One channel from a (frames, channels) block: the channels' mean, NaN and infinities made finite."""
    # NaN or infinite samples (a damaged float WAV) would poison every feature frame
    np.nan_to_num(block, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
    if block.shape[1] == 1:
        return block[:, 0]
    return block.mean(axis=1, dtype=np.float32)


def av_open(stream: BinaryIO, name: str) -> Any:
    """The PyAV container of ``stream``, which has an audio stream, or one clear AudioError."""
    import av

    try:
        container = av.open(stream, mode="r", metadata_errors="ignore")
    except av.error.EOFError:
        raise AudioError(name, "cannot decode audio (the file ends before any audio: truncated?)") from None
    except av.error.FFmpegError as exc:
        cause = f"not an audio or video file: {av_cause(exc)}"
        raise AudioError(name, f"cannot decode audio ({cause})") from None
    if not container.streams.audio:
        cause = _no_audio(container)
        container.close()
        raise AudioError(name, f"cannot decode audio ({cause})")
    return container


def _no_audio(container: object) -> str:
    fmt = container.format.name  # type: ignore[attr-defined]
    if fmt == "image2" or fmt.endswith("_pipe"):  # png_pipe, jpeg_pipe, webp_pipe …
        return "an image, not audio"
    return "a video with no audio track" if container.streams.video else "no audio stream"  # type: ignore[attr-defined]


def announced_seconds(container: object) -> float | None:
    """The audio stream's length as the container announces it, if it does."""
    stream = container.streams.audio[0]  # type: ignore[attr-defined]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:  # type: ignore[attr-defined]
        return container.duration / 1_000_000  # type: ignore[attr-defined]  # AV_TIME_BASE
    return None


def av_samples(container: object, name: str, *, strict: bool = False) -> Iterator[np.ndarray]:
    """The container's first audio stream as 16 kHz mono blocks. A failure midway ends it with a
    warning; with ``strict`` (a live stream, whose rest would be lost) it is an AudioError.

    Rate, layout or sample format may change between frames (a broadcast's next programme,
    a damaged MP3 header): each run of alike frames is resampled on its own.
    """
    import av

    decoded = 0
    packets = container.demux(container.streams.audio[0])  # type: ignore[attr-defined]
    try:
        for block in _resampled(_av_frames(packets)):
            decoded += len(block)
            yield block
    except av.error.FFmpegError as exc:
        if decoded == 0:
            raise AudioError(name, f"cannot decode audio ({av_cause(exc)})") from None
        if not strict:
            stopped(name, decoded, av_cause(exc))
            return
        cause = av_cause(exc)
        if isinstance(exc, av.error.PatchWelcomeError):  # FFmpeg's word for what it cannot follow yet
            cause = f"the format changes there in a way FFmpeg does not follow: {cause}"
        raise AudioError(name, f"cannot decode audio past {decoded / SAMPLE_RATE:.1f} s ({cause})") from None


def stopped(name: str, decoded: int, cause: str) -> None:
    """Warn that decoding ended early, after ``decoded`` samples, and that those are used."""
    log.warning(
        "%s: decoding stopped at %.1f s (%s); transcribing what was read", name, decoded / SAMPLE_RATE, cause
    )


def _av_frames(packets: Iterable[object]) -> Iterator[object]:
    import av

    for packet in packets:
        try:
            frames = packet.decode()  # type: ignore[attr-defined]
        except av.error.InvalidDataError:
            continue  # one damaged packet: skip it, as ffmpeg does
        for frame in frames:
            frame.pts = None  # timestamps of damaged files confuse the resampler
            yield frame


def _resampled(frames: Iterable[Any]) -> Iterator[np.ndarray]:
    """16 kHz mono blocks from decoded frames whose rate, layout or format may change midway
    (a damaged MP3 frame header does that): one resampler per run of alike frames."""
    import av

    resampler, setup = None, None
    for frame in frames:
        this = (frame.format.name, frame.layout.name, frame.sample_rate)
        if resampler is None or this != setup:
            if resampler is not None:
                yield from flushed(resampler)
            resampler, setup = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE), this
        for out in resampler.resample(frame):
            yield out.to_ndarray().reshape(-1)
    if resampler is not None:
        yield from flushed(resampler)


def resample_blocks(blocks: Iterable[np.ndarray], rate: int, channels: int = 1) -> Iterator[np.ndarray]:
    """Float32 blocks at ``rate`` as 16 kHz blocks, one at a time: mono, or two channels as
    (frames, 2) arrays."""
    if rate == SAMPLE_RATE:
        yield from blocks
        return
    import av

    layout, shape = ("mono", (-1,)) if channels == 1 else ("stereo", (-1, 2))
    resampler = av.AudioResampler(format="flt", layout=layout, rate=SAMPLE_RATE)
    pts = 0
    for block in itertools.chain(blocks, [None]):  # lazily: a long file is read block by block
        frame = None
        if block is not None:
            flat = np.ascontiguousarray(block, dtype=np.float32).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(flat, format="flt", layout=layout)
            frame.sample_rate, frame.pts = rate, pts
            pts += len(block)
        for out in resampler.resample(frame):  # None: what the resampler still holds
            yield out.to_ndarray().reshape(shape)


def flushed(resampler: object) -> Iterator[np.ndarray]:
    """What a PyAV resampler still holds, as mono blocks."""
    for out in resampler.resample(None):  # type: ignore[attr-defined]
        yield out.to_ndarray().reshape(-1)


def av_cause(exc: Exception) -> str:
    """An FFmpeg error's reason, short and lower case."""
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[-1].strip().rstrip(".").lower() or type(exc).__name__
