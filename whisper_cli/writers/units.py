"""Units: the pieces of a segment that a subtitle line never breaks inside, timed.

A unit is a model word (glued to its neighbours where no break is allowed, as in a
word and its punctuation), or, for a segment without words, a word or character of
its text, timed by spreading the segment's span over the characters.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from whisper_cli.core.transcript import Segment
from whisper_cli.writers.text import can_break, no_arrow, one_line, text_pieces


@dataclass(frozen=True, slots=True)
class Unit:
    """Text that a line never breaks inside, with its time span in seconds."""

    text: str  # one leading space where the transcript has a space before it
    start: float
    end: float


def line_text(units: Iterable[Unit]) -> str:
    """The text of a line: its units joined as written, without a leading space."""
    return "".join(unit.text for unit in units).lstrip()


def has_words(segment: Segment) -> bool:
    """Whether the segment has word timings with any text (else times are estimated)."""
    return any(word.word.strip() for word in segment.words or ())


def segment_units(segment: Segment) -> list[Unit]:
    """The segment's units, timed by its words, or by character count without words.

    Times never run backwards from one unit to the next.
    """
    units = _word_units(segment) or _text_units(segment)
    return _glue(_monotonic(units))


def _word_units(segment: Segment) -> list[Unit]:
    words = segment.words or ()
    return [Unit(text, word.start, word.end) for word in words if (text := _clean(word.word)).strip()]


def _text_units(segment: Segment) -> list[Unit]:
    pieces = [_clean(piece) for piece in text_pieces(segment.text)]
    pieces = [piece for piece in pieces if piece.strip()]
    weights = [len(piece.strip()) for piece in pieces]
    total = sum(weights) or 1
    span = max(segment.end - segment.start, 0.0)
    units, done = [], 0
    for piece, weight in zip(pieces, weights, strict=True):
        start = segment.start + span * done / total
        done += weight
        units.append(Unit(piece, start, segment.start + span * done / total))
    return units


def _clean(text: str) -> str:
    """One line of text, no arrow, and one leading space if it had any."""
    body = no_arrow(one_line(text))
    return (" " if body and text[:1].isspace() else "") + body


def _monotonic(units: list[Unit]) -> list[Unit]:
    out = []
    start = end = float("-inf")
    for unit in units:
        start = max(unit.start, start)
        end = max(unit.end, start, end)
        out.append(Unit(unit.text, start, end))
    return out


def _glue(units: list[Unit]) -> list[Unit]:
    """Join units where a line may not break, such as a word and its punctuation."""
    out: list[Unit] = []
    for unit in units:
        if out and not can_break(out[-1].text, unit.text):
            prev = out[-1]
            out[-1] = Unit(no_arrow(prev.text + unit.text), prev.start, unit.end)
        else:
            out.append(unit)
    return out
