"""Short files decoded together: ``--batch-size N`` on a folder puts up to N clips in
each of the engine's batches (whisper_cli/decode/crossfile.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import SAMPLES, run_cli, sample_text, wer
from whisper_cli.audio.load import load_audio
from whisper_cli.batch.sinks import PARTIAL_PREFIX
from whisper_cli.core.transcript import DecodeOptions, Segment, TranscriptInfo
from whisper_cli.decode.crossfile import _redo, clips_pipeline, fits

SR = 16_000


def _text(segments: list[Segment]) -> str:
    return " ".join(s.text for s in segments)


def test_clips_in_one_batch_are_each_transcribed_in_their_own_time(tiny_transcribe):
    hello, weather = load_audio(SAMPLES / "hello.wav"), load_audio(SAMPLES / "weather.mp3")
    silence = np.zeros(5 * SR, np.float32)
    options = DecodeOptions(language="en", batch_size=4, word_timestamps=True)
    results = tiny_transcribe.clips([hello, silence, weather], options)
    assert len(results) == 3
    (hello_info, hello_segs), (_, silent_segs), (weather_info, weather_segs) = results
    assert wer(sample_text("hello"), _text(hello_segs)) <= 0.15
    assert wer(sample_text("weather"), _text(weather_segs)) <= 0.15
    assert silent_segs == []  # no speech: nothing invented
    assert hello_info.duration == pytest.approx(len(hello) / SR)
    assert weather_info.language == "en"
    for clip, (_, segments) in zip([hello, weather], [results[0], results[2]], strict=True):
        assert [s.id for s in segments] == list(range(len(segments)))
        assert segments[0].start >= 0 and segments[-1].end <= len(clip) / SR + 0.5
        starts = [s.start for s in segments]
        assert starts == sorted(starts)
        for s in segments:
            assert s.words and s.start - 0.5 <= s.words[0].start <= s.words[-1].end <= s.end + 0.5


def test_clips_say_what_sequential_decoding_says(tiny_transcribe):
    clips = [load_audio(SAMPLES / "hello.wav"), load_audio(SAMPLES / "weather.mp3")]
    options = DecodeOptions(language="en")
    together = tiny_transcribe.clips(clips, DecodeOptions(language="en", batch_size=8))
    for clip, (_, segments) in zip(clips, together, strict=True):
        alone = list(tiny_transcribe(clip, options)[1])
        assert wer(_text(alone), _text(segments)) <= 0.1


def test_clips_find_each_ones_language(base_transcribe):
    clips = [load_audio(SAMPLES / "wetter_de.ogg"), load_audio(SAMPLES / "hello.wav")]
    results = base_transcribe.clips(clips, DecodeOptions(batch_size=4))
    assert [info.language for info, _ in results] == ["de", "en"]
    assert wer(sample_text("wetter_de"), _text(results[0][1])) < 0.5
    assert wer(sample_text("hello"), _text(results[1][1])) <= 0.2


def _seg(text: str, *, logprob: float = -0.2, no_speech: float = 0.1) -> Segment:
    return Segment(id=0, start=0.0, end=2.0, text=text, avg_logprob=logprob, no_speech_prob=no_speech)


def test_results_sequential_decoding_would_redo_are_redone():
    o = DecodeOptions()
    assert not _redo([_seg(" The weather is fine today.")], o)
    assert not _redo([], o)
    assert _redo([_seg(" The weather is fine today.", logprob=-1.3)], o)  # temperature fallback
    assert _redo([_seg(" na" * 60)], o)  # compresses too well: a loop
    assert _redo([_seg(" the next one," * 12)], o)  # a repeated phrase
    assert not _redo([_seg(" mm hmm", logprob=-1.3, no_speech=0.9)], o)  # non-speech: skipped, not redone


def test_the_clip_checks_take_the_no_speech_threshold_the_engine_gets():
    """--no-speech-threshold: a clip is called silent by the same rule the engine applies to a window."""
    doubtful = [_seg(" mm hmm", logprob=-1.3, no_speech=0.7)]
    assert not _redo(doubtful, DecodeOptions())  # 0.7 > 0.6: silence, as faster-whisper would skip it
    assert _redo(doubtful, DecodeOptions(no_speech_threshold=0.8))  # not silence: a fallback, redone


def test_a_clip_the_batch_cannot_do_is_decoded_alone():
    hello = load_audio(SAMPLES / "hello.wav")
    padded = np.concatenate([np.zeros(2 * SR, np.float32), hello, np.zeros(2 * SR, np.float32)])
    seen_by_engine: list[int] = []
    alone_calls: list[int] = []

    def engine(clips, options):  # scripted: the second clip comes back as a repetition loop
        seen_by_engine.extend(len(c) for c in clips)
        texts = [" Hello there.", " again" * 40, " Bye now."]
        return [
            (TranscriptInfo("en", 1.0, len(c) / SR), [_seg(t)]) for c, t in zip(clips, texts, strict=True)
        ]

    def alone(audio, options):
        assert options.batch_size == 0  # redone by sequential decoding, with its fallback
        alone_calls.append(len(audio))
        return TranscriptInfo("en", 1.0, len(audio) / SR), iter([_seg(" decoded alone")])

    silence = np.zeros(3 * SR, np.float32)
    clips = [padded, hello[: 5 * SR], silence, hello]
    results = clips_pipeline(engine, alone)(clips, DecodeOptions(language="en", batch_size=8))
    assert len(seen_by_engine) == 3  # the silent clip never reaches the batch
    assert seen_by_engine[0] < len(padded) - 3 * SR  # trimmed to its speech
    assert alone_calls == [5 * SR, 3 * SR]  # the loop and the silence, whole
    texts = [_text(s) for _, s in results]
    assert texts == [" Hello there.", " decoded alone", " decoded alone", " Bye now."]
    assert 1.5 < results[0][1][0].start < 2.0  # times moved back onto the untrimmed clip


def test_only_short_decoded_audio_fits_a_batch():
    assert fits(np.zeros(30 * SR, np.float32))
    assert not fits(np.zeros(30 * SR + 1, np.float32))
    assert not fits(np.zeros(0, np.float32))
    assert not fits(None)


@pytest.mark.slow
def test_folder_with_batch_size_writes_every_file_and_isolates_failures(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("hello.wav", "weather.mp3", "lecture.flac"):  # lecture: 49 s, decoded alone
        shutil.copy(SAMPLES / name, folder / name)
    sf.write(folder / "quiet.wav", np.zeros(4 * SR, np.float32), SR)
    (folder / "broken.mp3").write_bytes(b"ID3" + bytes(range(256)) * 40)
    out = tmp_path / "out"
    res = run_cli("-m", "tiny.en", "-l", "en", "--batch-size", "4", "-f", "json", "-o", str(out), str(folder))
    assert res.returncode == 1, res.stderr  # one input failed, the rest were done
    errors = [line for line in res.stderr.decode().splitlines() if "error" in line]
    assert len(errors) == 1 and "broken.mp3" in errors[0]
    written = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in out.glob("*.json")}
    assert sorted(written) == ["hello", "lecture", "quiet", "weather"]
    for name in ("hello", "weather", "lecture"):
        assert wer(sample_text(name), written[name]["text"]) <= 0.2, name
    assert written["quiet"]["segments"] == []
    assert not [p for p in out.iterdir() if p.name.startswith(PARTIAL_PREFIX)]  # no partial files left


class _ScriptedWhisper:
    """A scripted model with a ``clips`` method that records each batch (plumbing only)."""

    def __init__(self, fail_batches: bool = False) -> None:
        self.batches: list[int] = []
        self.alone: list[float] = []
        self.fail_batches = fail_batches

    def __call__(self, audio, options):
        self.alone.append(len(audio) / SR)
        return TranscriptInfo("en", 1.0, len(audio) / SR), iter([_seg(" alone")])

    def clips(self, clips, options):
        if self.fail_batches:
            raise RuntimeError("engine failed")
        self.batches.append(len(clips))
        return [(TranscriptInfo("en", 1.0, len(c) / SR), [_seg(" together")]) for c in clips]


@pytest.mark.parametrize("fail_batches", [False, True])
def test_runner_groups_short_files_and_decodes_the_rest_alone(tmp_path, monkeypatch, cli, fail_batches):
    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(7):
        sf.write(folder / f"clip{k}.wav", np.full(2 * SR, 0.01 * (k + 1), np.float32), SR)
    sf.write(folder / "long.wav", np.zeros(40 * SR, np.float32), SR)
    model = _ScriptedWhisper(fail_batches)
    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", lambda *a, **k: model)
    out = tmp_path / "out"
    res = cli("--batch-size", "3", "--workers", "1", "-f", "txt", "-o", str(out), str(folder))
    assert res.exit_code == 0, res.stderr
    texts = {p.stem: p.read_text(encoding="utf-8").strip() for p in out.glob("*.txt")}
    assert len(texts) == 8 and texts["long"] == "alone"
    if fail_batches:  # a failed batch costs nothing: each clip is decoded alone
        assert sorted(model.alone) == [2.0] * 7 + [40.0]
    else:
        assert model.batches == [3, 3]  # in name order: clip0-2, clip3-5
        assert model.alone == [2.0, 40.0]  # clip6, left alone before long.wav, and long.wav
        assert [texts[f"clip{k}"] for k in range(7)] == ["together"] * 6 + ["alone"]
