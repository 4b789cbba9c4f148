"""Language identification: on the decoded speech, and on the whole recording when that is unsure
(whisper_cli/decode/language.py), at least as good as the engine's on ../shared/eval."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tests.conftest import EVAL_DIR, SAMPLES, requires_eval
from whisper_cli.audio.load import load_audio
from whisper_cli.core.transcript import DecodeOptions, Segment, TranscriptInfo
from whisper_cli.decode.crossfile import clips_pipeline
from whisper_cli.decode.language import SURE, WINDOW, identify
from whisper_cli.decode.loudness import joined, levelled

SR = 16_000


def _detector(*answers: dict[str, float]):
    """A DetectFn giving ``answers`` in turn, recording the length of each window it was shown."""
    shown: list[int] = []

    def detect(audio: np.ndarray) -> dict[str, float]:
        shown.append(len(audio))
        return answers[len(shown) - 1]

    return detect, shown


def test_speech_the_model_is_sure_of_settles_the_language_alone():
    detect, shown = _detector({"de": 0.97, "nl": 0.02})
    speech, whole = np.zeros(40 * SR, np.float32), np.zeros(50 * SR, np.float32)
    assert identify(detect, speech, whole) == ("de", 0.97)
    assert shown == [WINDOW]  # one window, of the speech: no second encoder pass


def test_unsure_speech_is_averaged_with_the_whole_recording():
    """es_picovoice_cheetah's figures (base): Greek just ahead on the speech, Spanish on the whole clip."""
    detect, shown = _detector({"el": 0.26, "es": 0.23, "hi": 0.18}, {"es": 0.34, "el": 0.17, "pt": 0.1})
    speech, whole = np.zeros(3 * SR, np.float32), np.zeros(4 * SR, np.float32)
    language, probability = identify(detect, speech, whole)
    assert language == "es" and probability == pytest.approx((0.23 + 0.34) / 2)
    assert shown == [3 * SR, 4 * SR]


def test_the_threshold_is_the_engines():
    detect, shown = _detector({"fr": SURE}, {"it": 0.9})
    assert identify(detect, np.zeros(SR, np.float32), np.zeros(SR, np.float32))[0] == "it"
    detect, shown = _detector({"fr": SURE + 0.01})
    assert identify(detect, np.zeros(SR, np.float32), np.zeros(SR, np.float32))[0] == "fr"
    assert len(shown) == 1


def _recording_engine(calls: list[tuple[int, DecodeOptions]]):
    def transcribe(audio, options):
        calls.append((len(audio), options))
        info = TranscriptInfo(options.language or "en", 1.0, len(audio) / SR)
        return info, iter([Segment(0, 0.0, 1.0, " hallo")])

    return transcribe


def _speech_between_silences() -> np.ndarray:
    hello = load_audio(SAMPLES / "hello.wav")
    gap = np.zeros(4 * SR, np.float32)
    return np.concatenate([gap, hello, gap])


def test_levelled_decoding_chooses_the_language_on_speech_and_whole_recording():
    audio = _speech_between_silences()
    seen: list[tuple[int, int]] = []

    def choose(speech: np.ndarray, whole: np.ndarray) -> tuple[str, float]:
        seen.append((len(speech), len(whole)))
        return "de", 0.42

    calls: list[tuple[int, DecodeOptions]] = []
    info, segments = levelled(_recording_engine(calls), identify=choose)(audio, DecodeOptions())
    list(segments)
    [(speech, whole)] = seen
    assert whole == len(audio) and speech < len(audio) - 6 * SR  # the speech, and the recording
    assert calls[0][0] == speech and calls[0][1].language == "de"  # the engine decodes in that language
    assert (info.language, info.language_probability) == ("de", 0.42)


def test_batched_decoding_needs_only_the_first_window_of_speech_joined():
    audio = np.arange(100 * SR, dtype=np.float32)
    chunks = [(0, 20 * SR), (30 * SR, 50 * SR), (60 * SR, 90 * SR)]
    assert np.array_equal(joined(audio, chunks), np.concatenate([audio[a:b] for a, b in chunks]))
    first = joined(audio, chunks, limit=WINDOW)
    assert np.array_equal(first, np.concatenate([audio[: 20 * SR], audio[30 * SR : 40 * SR]]))
    assert len(joined(audio, [])) == 0


@pytest.mark.parametrize(
    "options",
    [DecodeOptions(language="fr"), DecodeOptions(vad=False), DecodeOptions(vad=False, level=False)],
    ids=["language given", "no VAD: the engine sees the whole recording", "neither"],
)
def test_the_engine_chooses_when_it_sees_the_whole_recording_or_the_language_is_given(options):
    def choose(speech: np.ndarray, whole: np.ndarray) -> tuple[str, float]:
        raise AssertionError("not needed")

    calls: list[tuple[int, DecodeOptions]] = []
    levelled(_recording_engine(calls), identify=choose)(_speech_between_silences(), options)
    assert calls[0][1].language == options.language


def test_clips_decoded_together_are_grouped_by_the_language_chosen_for_each():
    hello = load_audio(SAMPLES / "hello.wav")
    clips = [hello, hello[: 2 * SR], hello]
    chosen = iter([("de", 0.4), ("fr", 0.9), ("de", 0.8)])
    engine_calls: list[tuple[int, str | None]] = []

    def engine(batch, options):
        engine_calls.append((len(batch), options.language))
        return [
            (TranscriptInfo(options.language, 1.0, len(c) / SR), [Segment(0, 0.0, 1.0, " ja")]) for c in batch
        ]

    def alone(audio, options):
        raise AssertionError("every clip fits the batch")

    pipeline = clips_pipeline(engine, alone, identify=lambda speech, whole: next(chosen))
    results = pipeline(clips, DecodeOptions(batch_size=8))
    assert engine_calls == [(2, "de"), (1, "fr")]
    assert [(i.language, i.language_probability) for i, _ in results] == [
        ("de", 0.4),
        ("fr", 0.9),
        ("de", 0.8),
    ]


@requires_eval
@pytest.mark.eval
def test_every_language_the_engine_identifies_whisper_cli_does_too(base_transcribe):
    """Base model, every short clip not in English (es_picovoice_cheetah among them: the
    engine said Spanish, whisper-cli said Hindi or Greek when it chose on the speech alone)."""
    from whisper_cli.decode.whisper import ModelSpec, load_model

    engine = load_model(ModelSpec("base", "cpu", "int8", 0, 1), download=False)  # base_transcribe's own
    items = [json.loads(line) for line in (EVAL_DIR / "manifest.jsonl").open(encoding="utf-8")]
    wrong = []
    for item in (i for i in items if i["language"] != "en" and i["subset"] == "short"):
        audio = load_audio(EVAL_DIR / item["audio"])
        info, segments = base_transcribe(audio, DecodeOptions())
        segments.close()  # the language is known before anything is decoded
        if info.language == item["language"]:
            continue
        by_engine, _, _ = engine.detect_language(audio=audio)  # as its transcribe does: the first 30 s
        if by_engine == item["language"]:
            wrong.append(f"{item['id']}: {info.language} ({info.language_probability:.2f})")
    assert not wrong, wrong
