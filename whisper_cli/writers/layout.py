"""Subtitle layout: one segment into cues of wrapped lines (pure functions, no I/O).

For each segment: ``segment_units`` (words, or its text split into words and timed by
character count) → ``split_by_duration`` → ``split_into_cues`` (at most
``max_line_count`` lines each) → ``balanced_lines``; a cue is timed by its first
unit's start and its last unit's end.
``timing.place_cues`` then fits them after what was already written. Lines break
between units only, preferably after punctuation; the only limits that can be broken
are by a single unit: wider than a line, or longer than a cue.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from whisper_cli.core.transcript import Segment
from whisper_cli.writers.base import WriterOptions
from whisper_cli.writers.text import ends_clause
from whisper_cli.writers.units import Unit, line_text, segment_units

__all__ = [
    "Cue",
    "Unit",
    "balanced_lines",
    "break_lines",
    "layout_segment",
    "split_by_duration",
    "split_into_cues",
]

# A line or cue may end at punctuation once it is at least this full.
_PUNCTUATION_FILL = 0.5


@dataclass(frozen=True, slots=True)
class Cue:
    """One subtitle: lines of units, shown from ``start`` to ``end`` (seconds)."""

    start: float
    end: float
    lines: tuple[tuple[Unit, ...], ...]

    @property
    def units(self) -> tuple[Unit, ...]:
        """Every unit of the cue, in order."""
        return tuple(unit for line in self.lines for unit in line)

    @property
    def text(self) -> str:
        """The cue text, one line per layout line."""
        return "\n".join(line_text(line) for line in self.lines)


def layout_segment(segment: Segment, options: WriterOptions) -> list[Cue]:
    """Split one segment into cues that respect the options' limits where they can.

    With no limits set this is one single-line cue per segment, as in openai-whisper.
    """
    limits = {
        "max_width": options.max_line_width,
        "max_words": options.max_words_per_line,
    }
    cues = []
    for chunk in split_by_duration(segment_units(segment), options.max_cue_duration):
        for part in split_into_cues(chunk, max_lines=options.max_line_count, **limits):
            lines = tuple(tuple(line) for line in balanced_lines(part, **limits))
            cues.append(Cue(lines[0][0].start, lines[-1][-1].end, lines))
    return cues


def split_by_duration(units: Sequence[Unit], max_duration: float | None) -> list[list[Unit]]:
    """Group units into runs no longer than ``max_duration``, cutting at punctuation."""
    chunks: list[list[Unit]] = []
    chunk: list[Unit] = []
    for unit in units:
        if chunk and max_duration is not None and unit.end - chunk[0].start > max_duration:
            cut = _duration_cut(chunk, unit, max_duration)
            chunks.append(chunk[:cut])
            chunk = chunk[cut:]
        chunk.append(unit)
    if chunk:
        chunks.append(chunk)
    return chunks


def split_into_cues(
    units: Sequence[Unit],
    *,
    max_width: int | None,
    max_words: int | None,
    max_lines: int | None,
) -> list[list[Unit]]:
    """Split units into as few cues as fit, of even length where possible.

    Cues are cut near even shares of the text, at punctuation if there is some nearby;
    when no even cut fits, the greedily wrapped lines are grouped instead.
    """
    lines = break_lines(units, max_width=max_width, max_words=max_words)
    if max_lines is None or len(lines) <= max_lines:
        return [list(units)]
    max_lines = max(1, max_lines)
    for count in range(2, math.ceil(len(lines) / max_lines) + 1):
        for at_punctuation in (True, False):
            parts = _even_parts(units, count, at_punctuation=at_punctuation)
            if all(len(break_lines(p, max_width=max_width, max_words=max_words)) <= max_lines for p in parts):
                return parts
    return [
        [unit for line in lines[first : first + max_lines] for unit in line]
        for first in range(0, len(lines), max_lines)
    ]


def balanced_lines(
    units: Sequence[Unit], *, max_width: int | None, max_words: int | None
) -> list[list[Unit]]:
    """Wrap in as few lines as ``break_lines`` needs, then pick the best such wrap.

    Narrower limits that keep the line count are tried too: the wrap that ends the
    most lines at punctuation wins, then the narrowest (lines of even length read
    better than a full line over a stub).
    """
    lines = break_lines(units, max_width=max_width, max_words=max_words)
    if len(lines) < 2 or (max_width is None and max_words is None):
        return lines
    by_width = max_width is not None

    def widest(wrap: list[list[Unit]]) -> int:
        return max(_width(line) if by_width else len(line) for line in wrap)

    best, best_key = lines, (_clause_breaks(lines), -widest(lines))
    limit, wrapped = (max_width if by_width else max_words) or 1, lines
    while limit > 1:
        # any limit from the last wrap's widest line up to the last limit wraps the same
        limit = min(limit, widest(wrapped)) - 1
        if by_width:
            wrapped = break_lines(units, max_width=limit, max_words=max_words)
        else:
            wrapped = break_lines(units, max_width=max_width, max_words=limit)
        if len(wrapped) > len(lines):
            break
        key = (_clause_breaks(wrapped), -widest(wrapped))
        if key > best_key:
            best, best_key = wrapped, key
    return best


def _clause_breaks(lines: list[list[Unit]]) -> int:
    return sum(ends_clause(line[-1].text) for line in lines[:-1])


def break_lines(units: Sequence[Unit], *, max_width: int | None, max_words: int | None) -> list[list[Unit]]:
    """Wrap units greedily into lines within the limits, preferring punctuation breaks."""
    lines: list[list[Unit]] = []
    line: list[Unit] = []
    width = 0
    for unit in units:
        grown = width + len(unit.text) if line else len(unit.text.lstrip())
        if line and not _within(grown, len(line) + 1, max_width, max_words):
            cut = _line_cut(line, unit, max_width, max_words)
            lines.append(line[:cut])
            line = line[cut:]
            width = _width(line)
            grown = width + len(unit.text) if line else len(unit.text.lstrip())
        line.append(unit)
        width = grown
    if line:
        lines.append(line)
    return lines


def _even_parts(units: Sequence[Unit], count: int, *, at_punctuation: bool) -> list[list[Unit]]:
    """Cut units into ``count`` runs of about equal text, at punctuation if near."""
    ends = list(itertools.accumulate(len(unit.text) for unit in units))
    share = ends[-1] / count
    slack = share / 4 if at_punctuation else 0.0
    cuts = [0]
    for k in range(1, count):
        # cut after unit cut - 1, leaving at least one unit for each part to come
        options = range(cuts[-1] + 1, len(units) - (count - k) + 1)
        cuts.append(_cut_near([ends[cut - 1] for cut in options], options, units, k * share, slack))
    cuts.append(len(units))
    return [list(units[a:b]) for a, b in itertools.pairwise(cuts)]


def _cut_near(widths: list[int], options: range, units: Sequence[Unit], ideal: float, slack: float) -> int:
    """The cut nearest ``ideal`` text width, or the nearest after punctuation within slack."""
    ranked = sorted(zip(widths, options, strict=True), key=lambda pair: abs(pair[0] - ideal))
    for width, cut in ranked:
        if abs(width - ideal) > slack:
            break
        if ends_clause(units[cut - 1].text):
            return cut
    return ranked[0][1]


def _width(line: Sequence[Unit]) -> int:
    return len(line_text(line))


def _within(width: int, words: int, max_width: int | None, max_words: int | None) -> bool:
    return (max_width is None or width <= max_width) and (max_words is None or words <= max_words)


def _fits(line: Sequence[Unit], max_width: int | None, max_words: int | None) -> bool:
    return _within(_width(line), len(line), max_width, max_words)


def _fill(line: Sequence[Unit], max_width: int | None, max_words: int | None) -> float:
    by_width = _width(line) / max_width if max_width else 0.0
    by_words = len(line) / max_words if max_words else 0.0
    return max(by_width, by_words)


def _line_cut(line: list[Unit], unit: Unit, max_width: int | None, max_words: int | None) -> int:
    """Where to end a full line: after its last punctuation if that is late enough."""
    for cut in range(len(line) - 1, 0, -1):
        if (
            ends_clause(line[cut - 1].text)
            and _fill(line[:cut], max_width, max_words) >= _PUNCTUATION_FILL
            and _fits([*line[cut:], unit], max_width, max_words)
        ):
            return cut
    return len(line)


def _duration_cut(chunk: list[Unit], unit: Unit, max_duration: float) -> int:
    """Where to end a full cue: after its last punctuation if that is late enough."""
    for cut in range(len(chunk) - 1, 0, -1):
        if (
            ends_clause(chunk[cut - 1].text)
            and chunk[cut - 1].end - chunk[0].start >= _PUNCTUATION_FILL * max_duration
            and unit.end - chunk[cut].start <= max_duration
        ):
            return cut
    return len(chunk)
