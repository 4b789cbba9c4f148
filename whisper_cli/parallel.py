"""Decode one long recording on several cores: cut it at quiet moments, decode the parts at
once, and stream the segments back in order.

Sequential beam search keeps only about one core busy, and on a 2-core machine one
CTranslate2 thread per decoder beats two (see README, Performance). Parts are decoded
exactly as a whole file is (same beam, temperature fallback, conditioning on previous
text inside each part), so accuracy stays that of sequential decoding, unlike batched
decoding of short VAD chunks. The first part streams live; later parts are decoded
in the background and follow as soon as the part before them is done.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from itertools import pairwise

import numpy as np

from whisper_cli.transcript import DecodeOptions, Segment, TranscribeFn, TranscriptInfo

SAMPLE_RATE = 16_000
MIN_PART_SECONDS = 60.0  # a part shorter than this costs more in lost context than it gains
SEARCH_SECONDS = 8.0  # look this far either side of an even cut for the quietest moment
_FRAME = 320  # 20 ms frames for the loudness envelope
_QUIET_FRAMES = 25  # the quiet moment: the lowest mean energy over 0.5 s


def part_count(samples: int, workers: int) -> int:
    """How many parts a recording of ``samples`` is cut into for ``workers`` decoders."""
    return max(1, min(workers, int(samples / SAMPLE_RATE // MIN_PART_SECONDS)))


def cut_points(audio: np.ndarray, parts: int) -> list[int]:
    """Sample offsets of ``parts - 1`` cuts, each at the quietest 0.5 s near an even split."""
    cuts = []
    search = int(SEARCH_SECONDS * SAMPLE_RATE)
    for k in range(1, parts):
        ideal = len(audio) * k // parts
        lo, hi = max(0, ideal - search), min(len(audio), ideal + search)
        cuts.append(lo + _quietest(audio[lo:hi]))
    return cuts


def _quietest(window: np.ndarray) -> int:
    frames = len(window) // _FRAME
    if frames <= _QUIET_FRAMES:
        return len(window) // 2
    energy = np.square(window[: frames * _FRAME].reshape(frames, _FRAME), dtype=np.float32).mean(axis=1)
    smoothed = np.convolve(energy, np.ones(_QUIET_FRAMES, np.float32), mode="valid")
    centre = int(np.argmin(smoothed)) + _QUIET_FRAMES // 2
    return centre * _FRAME


def shift(segment: Segment, seconds: float, new_id: int, seek_frames: int) -> Segment:
    """The segment moved ``seconds`` later in the recording, renumbered."""
    words = None
    if segment.words is not None:
        words = tuple(replace(w, start=w.start + seconds, end=w.end + seconds) for w in segment.words)
    return replace(
        segment,
        id=new_id,
        start=segment.start + seconds,
        end=segment.end + seconds,
        seek=segment.seek + seek_frames,
        words=words,
    )


def in_parts(transcribe: TranscribeFn, pool: ThreadPoolExecutor, workers: int) -> TranscribeFn:
    """A TranscribeFn that decodes recordings long enough to split on ``workers`` decoders."""

    def transcribe_parts(
        audio: np.ndarray, options: DecodeOptions
    ) -> tuple[TranscriptInfo, Iterator[Segment]]:
        parts = part_count(len(audio), workers) if options.batch_size <= 1 else 1
        if parts == 1:
            return transcribe(audio, options)
        bounds = [0, *cut_points(audio, parts), len(audio)]
        spans = list(pairwise(bounds))
        first_info, first = transcribe(audio[: spans[0][1]], options)  # detects the language
        rest_options = options if options.language else replace(options, language=first_info.language)
        cancel = threading.Event()
        futures = [pool.submit(_collect, transcribe, audio[a:b], rest_options, cancel) for a, b in spans[1:]]
        info = replace(first_info, duration=len(audio) / SAMPLE_RATE, duration_after_vad=None)
        return info, _ordered(first, futures, [a for a, _ in spans[1:]], cancel)

    return transcribe_parts


def _collect(
    transcribe: TranscribeFn, audio: np.ndarray, options: DecodeOptions, cancel: threading.Event
) -> list[Segment]:
    segments = []
    for segment in transcribe(audio, options)[1]:
        if cancel.is_set():
            break
        segments.append(segment)
    return segments


def _ordered(
    first: Iterator[Segment],
    futures: list[Future[list[Segment]]],
    offsets: list[int],
    cancel: threading.Event,
) -> Iterator[Segment]:
    next_id = 0
    try:
        for segment in first:
            yield replace(segment, id=next_id)
            next_id += 1
        for offset, future in zip(offsets, futures, strict=True):
            for segment in future.result():
                yield shift(segment, offset / SAMPLE_RATE, next_id, offset // 160)  # seek: 10 ms frames
                next_id += 1
    finally:  # closed early (interrupt, broken pipe): stop the parts still running
        cancel.set()
        for future in futures:
            future.cancel()
