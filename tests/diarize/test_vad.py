"""The streamed speech gate decides exactly as the whole-array rules do, however the input is split."""

from __future__ import annotations

import numpy as np

from whisper_cli.diarize.vad import MIN_SILENCE, MIN_SPEECH, OFF, ON, SpeechGate, speech_mask


def _rules(probs: np.ndarray) -> np.ndarray:
    """The gate's rules applied to the whole array at once, written plainly."""
    n = probs.size
    raw, active = np.zeros(n, bool), False
    for i, p in enumerate(probs):
        active = True if p >= ON else False if p < OFF else active
        raw[i] = active

    def runs(mask: np.ndarray) -> list[tuple[int, int]]:
        change = np.flatnonzero(np.diff(mask.astype(int))) + 1
        return list(zip(np.r_[0, change], np.r_[change, n], strict=True))

    filled = raw.copy()
    for a, b in runs(raw):
        if not raw[a] and a > 0 and b < n and b - a < MIN_SILENCE:
            filled[a:b] = True
    out = filled.copy()
    for a, b in runs(filled):
        if filled[a] and b - a < MIN_SPEECH:
            out[a:b] = False
    return out


def test_gate_streamed_equals_rules() -> None:
    rng = np.random.default_rng(0)
    for case in range(400):
        n = int(rng.integers(1, 250))
        values = (rng.random(n) < rng.random()).astype(np.float32) if case % 2 else rng.random(n)
        probs = np.repeat(values, rng.integers(1, 7, n))[:n].astype(np.float32)
        expected = _rules(probs)
        assert (speech_mask(probs) == expected).all()
        gate, parts, i = SpeechGate(), [], 0
        while i < n:
            k = int(rng.integers(0, 20))
            parts.append(gate.push(probs[i : i + k]))
            i += k
        parts.append(gate.close())
        assert (np.concatenate(parts) == expected).all()


def test_short_pause_filled_short_burst_dropped() -> None:
    speech, pause = np.ones(10, np.float32), np.zeros(MIN_SILENCE - 1, np.float32)
    assert speech_mask(np.concatenate((speech, pause, speech))).all()
    burst = np.concatenate((np.zeros(20), np.ones(MIN_SPEECH - 1), np.zeros(20))).astype(np.float32)
    assert not speech_mask(burst).any()
