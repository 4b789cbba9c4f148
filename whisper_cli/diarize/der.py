"""Diarization error rate: time-weighted, with a collar around reference boundaries, overlap excluded."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from whisper_cli.diarize.turns import Turn


@dataclass(frozen=True, slots=True)
class DerResult:
    """The parts of a diarization error rate, in seconds of scored reference speech."""

    scored: float  # reference speech scored (outside collars and overlap)
    missed: float  # reference speech with no hypothesis speaker
    false_alarm: float  # hypothesis speech where the reference has none
    confusion: float  # speech given to the wrong speaker under the best one-to-one mapping

    @property
    def rate(self) -> float:
        """(missed + false alarm + confusion) / scored speech; 0 when nothing is scored."""
        if self.scored <= 0:
            return 0.0
        return (self.missed + self.false_alarm + self.confusion) / self.scored


def der(
    reference: Sequence[Turn], hypothesis: Sequence[Turn], *, collar: float = 0.25, skip_overlap: bool = True
) -> DerResult:
    """Score ``hypothesis`` against ``reference`` (turns may overlap in either).

    ``collar`` seconds either side of each reference turn boundary are not scored, nor (with
    ``skip_overlap``) any time where the reference has two or more speakers. Speakers are
    mapped one to one so as to maximise the time they share (Hungarian method).
    """
    bounds = sorted({t.start for t in (*reference, *hypothesis)} | {t.end for t in (*reference, *hypothesis)})
    edges = [t.start for t in reference] + [t.end for t in reference]
    cuts = sorted(set(bounds) | {e - collar for e in edges} | {e + collar for e in edges})
    ref_ids = sorted({t.speaker for t in reference})
    hyp_ids = sorted({t.speaker for t in hypothesis})
    shared = np.zeros((len(ref_ids), len(hyp_ids)))
    scored = missed = false_alarm = 0.0
    pieces: list[tuple[float, list[int], list[int]]] = []
    for a, b in itertools.pairwise(cuts):
        mid, dur = (a + b) / 2, b - a
        if dur <= 0 or any(abs(mid - e) < collar for e in edges):
            continue
        refs = [ref_ids.index(t.speaker) for t in reference if t.start <= mid < t.end]
        hyps = [hyp_ids.index(t.speaker) for t in hypothesis if t.start <= mid < t.end]
        if skip_overlap and len(refs) > 1:
            continue
        pieces.append((dur, refs, hyps))
        for r in refs:
            for h in hyps:
                shared[r, h] += dur
    mapping = best_mapping(shared)
    confusion = 0.0
    for dur, refs, hyps in pieces:
        scored += dur * len(refs)
        missed += dur * max(0, len(refs) - len(hyps))
        false_alarm += dur * max(0, len(hyps) - len(refs))
        correct = sum(1 for r in refs if mapping.get(r) in hyps)
        confusion += dur * (min(len(refs), len(hyps)) - correct)
    return DerResult(scored, missed, false_alarm, confusion)


def best_mapping(weight: np.ndarray) -> dict[int, int]:
    """Row -> column assignment of largest total ``weight`` (rows or columns may go unmatched)."""
    rows, cols = weight.shape
    if rows == 0 or cols == 0:
        return {}
    n = max(rows, cols)
    cost = np.zeros((n, n))
    cost[:rows, :cols] = -weight
    assign = _hungarian(cost)
    return {r: c for r, c in enumerate(assign[:rows]) if c < cols and weight[r, c] > 0}


def _hungarian(cost: np.ndarray) -> list[int]:
    """Column of each row in a minimum-cost assignment of the square ``cost`` matrix (O(n^3))."""
    n = cost.shape[0]
    u, v = np.zeros(n + 1), np.zeros(n + 1)
    match = [0] * (n + 1)  # match[j]: the row (1-based) assigned to column j
    way = [0] * (n + 1)
    for i in range(1, n + 1):
        match[0], j0 = i, 0
        minv = np.full(n + 1, np.inf)
        used = np.zeros(n + 1, bool)
        while True:
            used[j0] = True
            i0, delta, j1 = match[j0], np.inf, 0
            for j in range(1, n + 1):
                if used[j]:
                    continue
                cur = cost[i0 - 1, j - 1] - u[i0] - v[j]
                if cur < minv[j]:
                    minv[j], way[j] = cur, j0
                if minv[j] < delta:
                    delta, j1 = minv[j], j
            for j in range(n + 1):
                if used[j]:
                    u[match[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if match[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            match[j0] = match[j1]
            j0 = j1
    assign = [0] * n
    for j in range(1, n + 1):
        assign[match[j] - 1] = j - 1
    return assign
