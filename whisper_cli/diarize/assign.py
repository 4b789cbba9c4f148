"""Speaker labels on a transcript: each word gets the speaker of the turn it falls in, and a
segment is cut where the speaker changes (pure functions, no audio, no model)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import replace

from whisper_cli.core.transcript import Segment, Word
from whisper_cli.diarize.speakers import Turn


def speaker_label(number: int) -> str:
    """The label written for speaker ``number`` (0-based): ``SPEAKER_1`` for 0."""
    return f"SPEAKER_{number + 1}"


class TurnIndex:
    """One recording's speaker turns, sorted, looked up by time span."""

    def __init__(self, turns: Sequence[Turn]) -> None:
        self.turns = sorted(turns, key=lambda t: (t.start, t.end))
        self._starts = [t.start for t in self.turns]
        self._ends = [t.end for t in self.turns]

    def speaker(self, start: float, end: float) -> int | None:
        """The speaker of the turn overlapping ``start``..``end`` most (the first on a tie); with
        none overlapping, the nearest turn's; None when there are no turns at all."""
        if not self.turns:
            return None
        end = max(end, start)
        first = bisect_left(self._ends, start)  # turns ending before the span cannot touch it
        last = bisect_right(self._starts, end)  # nor can those starting after it
        best, best_overlap = None, -1.0
        for turn in self.turns[first:last]:
            overlap = min(end, turn.end) - max(start, turn.start)
            if overlap > best_overlap:
                best, best_overlap = turn.speaker, overlap
        if best is not None:
            return best
        before = self.turns[first - 1] if first > 0 else None  # ends before the span
        after = self.turns[first] if first < len(self.turns) else None  # starts after it
        if after is None or (before is not None and start - before.end <= after.start - end):
            return before.speaker if before is not None else None
        return after.speaker


class SpeakerAssigner:
    """Labels a recording's segments, in order: words by the turn they fall in, a segment cut
    into parts where its words change speaker; parts are numbered from 0 across the recording.

    ``renumber``: speakers are numbered by their first appearance in the transcript (the
    model's own numbers otherwise, as for channels, where the number is the channel).
    ``words``: keep the word list on the output (else it is dropped once used).
    """

    def __init__(self, turns: Sequence[Turn], *, renumber: bool = True, words: bool = True) -> None:
        self._index = TurnIndex(turns)
        self._renumber = renumber
        self._words = words
        self._numbers: dict[int, int] = {}
        self._next_id = 0

    @property
    def labels(self) -> list[str]:
        """The labels given so far, in order of first appearance."""
        order = sorted(self._numbers.values()) if self._renumber else sorted(self._numbers)
        return [speaker_label(n) for n in order]

    def __call__(self, segment: Segment) -> list[Segment]:
        """The segment as one or more labelled segments, split at each change of speaker."""
        words = segment.words or ()
        if not words:
            speaker = self._label(self._index.speaker(segment.start, segment.end))
            return [self._part(segment, speaker=speaker, words=segment.words)]
        labelled = [replace(w, speaker=self._label(self._index.speaker(w.start, w.end))) for w in words]
        runs = _runs(labelled)
        if len(runs) == 1:
            return [self._part(segment, speaker=runs[0][0].speaker, words=tuple(labelled))]
        parts = []
        for k, run in enumerate(runs):
            parts.append(
                self._part(
                    segment,
                    start=segment.start if k == 0 else run[0].start,
                    end=segment.end if k == len(runs) - 1 else run[-1].end,
                    text="".join(w.word for w in run),
                    tokens=(),  # which tokens make which word is not known here
                    speaker=run[0].speaker,
                    words=tuple(run),
                )
            )
        return parts

    def _part(self, segment: Segment, **changes: object) -> Segment:
        if not self._words:
            changes["words"] = None
        part = replace(segment, id=self._next_id, **changes)  # type: ignore[arg-type]
        self._next_id += 1
        return part

    def _label(self, speaker: int | None) -> str | None:
        if speaker is None:
            return None
        if speaker not in self._numbers:
            self._numbers[speaker] = len(self._numbers) if self._renumber else speaker
        return speaker_label(self._numbers[speaker])


def _runs(words: list[Word]) -> list[list[Word]]:
    """Consecutive words of one speaker, in order."""
    runs: list[list[Word]] = []
    for word in words:
        if runs and runs[-1][-1].speaker == word.speaker:
            runs[-1].append(word)
        else:
            runs.append([word])
    return runs
