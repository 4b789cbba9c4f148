"""Decode one long recording on several cores: cut it at quiet moments, decode the parts
on a pool of decoders, and stream the segments back in order.

Sequential beam search keeps only about one core busy, and on a 2-core machine one
CTranslate2 thread per decoder beats two (see README, Performance). Parts are decoded
exactly as a whole file is (same beam, temperature fallback, conditioning on previous
text inside each part), so accuracy stays that of sequential decoding, unlike batched
decoding of short VAD chunks. The first part streams live; later parts are decoded
in the background and follow as soon as the part before them is done.

Where the cuts fall depends on the audio alone, never on how many decoders there are:
a part's text depends on where it starts and ends, so cuts chosen per decoder count
made ``--workers`` (and, through its default, the machine's cores) change the words.
A recording is cut into parts of about PART_SECONDS, falling in length from about 4/3
to 2/3 of that, so the parts a pool decodes last, while a decoder may already be idle,
are short; one decoder takes the same parts one after another.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from itertools import pairwise

import numpy as np

from whisper_cli.core.transcript import DecodeOptions, Segment, TranscribeFn, TranscriptInfo, retimed

SAMPLE_RATE = 16_000
PART_SECONDS = 40.0  # a part's mean length: see docs/performance.md for the lengths measured
MIN_PART_SECONDS = 30.0  # recordings under twice this are one part; no part's mean is shorter
SEARCH_SECONDS = 8.0  # look this far either side of an even cut for the quietest moment
_FRAME = 320  # 20 ms frames for the loudness envelope
_QUIET_FRAMES = 25  # the quiet moment: the lowest mean energy over 0.5 s


def part_count(samples: int) -> int:
    """How many parts a recording of ``samples`` is cut into: about one per PART_SECONDS."""
    seconds = samples / SAMPLE_RATE
    return max(1, min(int(seconds / PART_SECONDS + 0.5), int(seconds // MIN_PART_SECONDS)))


def part_weights(parts: int) -> list[float]:
    """Relative part lengths: two equal halves, or, for three parts or more, falling from
    2 to 1, so the parts decoded last, while a decoder may already be idle, are short."""
    if parts <= 2:
        return [1.0] * parts
    return [2.0 - k / (parts - 1) for k in range(parts)]


def part_spans(audio: np.ndarray) -> list[tuple[int, int]]:
    """(start, end) sample offsets of the parts ``audio`` is cut into; the audio alone decides."""
    parts = part_count(len(audio))
    return list(pairwise([0, *cut_points(audio, parts, part_weights(parts)), len(audio)]))


def cut_points(audio: np.ndarray, parts: int, weights: list[float] | None = None) -> list[int]:
    """Sample offsets of ``parts - 1`` cuts, each at the quietest 0.5 s near its ideal place
    (an even split, or one in proportion to ``weights``)."""
    weights = weights or [1.0] * parts
    total = sum(weights)
    cuts = []
    search = int(SEARCH_SECONDS * SAMPLE_RATE)
    so_far = 0.0
    for weight in weights[:-1]:
        so_far += weight
        ideal = int(len(audio) * so_far / total)
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
    return retimed(segment, lambda t: t + seconds, id=new_id, seek=segment.seek + seek_frames)


def in_parts(transcribe: TranscribeFn, pool: ThreadPoolExecutor) -> TranscribeFn:
    """A TranscribeFn that cuts recordings long enough into parts (``part_spans``).

    Every part is decoded on ``pool`` (its threads bound how many run at once, not where
    the cuts fall); the caller reads the parts' segments in order, each as soon as its
    decoder produces it.
    """

    def transcribe_parts(
        audio: np.ndarray, options: DecodeOptions
    ) -> tuple[TranscriptInfo, Iterator[Segment]]:
        spans = part_spans(audio) if options.batch_size <= 1 else [(0, len(audio))]
        if len(spans) == 1:
            return transcribe(audio, options)
        cancel = threading.Event()
        first = _Part(transcribe, audio[: spans[0][1]], options, cancel)
        futures = [pool.submit(first.run)]
        try:
            if options.language is None:  # the first part finds the language the others use
                options = replace(options, language=first.info().language)
            later = [_Part(transcribe, audio[a:b], options, cancel) for a, b in spans[1:]]
            futures += [pool.submit(part.run) for part in later]
            first_info = first.info()
        except BaseException:  # the first part failed (or the wait was interrupted)
            _stop(cancel, futures)
            raise
        info = replace(first_info, duration=len(audio) / SAMPLE_RATE, duration_after_vad=None)
        return info, _ordered([first, *later], [a for a, _ in spans], futures, cancel)

    return transcribe_parts


_DONE = object()


class _Part:
    """One part's decoding, run on a pool thread; its segments pass through a queue."""

    def __init__(
        self, transcribe: TranscribeFn, audio: np.ndarray, options: DecodeOptions, cancel: threading.Event
    ) -> None:
        self._transcribe, self._audio, self._options, self._cancel = transcribe, audio, options, cancel
        self._info: Future[TranscriptInfo] = Future()
        self.segments: queue.SimpleQueue[object] = queue.SimpleQueue()

    def run(self) -> None:
        if self._cancel.is_set():
            self._info.cancel()
            return
        try:
            info, segments = self._transcribe(self._audio, self._options)
        except BaseException as exc:
            self._info.set_exception(exc)
            self.segments.put(exc)
            return
        self._info.set_result(info)
        try:
            for segment in segments:
                if self._cancel.is_set():
                    return
                self.segments.put(segment)
        except BaseException as exc:
            self.segments.put(exc)
            return
        self.segments.put(_DONE)

    def info(self) -> TranscriptInfo:
        return self._info.result()


def _ordered(
    parts: list[_Part], offsets: list[int], futures: list[Future[None]], cancel: threading.Event
) -> Iterator[Segment]:
    next_id = 0
    try:
        for part, offset in zip(parts, offsets, strict=True):
            while (item := part.segments.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, Segment)
                yield shift(item, offset / SAMPLE_RATE, next_id, offset // 160)  # seek: 10 ms frames
                next_id += 1
    finally:  # closed early (interrupt, broken pipe, error): stop the parts still to come
        _stop(cancel, futures)


def _stop(cancel: threading.Event, futures: list[Future[None]]) -> None:
    cancel.set()
    for future in futures:
        future.cancel()
