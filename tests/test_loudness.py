"""Loudness levelling: quiet speech is raised to the target, non-speech is left alone."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import SAMPLES
from whisper_cli.audio import load_audio
from whisper_cli.loudness import MAX_GAIN_DB, PEAK_LIMIT, TARGET_DBFS, active_level_db, level
from whisper_cli.transcript import DecodeOptions

RATE = 16000


def _db(x: np.ndarray) -> float:
    return active_level_db(x)


def test_each_region_gets_its_own_gain_towards_the_target():
    rng = np.random.default_rng(1)
    loud = (0.2 * rng.standard_normal(RATE * 2)).astype(np.float32)
    quiet = (0.002 * rng.standard_normal(RATE * 2)).astype(np.float32)
    audio = np.concatenate([loud, np.zeros(RATE, np.float32), quiet])
    regions = [(0, 2 * RATE), (3 * RATE, 5 * RATE)]
    out = level(audio, regions)
    assert _db(out[RATE // 2 : 3 * RATE // 2]) == pytest.approx(TARGET_DBFS, abs=1)
    assert _db(out[7 * RATE // 2 : 9 * RATE // 2]) == pytest.approx(TARGET_DBFS, abs=1)
    assert np.all(out[2 * RATE : 3 * RATE] == 0)  # the pause is untouched
    assert np.abs(audio).max() == pytest.approx(np.abs(loud).max())  # input not modified


def test_gain_is_limited_by_peak_and_maximum():
    spiky = np.zeros(RATE, np.float32)
    spiky[::400] = 0.5  # loud peaks, little energy
    out = level(spiky, [(0, RATE)])
    assert np.abs(out).max() <= PEAK_LIMIT + 1e-6
    whisper = np.full(RATE, 1e-6, np.float32)
    out = level(whisper, [(0, RATE)])
    assert out[RATE // 2] / whisper[RATE // 2] == pytest.approx(10 ** (MAX_GAIN_DB / 20), rel=1e-3)


def test_silence_and_noise_without_speech_are_left_alone():
    rng = np.random.default_rng(2)
    noise = (0.001 * rng.standard_normal(RATE * 20)).astype(np.float32)
    assert np.array_equal(level(noise), noise)
    silence = np.zeros(RATE * 5, np.float32)
    assert np.array_equal(level(silence), silence)


def test_a_quiet_speaker_next_to_a_loud_one_is_kept(tiny_transcribe):
    """hello.wav at -50 dBFS inside weather.mp3: dropped without levelling, kept with it."""
    weather, hello = load_audio(SAMPLES / "weather.mp3"), load_audio(SAMPLES / "hello.wav")
    quiet = (hello / np.abs(hello).max() * 10 ** (-50 / 20)).astype(np.float32)
    gap = np.zeros(RATE // 2, np.float32)
    audio = np.concatenate([weather[: 8 * RATE], gap, quiet, gap, weather[8 * RATE :]])
    texts = {}
    for flag in (False, True):
        _, segments = tiny_transcribe(audio, DecodeOptions(language="en", level=flag))
        texts[flag] = " ".join(s.text for s in segments).lower()
    assert "microphone" not in texts[False]
    assert "microphone" in texts[True] and "tomorrow" in texts[True]
