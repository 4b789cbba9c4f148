"""The Diarizer on conversations of real speakers (../shared/eval) with the real encoder weights."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from tests.diarize.conversations import RATE, conversation, eval_present, speaker_pool
from whisper_cli.diarize.der import der
from whisper_cli.diarize.speakers import Diarizer, SpeakerCount, Turn, diarize

requires_eval = pytest.mark.skipif(not eval_present(), reason="../shared/eval is not present")
# Mixes whose count is found today; benchmarks/bench_diarize.py reports how often it is found
# over more mixes (not always: see its output).
MIXES = {
    2: (["librivox", "ls1089"], 100, 60),
    3: (["ls251", "jfk", "ls1995"], 102, 60),
    4: (["ls3536", "ls1221", "ls2412", "ls251"], 105, 60),
}


def _well_formed(turns: list[Turn]) -> None:
    assert all(t.end > t.start >= 0 for t in turns)
    assert all(a.end <= b.start for a, b in itertools.pairwise(turns))
    first_seen = list(dict.fromkeys(t.speaker for t in turns))
    assert first_seen == list(range(len(first_seen)))  # numbered in order of first appearance


@requires_eval
@pytest.mark.eval
@pytest.mark.parametrize("speakers", sorted(MIXES))
def test_count_found(speakers: int) -> None:
    names, seed, seconds = MIXES[speakers]
    audio, reference = conversation(names, seconds, seed)
    turns = diarize(audio)
    _well_formed(turns)
    assert len({t.speaker for t in turns}) == speakers
    assert der(reference, turns).rate <= 0.10


@requires_eval
@pytest.mark.eval
def test_count_given_or_bounded() -> None:
    names, seed, seconds = MIXES[4]
    audio, _ = conversation(names, seconds, seed)
    assert len({t.speaker for t in diarize(audio, SpeakerCount(exact=2))}) == 2
    assert len({t.speaker for t in diarize(audio, SpeakerCount(maximum=3))}) <= 3
    assert {t.speaker for t in diarize(audio, SpeakerCount(exact=1))} == {0}


@requires_eval
@pytest.mark.eval
def test_one_speaker_one_label() -> None:
    turns = diarize(speaker_pool("librivox"))
    assert turns
    assert {t.speaker for t in turns} == {0}


def test_silence_gets_no_turn() -> None:
    assert diarize(np.zeros(RATE * 5, np.float32)) == []
    assert diarize(np.random.default_rng(0).normal(0, 1e-4, RATE * 5).astype(np.float32)) == []
    assert diarize(np.zeros(0, np.float32)) == []


@requires_eval
@pytest.mark.eval
def test_blocks_of_any_size_give_the_same_turns_in_bounded_memory() -> None:
    audio, _ = conversation(["ls1272", "jfk", "librivox"], 90, seed=21)
    whole = diarize(audio)
    rng = np.random.default_rng(1)
    diarizer = Diarizer()
    front = diarizer._front
    at, largest = 0, 0
    while at < audio.size:
        size = int(rng.integers(1, 48000))
        diarizer.feed(audio[at : at + size])
        at += size
        # what the front end holds is bounded by a window and one block, not by the recording
        frames = len(front._mel) + len(front._speech) + sum(len(b) for b in front._batch)
        held = front._audio.size + 160 * frames
        largest = max(largest, held - size)
    assert largest < 160 * 160 * 60  # well under a minute of audio's worth, in samples
    assert diarizer.finish() == whole
