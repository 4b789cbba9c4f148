"""Speaker turns and speaker-count settings, and the run-length helpers that make turns from labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Turn:
    """One stretch of speech by one speaker."""

    start: float  # seconds from the start of the recording
    end: float  # seconds, > start
    speaker: int  # 0-based, numbered in order of first appearance


@dataclass(frozen=True, slots=True)
class SpeakerCount:
    """How many speakers to find: an exact count, or bounds on the count found."""

    exact: int | None = None  # --speakers N
    minimum: int = 1  # --min-speakers
    maximum: int | None = None  # --max-speakers

    def __post_init__(self) -> None:
        if self.exact is not None and self.exact < 1:
            raise ValueError(f"the speaker count must be at least 1, not {self.exact}")
        if self.minimum < 1:
            raise ValueError(f"the minimum speaker count must be at least 1, not {self.minimum}")
        if self.maximum is not None and self.maximum < self.minimum:
            raise ValueError(f"the maximum speaker count {self.maximum} is below the minimum {self.minimum}")

    def bounds(self, found: int) -> tuple[int, int]:
        """The (lowest, highest) count allowed, given ``found`` items that can be clustered."""
        if self.exact is not None:
            lo = hi = self.exact
        else:
            lo, hi = self.minimum, self.maximum if self.maximum is not None else max(found, self.minimum)
        return min(lo, max(found, 1)), min(hi, max(found, 1))


def labels_to_turns(
    labels: np.ndarray, step: float, offset: float = 0.0, *, renumber: bool = True
) -> list[Turn]:
    """Turns from per-frame labels (-1 = silence), frames ``step`` seconds long.

    With ``renumber`` speakers are numbered in order of first appearance, else they keep their label.
    """
    labels = np.asarray(labels)
    if labels.size == 0:
        return []
    change = np.flatnonzero(np.diff(labels)) + 1
    starts = np.concatenate(([0], change))
    ends = np.concatenate((change, [labels.size]))
    order: dict[int, int] = {}
    turns = []
    for s, e in zip(starts, ends, strict=True):
        lab = int(labels[s])
        if lab < 0:
            continue
        spk = order.setdefault(lab, len(order)) if renumber else lab
        turns.append(Turn(round(offset + float(s) * step, 3), round(offset + float(e) * step, 3), spk))
    return turns


def fill_short(labels: np.ndarray, shortest: int, *, silence_too: bool = False) -> np.ndarray:
    """Labels with runs shorter than ``shortest`` frames taken over by their neighbours.

    A short speaker run between two runs of one speaker (or at the edge of speech) becomes that
    speaker; with ``silence_too`` a short silence between two runs of one speaker is filled as well.
    """
    out = np.asarray(labels).copy()
    if out.size == 0 or shortest <= 1:
        return out
    for _ in range(3):
        change = np.flatnonzero(np.diff(out)) + 1
        starts = np.concatenate(([0], change))
        ends = np.concatenate((change, [out.size]))
        done = True
        for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
            if e - s >= shortest:
                continue
            lab = out[s]
            if lab < 0 and not silence_too:
                continue
            left = out[starts[i - 1]] if i > 0 else -1
            right = out[ends[i + 1] - 1] if i + 1 < len(starts) else -1
            if lab < 0:
                if left >= 0 and left == right:
                    out[s:e] = left
                    done = False
                continue
            if left >= 0 and right >= 0:
                # between two speakers: each half goes to its side
                mid = (s + e) // 2
                out[s:mid], out[mid:e] = left, right
            elif left >= 0 or right >= 0:
                out[s:e] = max(left, right)
            else:
                continue
            done = False
        if done:
            break
    return out
