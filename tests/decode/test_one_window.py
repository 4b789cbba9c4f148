"""DecodeOptions.one_window (live's windows): one encoder pass for up to 30 s of audio, all its words."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.conftest import SAMPLES
from whisper_cli.audio.load import load_audio
from whisper_cli.core.transcript import DecodeOptions

OPTIONS = DecodeOptions(language="en", word_timestamps=True, temperature=(0.0,))


@pytest.fixture
def encodes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the real engine's encoder passes (the model still runs)."""
    from faster_whisper import transcribe

    calls: list[int] = []
    real = transcribe.WhisperModel.encode

    def counted(self, features):  # type: ignore[no-untyped-def]
        calls.append(features.shape[-1])
        return real(self, features)

    monkeypatch.setattr(transcribe.WhisperModel, "encode", counted)
    return calls


def test_a_short_window_is_decoded_in_one_pass_to_its_end(tiny_transcribe, encodes):
    # lecture.flac 33-40 s: the engine's timestamps end mid-sentence, so by default it
    # decodes the rest of the window again (three encoder passes on this machine).
    audio = load_audio(SAMPLES / "lecture.flac")[33 * 16_000 : 40 * 16_000]
    segments = list(tiny_transcribe(audio, replace(OPTIONS, one_window=True))[1])
    assert len(encodes) == 1
    words = [w for s in segments for w in s.words or ()]
    text = "".join(w.word for w in words).lower()
    assert "ideas traveled faster than ever before" in text
    assert "readers" in text  # the last words, after the model's last timestamp, are kept
    assert words[-1].end > 6.0
    assert text.count("faster") == 1


def test_audio_over_one_window_is_decoded_whole(tiny_transcribe, encodes):
    audio = load_audio(SAMPLES / "lecture.flac")  # 49 s
    segments = list(tiny_transcribe(audio, replace(OPTIONS, one_window=True))[1])
    assert len(encodes) >= 2
    assert segments[-1].end > 45.0
    assert "changed the world" in "".join(s.text for s in segments).lower()
