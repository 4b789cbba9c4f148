"""channel_turns on stereo calls built from real speech, with cross-talk bleed."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.diarize.conversations import eval_present, stereo_call
from whisper_cli.diarize.channels import channel_turns
from whisper_cli.diarize.der import der

requires_eval = pytest.mark.skipif(not eval_present(), reason="../shared/eval is not present")


@requires_eval
@pytest.mark.eval
def test_each_channel_is_one_speaker_despite_bleed() -> None:
    left, right, reference = stereo_call(("ls1221", "librivox"), 40, seed=1, bleed_db=-20)
    turns = channel_turns(left, right)
    assert {t.speaker for t in turns} == {0, 1}
    score = der(reference, turns)
    assert score.confusion == 0.0
    assert score.rate <= 0.02, score
    assert all(a.end <= b.start for a, b in itertools.pairwise(turns))
    assert all(t.end > t.start for t in turns)


@requires_eval
@pytest.mark.eval
def test_speaker_number_is_the_channel() -> None:
    left, right, _ = stereo_call(("ls2412", "ls251"), 12, seed=3)
    # swap the channels: every turn changes speaker, the times stay
    turns, swapped = channel_turns(left, right), channel_turns(right, left)
    assert [(t.start, t.end) for t in turns] == [(t.start, t.end) for t in swapped]
    assert [t.speaker for t in turns] == [1 - t.speaker for t in swapped]


def test_silence_gets_no_turn() -> None:
    quiet = np.random.default_rng(0).normal(0, 1e-4, 16000 * 3).astype(np.float32)
    assert channel_turns(quiet, quiet.copy()) == []
    assert channel_turns(np.zeros(0, np.float32), np.zeros(0, np.float32)) == []


def test_channels_of_different_length_are_refused() -> None:
    with pytest.raises(ValueError, match="differ in length"):
        channel_turns(np.zeros(100, np.float32), np.zeros(99, np.float32))
