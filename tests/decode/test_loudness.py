"""Loudness levelling: quiet speech is raised to the target, non-speech is left alone."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import SAMPLES
from whisper_cli.audio.load import load_audio
from whisper_cli.core.transcript import DecodeOptions
from whisper_cli.decode.loudness import (
    MAX_GAIN_DB,
    PEAK_LIMIT,
    SAMPLE_RATE,
    TARGET_DBFS,
    TOLERANCE_DB,
    active_level_db,
    level,
)

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


def test_speech_already_near_the_target_is_left_as_it_is():
    rng = np.random.default_rng(3)
    near = rng.standard_normal(RATE * 2).astype(np.float32)
    near *= 10 ** ((TARGET_DBFS - TOLERANCE_DB / 2) / 20) / np.sqrt(np.mean(near**2))
    farther = near * 10 ** (-2 * TOLERANCE_DB / 20)
    assert np.array_equal(level(near, [(0, 2 * RATE)]), near)
    assert _db(level(farther, [(0, 2 * RATE)])[RATE // 2 : 3 * RATE // 2]) == pytest.approx(
        TARGET_DBFS, abs=1
    )


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


def test_speech_chunks_join_short_pauses_and_pad_like_faster_whisper():
    from whisper_cli.decode.loudness import speech_chunks

    s = SAMPLE_RATE
    regions = [(1 * s, 2 * s), (int(3.5 * s), 4 * s), (8 * s, 9 * s)]  # 1.5 s, then 4 s apart
    assert speech_chunks(regions, 10 * s) == [(int(0.7 * s), int(4.3 * s)), (int(7.7 * s), int(9.3 * s))]
    assert speech_chunks([(0, s), (int(9.9 * s), 10 * s)], 10 * s) == [
        (0, int(1.3 * s)),
        (int(9.6 * s), 10 * s),
    ]
    assert speech_chunks([], 10 * s) == []


def test_timeline_maps_speech_only_times_back_to_the_recording():
    from whisper_cli.core.transcript import Segment, Word
    from whisper_cli.decode.loudness import Timeline

    s = SAMPLE_RATE
    timeline = Timeline([(2 * s, 5 * s), (10 * s, 12 * s)])  # joined: 0-3 s, then 3-5 s
    assert timeline.original(0.0) == 2.0 and timeline.original(2.5) == 4.5
    assert timeline.original(3.0) == 10.0  # a start on the border: the later chunk
    assert timeline.original(3.0, end=True) == 5.0  # an end on the border: the earlier one
    seg = Segment(
        id=0, start=2.0, end=4.0, text=" a b", seek=0, words=(Word(2.0, 3.0, " a"), Word(3.0, 4.0, " b"))
    )
    moved = timeline.segment(seg)
    assert (moved.start, moved.end, moved.seek) == (4.0, 11.0, 200)
    assert [(w.start, w.end) for w in moved.words] == [(4.0, 5.0), (10.0, 11.0)]


def test_levelled_decoding_sees_only_the_speech(tiny_transcribe):
    hello = load_audio(SAMPLES / "hello.wav")
    gap = np.zeros(6 * SAMPLE_RATE, np.float32)
    audio = np.concatenate([gap, hello, gap, hello])
    info, segments = tiny_transcribe(audio, DecodeOptions(language="en", word_timestamps=True))
    segments = list(segments)
    assert info.duration == pytest.approx(len(audio) / SAMPLE_RATE)
    assert info.duration_after_vad < info.duration - 10  # the long silences were left out
    second = 12 + len(hello) / SAMPLE_RATE
    assert 5.5 <= segments[0].start <= 6.5
    assert any(second - 0.5 <= s.start <= second + 0.5 for s in segments)  # times in the recording
    words = [w for s in segments for w in s.words]
    assert all(not (6 + len(hello) / SAMPLE_RATE + 0.5 < w.start < second - 0.5) for w in words)
