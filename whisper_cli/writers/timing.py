"""Cue timing across a stream: no overlap, no going back, karaoke word times.

Writers see one segment at a time and cannot take back a cue, so each new cue starts
no earlier than the last one written ended; ``min_cue_duration`` lengthens a cue and
pushes later starts instead. Every cue lasts at least one millisecond once rounded, as
written: players drop or choke on a cue that ends where it starts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from whisper_cli.writers.layout import Cue
from whisper_cli.writers.timestamps import to_milliseconds


def place_cues(cues: Iterable[Cue], *, not_before: float, min_duration: float | None = None) -> list[Cue]:
    """Time cues after ``not_before`` so that none overlaps or precedes another.

    A cue starts no earlier than the previous one ends; ``min_duration`` lengthens a
    cue's end, never moves its start back, and pushes later starts instead. A cue that
    would round to no time at all (zero-length words, a word inside the one before, a
    segment that runs backwards) ends a millisecond after its rounded start.
    """
    placed = []
    for cue in cues:
        start = max(cue.start, not_before)
        end = _after_rounding(start, max(cue.end, start + (min_duration or 0.0)))
        placed.append(replace(cue, start=start, end=end))
        not_before = end
    return placed


def _after_rounding(start: float, end: float) -> float:
    """``end``, or the millisecond after ``start`` if both would be written as one time."""
    first = to_milliseconds(start) + 1
    # n / 1000 reads back as exactly n ms: its shortest repr is that decimal
    return end if to_milliseconds(end) >= first else first / 1000


def karaoke_spans(cue: Cue) -> list[tuple[int, int, int | None]]:
    """Cover the cue with ``(start_ms, end_ms, unit index or None)`` spans, no holes.

    Each unit is highlighted over its own time, clamped into the cue; gaps between
    units are spans with ``None`` (nothing highlighted). Empty spans are left out.
    """
    cue_start, cue_end = to_milliseconds(cue.start), to_milliseconds(cue.end)
    spans: list[tuple[int, int, int | None]] = []
    last = cue_start
    for index, unit in enumerate(cue.units):
        start = min(max(to_milliseconds(unit.start), last), cue_end)
        end = min(max(to_milliseconds(unit.end), start), cue_end)
        if start > last:
            spans.append((last, start, None))
            last = start
        if end > start:
            spans.append((start, end, index))
            last = end
    if cue_end > last:
        spans.append((last, cue_end, None))
    return spans


def word_marks(cue: Cue) -> list[int | None]:
    """For each unit, the ms time at which it is reached, or None if it needs no mark.

    The first unit never has one; a mark must fall strictly inside the cue and after
    the previous mark (WebVTT's rule for timestamp tags), or it is left out.
    """
    cue_start, cue_end = to_milliseconds(cue.start), to_milliseconds(cue.end)
    marks: list[int | None] = []
    last = cue_start
    for index, unit in enumerate(cue.units):
        at = to_milliseconds(unit.start)
        if index and last < at < cue_end:
            marks.append(at)
            last = at
        else:
            marks.append(None)
    return marks
