"""Decode one long recording on several cores: cut it at quiet moments, decode the parts
on a pool of decoders, and stream the segments back in order.

Sequential beam search keeps only about one core busy, and on a 2-core machine one
CTranslate2 thread per decoder beats two (see README, Performance). Parts are decoded
exactly as a whole file is (same beam, temperature fallback, conditioning on previous
text inside each part), so accuracy stays that of sequential decoding, unlike batched
decoding of short VAD chunks. The first part streams live; later parts are decoded
in the background and follow as soon as the part before them is done.

There are more parts than decoders (three per decoder while parts average 30 s or
more), shorter and shorter: the time a part takes depends on how much speech it holds,
and with one part per decoder the one that finishes first would sit idle while the
other finishes. On ../shared/eval's 227.6 s long-form file with two decoders, two parts
took 10.1 s, six equal ones 7.5-9.1 s and six falling from 50 to 25 s 8.3 s, in runs
where six equal ones took 9.1 s; WER moved by cut placement alone (4.8-8.1 %), around
sequential decoding's 6.1 %.
"""

from __future__ import annotations

import math
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from itertools import pairwise

import numpy as np

from whisper_cli.core.transcript import DecodeOptions, Segment, TranscribeFn, TranscriptInfo, retimed

SAMPLE_RATE = 16_000
MIN_PART_SECONDS = 30.0  # a part shorter than this costs more in lost context than it gains
MAX_PART_SECONDS = 120.0  # longer recordings get more parts, so the last one to finish is short
PARTS_PER_WORKER = 3
SEARCH_SECONDS = 8.0  # look this far either side of an even cut for the quietest moment
_FRAME = 320  # 20 ms frames for the loudness envelope
_QUIET_FRAMES = 25  # the quiet moment: the lowest mean energy over 0.5 s


def part_count(samples: int, workers: int) -> int:
    """How many parts a recording of ``samples`` is cut into for ``workers`` decoders."""
    if workers <= 1:
        return 1
    seconds = samples / SAMPLE_RATE
    wanted = max(workers * PARTS_PER_WORKER, math.ceil(seconds / MAX_PART_SECONDS))
    return max(1, min(wanted, int(seconds // MIN_PART_SECONDS)))


def part_weights(parts: int, workers: int) -> list[float]:
    """Relative part lengths: equal when each decoder gets one part; otherwise falling
    from 2 to 1, so the parts decoded last, while a decoder may already be idle, are short."""
    if parts <= workers or parts == 1:
        return [1.0] * parts
    return [2.0 - k / (parts - 1) for k in range(parts)]


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


def in_parts(transcribe: TranscribeFn, pool: ThreadPoolExecutor, workers: int) -> TranscribeFn:
    """A TranscribeFn that decodes recordings long enough to split on ``workers`` decoders.

    Every part is decoded on ``pool`` (which bounds how many run at once); the caller
    reads the parts' segments in order, each as soon as its decoder produces it.
    """

    def transcribe_parts(
        audio: np.ndarray, options: DecodeOptions
    ) -> tuple[TranscriptInfo, Iterator[Segment]]:
        parts = part_count(len(audio), workers) if options.batch_size <= 1 else 1
        if parts == 1:
            return transcribe(audio, options)
        bounds = [0, *cut_points(audio, parts, part_weights(parts, workers)), len(audio)]
        spans = list(pairwise(bounds))
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
