"""A WAV stream read chunk by chunk as it arrives: other chunks skipped unread, a second header checked."""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np

from whisper_cli.core.errors import AudioError
from whisper_cli.live.pcm import NAME, ByteStream, PcmDecoder, PcmFormat

# A WAV data size a writer puts when it cannot know the length (ffmpeg: 0xFFFFFFFF, arecord:
# 0x7FFFFFFF less the header, sox: 0 or 0x7FFFF000): read on to the end of the stream instead.
_UNKNOWN_SIZE = 0x7FFF0000
# A `fmt ` chunk is 16, 18 or 40 bytes; its 16-bit extra-size field bounds it at 18 + 65535.
MAX_FORMAT_BYTES = 18 + 0xFFFF
# Other chunks (LIST, bext, iXML, JUNK, id3 with cover art, PEAK …) are read and dropped a piece
# at a time, so their size costs no memory; but one that says it holds more than this is a
# damaged header: in real files they are bytes to a few MiB, and a live stream that must
# first pass 4 GiB of "chunk" (37 hours of 16 kHz speech) would print nothing, forever.
MAX_SKIPPED_BYTES = 16 << 20
_WAV_FLOAT, _WAV_PCM, _WAV_EXTENSIBLE = 3, 1, 0xFFFE
_WAV_ENCODINGS = {
    (_WAV_PCM, 8): "u8",
    (_WAV_PCM, 16): "s16le",
    (_WAV_PCM, 32): "s32le",
    (_WAV_FLOAT, 32): "f32le",
}


def wav_blocks(stream: ByteStream) -> Iterator[np.ndarray]:
    """16 kHz mono blocks of a WAV stream whose first 12 bytes (RIFF, size, WAVE) were looked at.

    Another WAV header after the audio (``cat a.wav b.wav``, a writer that restarted) goes on
    when its format is the same, and is an AudioError when it is not: one stream, one format.

    Raises:
        AudioError: no audio, an encoding that is not streamed, a chunk that claims more than
            MAX_SKIPPED_BYTES, or a format that changes; the audio before it was yielded.
    """
    stream.exactly(12)
    fmt: PcmFormat | None = None  # the format of the WAV being read
    decoder: PcmDecoder | None = None  # its format is the stream's
    while len(header := stream.exactly(8)) == 8:
        kind, size = header[:4], struct.unpack("<I", header[4:])[0]
        if kind in (b"RIFF", b"RF64"):
            if stream.exactly(4) != b"WAVE":
                raise _error(f"a {_name(kind)} header that is not WAVE after {_at(decoder)}")
            fmt = None
        elif kind == b"fmt ":
            fmt = _wav_format(stream.exactly(_bounded(kind, size, MAX_FORMAT_BYTES, decoder)))
            if decoder is not None and fmt != decoder.fmt:
                was, now = decoder.fmt.describe(), fmt.describe()
                raise _error(f"the format changes at {decoder.seconds:.1f} s, from {was} to {now}")
        elif kind == b"data":
            if fmt is None:
                raise _error("a WAV stream with no format before its data")
            decoder = decoder or PcmDecoder(fmt)
            known = 0 < size < _UNKNOWN_SIZE
            yield from decoder.read(stream, size if known else None, stop_at_wav=not known)
            stream.skip(size & 1 if known else 0)  # chunks are padded to even sizes
        else:
            stream.skip(_bounded(kind, size, MAX_SKIPPED_BYTES, decoder))
    if decoder is None:
        raise _error("a WAV stream that ends before its audio")
    yield from decoder.flush()


def _bounded(kind: bytes, size: int, most: int, decoder: PcmDecoder | None) -> int:
    """``size`` padded to even, when it is at most ``most``; else AudioError."""
    if size > most:
        what = f"{most >> 20} MiB" if most >= 1 << 20 else f"{most:,} bytes"
        where = f"after {_at(decoder)}" if decoder is not None else "before the audio"
        says = f"a WAV {_name(kind)} chunk {where} says it holds {size} bytes"
        raise _error(f"{says}; over {what} is a damaged header")
    return size + (size & 1)


def _wav_format(body: bytes) -> PcmFormat:
    """The samples' layout from a WAV ``fmt `` chunk; AudioError for what is not PCM."""
    if len(body) < 16:
        raise _error("a damaged WAV format chunk")
    tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
    if tag == _WAV_EXTENSIBLE and len(body) >= 26:
        tag = struct.unpack("<H", body[24:26])[0]  # the sub-format GUID's first two bytes
    encoding = _WAV_ENCODINGS.get((tag, bits))
    if encoding is None or channels == 0 or rate == 0:
        cause = f"WAV encoding {tag}, {bits}-bit samples, is not streamed; use 16-bit PCM (-c:a pcm_s16le)"
        raise _error(cause)
    return PcmFormat(encoding, rate, channels)


def _at(decoder: PcmDecoder | None) -> str:
    return f"{decoder.seconds:.1f} s of audio" if decoder is not None else "the header"


def _name(kind: bytes) -> str:
    """A chunk's four bytes, quoted and printable whatever they are."""
    return ascii(kind.decode("latin-1"))


def _error(cause: str) -> AudioError:
    return AudioError(NAME, f"cannot decode audio ({cause})")
