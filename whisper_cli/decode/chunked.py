"""Transcribe a recording of any length in bounded memory: a stream of audio blocks is
cut into chunks of about ten minutes, each ending at a quiet moment, and each chunk
is decoded on its own; segments come back in order with their times in the recording.

faster-whisper keeps the whole input and its features in memory (about 0.9 MiB per
audio second with tiny.en), so a 3-hour file would need some 10 GB; chunked, the peak
stays that of one chunk whatever the length. The language found in the first chunk
is used for the rest.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace

import numpy as np

from whisper_cli.core.transcript import DecodeOptions, Segment, TranscribeFn, TranscriptInfo
from whisper_cli.decode.parallel import SAMPLE_RATE, cut_points, shift

CHUNK_SECONDS = 600.0  # decoded at once: long enough that cuts are rare, short enough to bound memory
LONG_SECONDS = 1800.0  # inputs longer than this are streamed in chunks instead of loaded whole
_SEARCH = int(8 * SAMPLE_RATE)  # a cut is looked for in the last 16 s of a chunk


def chunks(blocks: Iterable[np.ndarray], chunk_samples: int) -> Iterator[tuple[int, np.ndarray]]:
    """(offset, chunk) pairs from a stream of blocks; every chunk but the last ends at a
    quiet moment near ``chunk_samples``."""
    pending: list[np.ndarray] = []
    size = 0
    offset = 0
    for block in blocks:
        pending.append(block)
        size += len(block)
        while size >= chunk_samples + _SEARCH:
            buffer = np.concatenate(pending)
            window_start = chunk_samples - _SEARCH
            (cut,) = cut_points(buffer[window_start : chunk_samples + _SEARCH], 2)
            cut += window_start
            yield offset, buffer[:cut]
            offset += cut
            pending, size = [buffer[cut:]], len(buffer) - cut
    if size:
        yield offset, np.concatenate(pending)


def transcribe_chunks(
    transcribe: TranscribeFn,
    blocks: Iterable[np.ndarray],
    options: DecodeOptions,
    duration: float,
    *,
    chunk_seconds: float | None = None,
) -> tuple[TranscriptInfo, Iterator[Segment]]:
    """Like ``transcribe`` on the whole recording, but holding one chunk at a time.

    ``duration`` is the recording's length as far as known up front (for progress).
    """
    stream = chunks(blocks, int((chunk_seconds or CHUNK_SECONDS) * SAMPLE_RATE))
    first = next(stream, None)
    if first is None:
        return transcribe(np.zeros(0, np.float32), options)
    info, segments = transcribe(first[1], options)
    if options.language is None:
        options = replace(options, language=info.language)
    info = replace(info, duration=max(duration, info.duration), duration_after_vad=None)
    return info, _segments(transcribe, segments, stream, options)


def _segments(
    transcribe: TranscribeFn,
    first: Iterator[Segment],
    rest: Iterator[tuple[int, np.ndarray]],
    options: DecodeOptions,
) -> Iterator[Segment]:
    next_id = 0
    for segment in first:
        yield replace(segment, id=next_id)
        next_id += 1
    for offset, audio in rest:
        _, segments = transcribe(audio, options)
        for segment in segments:
            yield shift(segment, offset / SAMPLE_RATE, next_id, offset // 160)
            next_id += 1
