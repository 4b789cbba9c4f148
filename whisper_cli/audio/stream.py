"""Recordings too long to hold whole (decode/chunked.py): their length up front, their audio in blocks."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from whisper_cli.audio.decoders import (
    BLOCK,
    SNDFILE_MAGIC,
    QuietSeeks,
    announced_seconds,
    av_open,
    av_samples,
    downmix,
    resample_blocks,
    sndfile_view,
    stopped,
)
from whisper_cli.audio.source import STDIN, AudioSource, display_name, open_input, read_errors
from whisper_cli.core.errors import AudioError


def audio_duration(source: AudioSource) -> float | None:
    """The length in seconds of the file's audio, from its header, without decoding it.

    A WAV header that misstates its data's length is corrected as decoding will correct it
    (silently: the decode warns). None for stdin, for a file that does not say, and for one
    that cannot be opened (decoding it will give the real error).
    """
    if str(source) == STDIN:
        return None
    try:
        if not stat.S_ISREG(os.stat(source).st_mode):
            return None  # a pipe (<(curl …)) or a device: reading its header would consume it
        with open(source, "rb") as f:
            if f.read(4) in SNDFILE_MAGIC:
                import soundfile

                with soundfile.SoundFile(QuietSeeks(sndfile_view(f, warn_as=None))) as sf:
                    return sf.frames / sf.samplerate if sf.samplerate else None
        import av

        with av.open(os.fspath(source), metadata_errors="ignore") as container:
            return announced_seconds(container) if container.streams.audio else None
    except Exception:  # any reason not to know: the decoder reports it properly
        return None


def iter_audio(source: AudioSource) -> Iterator[np.ndarray]:
    """Decode ``source`` block by block (16 kHz mono float32), holding one block at a time.

    Raises:
        AudioError: as ``load_audio``; a failure after some blocks ends the stream with it.
    """
    name = display_name(source)
    with read_errors(name), open_input(Path(source), name) as stream:
        yield from _stream_decode(stream, name)


def _stream_decode(stream: BinaryIO, name: str) -> Iterator[np.ndarray]:
    decoded = 0
    for block in _stream_blocks(stream, name):
        decoded += len(block)
        yield block
    if not decoded:
        raise AudioError(name, "contains no audio samples")


def _stream_blocks(stream: BinaryIO, name: str) -> Iterator[np.ndarray]:
    """As audio._decode, block by block: libsndfile first, PyAV when it cannot start; a failure
    after the first block ends the stream with a warning (those blocks are already used)."""
    import soundfile

    errors = (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError)
    head = stream.read(4)
    stream.seek(0)
    decoded = 0
    if head in SNDFILE_MAGIC:
        try:
            with soundfile.SoundFile(QuietSeeks(sndfile_view(stream, warn_as=name))) as sf:
                frames = max(1024, BLOCK // sf.channels)
                blocks = (downmix(b) for b in sf.blocks(blocksize=frames, dtype="float32", always_2d=True))
                for block in resample_blocks(blocks, sf.samplerate):
                    decoded += len(block)
                    yield block
            return
        except errors as exc:
            if decoded:
                stopped(name, decoded, str(exc))
                return
            stream.seek(0)  # not for libsndfile after all: PyAV below
    with av_open(stream, name) as container:
        yield from av_samples(container, name)
