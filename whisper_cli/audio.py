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
import stat
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from whisper_cli.errors import AudioError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16_000  # Hz: what Whisper models expect
STDIN = "-"
_BLOCK = 1 << 18  # samples per soundfile read: bounds the working set
_MAX_PREALLOCATED = 48 * 3600 * SAMPLE_RATE  # samples: longer claims are not trusted up front
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
        return _decode(io.BytesIO(data), name)
    with _open(Path(source), name) as stream:
        return _decode(stream, name)


def _open(path: Path, name: str) -> BinaryIO:
    """Open the file once: both decoders read this one handle, so a file deleted or
    replaced while it is being read is still read as it was when opened."""
    try:
        stream = path.open("rb")
    except FileNotFoundError:
        cause = "broken symbolic link" if path.is_symlink() else "no such file"
        raise AudioError(name, cause) from None
    except IsADirectoryError:
        raise AudioError(name, "is a directory, not an audio file") from None
    except PermissionError:
        raise AudioError(name, "permission denied") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise AudioError(name, "symbolic link loop") from None
        raise AudioError(name, f"cannot read ({exc.strerror or exc})") from None
    try:
        if stream.seekable():
            empty = os.fstat(stream.fileno()).st_size == 0
        else:  # a pipe, e.g. <(curl …): both decoders need to seek
            with stream:
                stream = io.BytesIO(stream.read())  # type: ignore[assignment]
            empty = not stream.getbuffer().nbytes  # type: ignore[attr-defined]
    except OSError as exc:
        stream.close()
        raise AudioError(name, f"cannot read ({exc.strerror or exc})") from None
    if empty:
        stream.close()
        raise AudioError(name, "empty file (0 bytes)")
    return stream


@contextmanager
def _read_errors(name: str) -> Iterator[None]:
    """Turn the OS's reasons a decode can fail midway into our one-line AudioError."""
    try:
        yield
    except MemoryError:
        raise AudioError(name, "not enough memory to decode") from None
    except OSError as exc:
        raise AudioError(name, f"cannot read ({exc.strerror or exc})") from None


def _decode(stream: BinaryIO, name: str) -> np.ndarray:
    with _read_errors(name):
        samples = _decode_soundfile(stream)
        if samples is None:
            stream.seek(0)
            samples = _decode_av(stream, name)
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
        with soundfile.SoundFile(_QuietSeeks(stream)) as sf:
            rate, channels = sf.samplerate, sf.channels
            # _BLOCK samples per read whatever the channel count: a header claiming
            # 1,024 channels must not make one read take a gigabyte
            frames = max(1024, _BLOCK // channels)
            blocks = (
                _downmix(block) for block in sf.blocks(blocksize=frames, dtype="float32", always_2d=True)
            )
            return _resample(blocks, rate, expected=sf.frames)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        log.debug("soundfile cannot decode this input (%s); trying PyAV", exc)
        return None


class _QuietSeeks:
    """The stream as libsndfile reads it. soundfile calls seek from a C callback, where an
    exception cannot propagate: it would be printed to stderr with a traceback ("Exception
    ignored from cffi callback") and decoding would go on. A damaged header can ask for a
    negative offset; that seek now leaves the position as it was, and libsndfile reports
    the file as broken itself."""

    def __init__(self, stream: BinaryIO) -> None:
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


def _downmix(block: np.ndarray) -> np.ndarray:
    # NaN or infinite samples (a damaged float WAV) would poison every feature frame
    np.nan_to_num(block, copy=False, nan=0.0, posinf=1.0, neginf=-1.0)
    if block.shape[1] == 1:
        return block[:, 0]
    return block.mean(axis=1, dtype=np.float32)


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
    with _av_open(stream, name) as container:
        out = _Samples(_expected_samples(container))
        for block in _av_samples(container, name):
            out.add(block)
    if not len(out):
        raise AudioError(name, "cannot decode audio (no audio frames in it: damaged or not audio)")
    return out.array()


def _av_open(stream: BinaryIO, name: str) -> Any:
    """The PyAV container of ``stream``, which has an audio stream, or one clear AudioError."""
    import av

    try:
        container = av.open(stream, mode="r", metadata_errors="ignore")
    except av.error.EOFError:
        raise AudioError(name, "cannot decode audio (the file ends before any audio: truncated?)") from None
    except av.error.FFmpegError as exc:
        cause = f"not an audio or video file: {_av_cause(exc)}"
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


def _expected_samples(container: object) -> int:
    """The 16 kHz length the container announces (0 when it does not say)."""
    seconds = _announced_seconds(container)
    return 0 if seconds is None else int(seconds * SAMPLE_RATE * 1.01) + SAMPLE_RATE


def _announced_seconds(container: object) -> float | None:
    """The audio stream's length as the container announces it, if it does."""
    stream = container.streams.audio[0]  # type: ignore[attr-defined]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:  # type: ignore[attr-defined]
        return container.duration / 1_000_000  # type: ignore[attr-defined]  # AV_TIME_BASE
    return None


def _av_samples(container: object, name: str) -> Iterator[np.ndarray]:
    import av

    decoded = 0
    packets = container.demux(container.streams.audio[0])  # type: ignore[attr-defined]
    try:
        for block in _resampled(_av_frames(packets)):
            decoded += len(block)
            yield block
    except av.error.FFmpegError as exc:
        if decoded == 0:
            raise AudioError(name, f"cannot decode audio ({_av_cause(exc)})") from None
        _stopped(name, decoded, _av_cause(exc))


def _stopped(name: str, decoded: int, cause: str) -> None:
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
                yield from _flushed(resampler)
            resampler, setup = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE), this
        for out in resampler.resample(frame):
            yield out.to_ndarray().reshape(-1)
    if resampler is not None:
        yield from _flushed(resampler)


