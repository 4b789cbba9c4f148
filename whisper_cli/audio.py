"""Read any audio or video input as 16 kHz mono float32, or fail with one clear cause.

soundfile (libsndfile) decodes WAV, FLAC, OGG/Vorbis and friends quickly and exactly;
everything else (MP3, M4A, Opus, video containers) goes through PyAV, which
faster-whisper already brings. Resampling uses PyAV's libswresample in both cases.
"""

from __future__ import annotations

import errno
import io
import logging
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from whisper_cli.errors import AudioError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000  # Hz: what Whisper models expect
STDIN = "-"
_BLOCK = 1 << 18  # frames per soundfile read: bounds the working set
# Containers handed to libsndfile, by their first bytes. MP3 is left to PyAV although
# recent libsndfile reads it: its mpg123 prints warnings straight to fd 2 and trusts
# the Xing header's length on truncated files.
_SNDFILE_MAGIC = (b"RIFF", b"RIFX", b"RF64", b"BW64", b"FORM", b"fLaC", b"OggS", b".snd", b"caff")

AudioSource = str | Path


def display_name(source: AudioSource) -> str:
    """A file name fit for a one-line message: stdin named, newlines and bad bytes escaped."""
    if str(source) == STDIN:
        return "<stdin>"
    text = os.fsencode(source).decode("utf-8", "backslashreplace")
    return text.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def load_audio(source: AudioSource) -> np.ndarray:
    """Decode ``source`` (a path, or "-" for stdin) to float32 mono samples at 16 kHz.

    Raises:
        AudioError: the input is missing, unreadable, not audio, corrupt or empty.
    """
    name = display_name(source)
    if str(source) == STDIN:
        data = sys.stdin.buffer.read()
        if not data:
            raise AudioError(name, "no data on standard input")
        return _decode(lambda: io.BytesIO(data), name)
    path = Path(source)
    _check_readable(path, name)
    return _decode(lambda: path.open("rb"), name)


def _check_readable(path: Path, name: str) -> None:
    try:
        st = path.stat()
        if path.is_dir():
            raise AudioError(name, "is a directory, not an audio file")
        with path.open("rb"):
            pass
    except AudioError:
        raise
    except FileNotFoundError:
        raise AudioError(name, "no such file") from None
    except PermissionError:
        raise AudioError(name, "permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise AudioError(name, "symbolic link loop") from None
        raise AudioError(name, f"cannot read ({exc.strerror or exc})") from None
    if st.st_size == 0:
        raise AudioError(name, "empty file (0 bytes)")


def _decode(opener: callable, name: str) -> np.ndarray:  # type: ignore[valid-type]
    try:
        with opener() as stream:
            samples = _decode_soundfile(stream)
        if samples is None:
            with opener() as stream:
                samples = _decode_av(stream, name)
    except AudioError:
        raise
    except MemoryError:
        raise AudioError(name, "not enough memory to decode") from None
    except OSError as exc:
        raise AudioError(name, f"cannot read ({exc.strerror or exc})") from None
    if samples.size == 0:
        raise AudioError(name, "contains no audio samples")
    return samples


def _decode_soundfile(stream: BinaryIO) -> np.ndarray | None:
    """Decode with libsndfile; None when it does not know the format or fails mid-file."""
    import soundfile

    head = stream.read(4)
    stream.seek(0)
    if head not in _SNDFILE_MAGIC:
        return None
    try:
        with soundfile.SoundFile(stream) as sf:
            rate, channels = sf.samplerate, sf.channels
            blocks = (
                _downmix(block)
                for block in sf.blocks(blocksize=_BLOCK, dtype="float32", always_2d=True)
            )
            return _resample(blocks, rate, channels=1)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        log.debug("soundfile cannot decode this input (%s); trying PyAV", exc)
        return None


def _downmix(block: np.ndarray) -> np.ndarray:
    if block.shape[1] == 1:
        return block[:, 0]
    return block.mean(axis=1, dtype=np.float32)


def _resample(blocks: Iterable[np.ndarray], rate: int, channels: int) -> np.ndarray:
    """Join mono float32 blocks at ``rate`` into one 16 kHz array (streaming, block by block)."""
    if rate == SAMPLE_RATE:
        parts = list(blocks)
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    out: list[np.ndarray] = []
    pts = 0
    for block in blocks:
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(block, dtype=np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate = rate
        frame.pts = pts
        pts += block.shape[0]
        out.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(frame))
    out.extend(f.to_ndarray().reshape(-1) for f in resampler.resample(None))
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def _decode_av(stream: BinaryIO, name: str) -> np.ndarray:
    """Decode compressed audio or a video's first audio stream with PyAV."""
    import av

    try:
        container = av.open(stream, mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:
        raise AudioError(name, f"cannot decode audio (not an audio or video file: {_av_cause(exc)})") from None
    with container:
        if not container.streams.audio:
            kind = "a video with no audio track" if container.streams.video else "no audio stream"
            raise AudioError(name, f"cannot decode audio ({kind})")
        return np.concatenate(list(_av_samples(container, name)) or [np.zeros(0, np.float32)])


def _av_samples(container: object, name: str) -> Iterator[np.ndarray]:
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    decoded = 0
    packets = container.demux(container.streams.audio[0])  # type: ignore[attr-defined]
    try:
        for packet in packets:
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                continue  # one damaged packet: skip it, as ffmpeg does
            for frame in frames:
                frame.pts = None  # timestamps of damaged files confuse the resampler
                for out in resampler.resample(frame):
                    decoded += out.samples
                    yield out.to_ndarray().reshape(-1)
        for out in resampler.resample(None):
            yield out.to_ndarray().reshape(-1)
    except av.error.FFmpegError as exc:
        if decoded == 0:
            raise AudioError(name, f"cannot decode audio ({_av_cause(exc)})") from None
        log.warning(
            "%s: decoding stopped at %.1f s (%s); transcribing what was read",
            name,
            decoded / SAMPLE_RATE,
            _av_cause(exc),
        )


def _av_cause(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[-1].strip().rstrip(".").lower() or type(exc).__name__
