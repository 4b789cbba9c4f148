"""The live WAV reader on its own, through a real pipe: chunk skips, headers split across reads."""

from __future__ import annotations

import contextlib
import os
import struct
import threading

import numpy as np
import pytest

from whisper_cli.core.errors import AudioError
from whisper_cli.live.pcm import READ_BYTES
from whisper_cli.live.source import live_blocks


def header(rate: int = 16_000, channels: int = 1, data_size: int = 0xFFFFFFFF, extra: bytes = b"") -> bytes:
    fmt = struct.pack("<HHIIHH", 1, channels, rate, 2 * rate * channels, 2 * channels, 16)
    riff = b"RIFF\xff\xff\xff\xffWAVEfmt " + struct.pack("<I", 16) + fmt
    return riff + extra + b"data" + struct.pack("<I", data_size)


def tone(frames: int, channels: int = 1) -> bytes:
    return (np.full(frames * channels, 1000, "<i2")).tobytes()


def decoded(data: bytes) -> tuple[int, AudioError | None]:
    """Samples live_blocks gives for ``data`` written into a pipe, and the error it ended with."""
    read, write = os.pipe()

    def feed() -> None:
        with contextlib.suppress(BrokenPipeError), os.fdopen(write, "wb") as pipe:  # the reader may give up
            pipe.write(data)

    feeder = threading.Thread(target=feed)
    if len(data) < 1 << 16:
        feed()  # all in the pipe before the first read: where each read ends is known
    else:
        feeder.start()
    got, error = 0, None
    try:
        for block in live_blocks(None, read):
            got += len(block)
    except AudioError as exc:
        error = exc
    finally:
        os.close(read)
        if feeder.ident is not None:
            feeder.join()
    return got, error


@pytest.mark.parametrize("split", [0, 3, 8, 11])
def test_a_second_header_in_the_same_format_goes_on_wherever_a_read_cuts_it(split):
    before = (READ_BYTES - split) // 2  # the header is read 12 bytes at a time, then 16 KiB reads
    data = header() + tone(before) + (b"\0" if split % 2 else b"") + header() + tone(700)
    assert decoded(data) == (before + 700, None)


def test_a_second_header_in_another_format_ends_the_stream_after_the_first():
    got, error = decoded(header() + tone(8000) + header(44_100, 2) + tone(4410, 2))
    assert got == 8000
    assert error is not None and "the format changes at 0.5 s" in str(error), error
    assert "s16le 16000 Hz mono to s16le 44100 Hz 2 channels" in str(error)


def test_chunks_of_known_size_then_the_next_wav_then_a_trailing_list():
    listed = b"LIST" + struct.pack("<I", 5) + b"INFO!\0"  # odd: padded
    first = header(data_size=2 * 300, extra=listed) + tone(300) + listed
    assert decoded(first + header(data_size=2 * 200) + tone(200) + listed) == (500, None)


@pytest.mark.parametrize(
    ("size", "cause"),
    [
        (0xFFFFFFF0, "'LIST' chunk before the audio says it holds 4294967280 bytes"),
        ((16 << 20) + 1, "over 16 MiB"),
    ],
)
def test_a_chunk_over_16_mib_is_refused_without_reading_it(size, cause):
    body = bytes(1 << 20)
    got, error = decoded(header(extra=b"LIST" + struct.pack("<I", size) + body)[:-8])
    assert got == 0 and error is not None and cause in str(error), error


def test_a_chunk_of_16_mib_is_skipped_a_piece_at_a_time():
    size = 16 << 20
    got, error = decoded(header(extra=b"JUNK" + struct.pack("<I", size) + bytes(size)) + tone(100))
    assert (got, error) == (100, None)


def test_a_format_chunk_over_its_largest_size_is_refused():
    data = b"RIFF\xff\xff\xff\xffWAVEfmt " + struct.pack("<I", 18 + 0x10000) + bytes(20)
    _, error = decoded(data)
    assert error is not None and "'fmt ' chunk before the audio" in str(error), error