def _flushed(resampler: object) -> Iterator[np.ndarray]:
    for out in resampler.resample(None):  # type: ignore[attr-defined]
        yield out.to_ndarray().reshape(-1)


def _av_cause(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return text.split(":")[-1].strip().rstrip(".").lower() or type(exc).__name__


# --- streaming, for recordings too long to hold whole (see chunked.py) --------------------


def audio_duration(source: AudioSource) -> float | None:
    """The length in seconds that the file's header announces, without decoding it.

    None for stdin, for a file that does not say, and for one that cannot be opened
    (decoding it will give the real error).
    """
    if str(source) == STDIN:
        return None
    try:
        if not stat.S_ISREG(os.stat(source).st_mode):
            return None  # a pipe (<(curl …)) or a device: reading its header would consume it
        with open(source, "rb") as f:
            head = f.read(4)
        if head in _SNDFILE_MAGIC:
            import soundfile

            info = soundfile.info(os.fspath(source))
            return info.frames / info.samplerate if info.samplerate else None
        import av

        with av.open(os.fspath(source), metadata_errors="ignore") as container:
            return _announced_seconds(container) if container.streams.audio else None
    except Exception:  # any reason not to know: the decoder reports it properly
        return None


def iter_audio(source: AudioSource) -> Iterator[np.ndarray]:
    """Decode ``source`` block by block (16 kHz mono float32), holding one block at a time.

    Raises:
        AudioError: as ``load_audio``; a failure after some blocks ends the stream with it.
    """
    name = display_name(source)
    with _read_errors(name), _open(Path(source), name) as stream:
        yield from _stream_decode(stream, name)


def _stream_decode(stream: BinaryIO, name: str) -> Iterator[np.ndarray]:
    decoded = 0
    for block in _stream_blocks(stream, name):
        decoded += len(block)
        yield block
    if not decoded:
        raise AudioError(name, "contains no audio samples")


def _stream_blocks(stream: BinaryIO, name: str) -> Iterator[np.ndarray]:
    """As _decode, block by block: libsndfile first, PyAV when it cannot start; a failure
    after the first block ends the stream with a warning (those blocks are already used)."""
    import soundfile

    errors = (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError)
    head = stream.read(4)
    stream.seek(0)
    decoded = 0
    if head in _SNDFILE_MAGIC:
        try:
            with soundfile.SoundFile(_QuietSeeks(stream)) as sf:
                frames = max(1024, _BLOCK // sf.channels)
                blocks = (_downmix(b) for b in sf.blocks(blocksize=frames, dtype="float32", always_2d=True))
                for block in _resample_stream(blocks, sf.samplerate):
                    decoded += len(block)
                    yield block
            return
        except errors as exc:
            if decoded:
                _stopped(name, decoded, str(exc))
                return
            stream.seek(0)  # not for libsndfile after all: PyAV below
    with _av_open(stream, name) as container:
        yield from _av_samples(container, name)


def _resample_stream(blocks: Iterable[np.ndarray], rate: int) -> Iterator[np.ndarray]:
    """Mono float32 blocks at ``rate`` as 16 kHz blocks, one at a time."""
    if rate == SAMPLE_RATE:
        yield from blocks
        return
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
    pts = 0
    for block in blocks:
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(block, dtype=np.float32).reshape(1, -1), format="flt", layout="mono"
        )
        frame.sample_rate, frame.pts = rate, pts
        pts += len(block)
        for out in resampler.resample(frame):
            yield out.to_ndarray().reshape(-1)
    yield from _flushed(resampler)
