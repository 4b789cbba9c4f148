"""The diarization error rate against a worked example, and the speaker mapping against brute force."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from whisper_cli.diarize.der import best_mapping, der
from whisper_cli.diarize.turns import Turn


def test_worked_example() -> None:
    # Reference: a 0-10, b 8-15 (8-10 overlapped), a 20-24. Hypothesis: x 0-9, y 9-12, y 13-16,
    # x 16-18, y 20-22, x 22-24. With a 0.25 s collar around 0, 8, 10, 15, 20, 24 and the
    # overlap 8-10 left out, the scored time is (worked by hand):
    #   0.25-7.75  a | x   7.50 s      10.25-12   b | y   1.75 s     12-13  b | -   1.00 s missed
    #   13-14.75   b | y   1.75 s     15.25-16   - | y   0.75 s FA   16-18  - | x   2.00 s FA
    #   20.25-22   a | y   1.75 s     22-23.75   a | x   1.75 s
    # Shared time: a-x 9.25, a-y 1.75, b-y 3.5, so a->x, b->y; confusion = a under y = 1.75 s.
    # Scored reference speech 7.5 + 1.75 + 1 + 1.75 + 1.75 + 1.75 = 15.5 s;
    # DER = (1.0 missed + 2.75 false alarm + 1.75 confusion) / 15.5 = 5.5 / 15.5.
    reference = [Turn(0, 10, 0), Turn(8, 15, 1), Turn(20, 24, 0)]
    hypothesis = [Turn(0, 9, 5), Turn(9, 12, 7), Turn(13, 16, 7), Turn(16, 18, 5), Turn(20, 22, 7)]
    hypothesis.append(Turn(22, 24, 5))
    result = der(reference, hypothesis, collar=0.25)
    assert result.scored == pytest.approx(15.5)
    assert result.missed == pytest.approx(1.0)
    assert result.false_alarm == pytest.approx(2.75)
    assert result.confusion == pytest.approx(1.75)
    assert result.rate == pytest.approx(5.5 / 15.5)


def test_perfect_and_empty() -> None:
    reference = [Turn(0, 5, 0), Turn(5.5, 9, 1)]
    assert der(reference, [Turn(0, 5, 3), Turn(5.5, 9, 2)]).rate == 0.0
    empty = der(reference, [])
    assert empty.rate == pytest.approx(1.0)  # all missed
    assert empty.missed == pytest.approx(empty.scored)


def test_no_collar_no_overlap_skipping() -> None:
    reference = [Turn(0, 4, 0), Turn(2, 6, 1)]
    hypothesis = [Turn(0, 6, 0)]
    result = der(reference, hypothesis, collar=0.0, skip_overlap=False)
    # 2-4 has two reference speakers and one hypothesis speaker: 2 s missed; b (4-6) is not a: 2 s
    assert result.scored == pytest.approx(8.0)
    assert result.missed == pytest.approx(2.0)
    assert result.confusion == pytest.approx(2.0)


def test_mapping_is_optimal() -> None:
    rng = np.random.default_rng(0)
    for _ in range(200):
        rows, cols = rng.integers(1, 7, 2)
        weight = rng.random((rows, cols)) * (rng.random((rows, cols)) > 0.3)
        mapping = best_mapping(weight)
        assert len(set(mapping.values())) == len(mapping)
        got = sum(weight[r, c] for r, c in mapping.items())
        n = max(rows, cols)
        square = np.zeros((n, n))
        square[:rows, :cols] = weight
        best = max(sum(square[i, p[i]] for i in range(n)) for p in itertools.permutations(range(n)))
        assert got == pytest.approx(best)
