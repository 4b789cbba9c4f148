"""The real tiny.en (and multilingual base) model on real audio: words, formats, streaming, pipes.

Assertions are word error rates and structure, never exact strings: CTranslate2's
output can differ across CPUs.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import EVAL_DIR, ROOT, SAMPLES, requires_eval, run_cli, sample_text, wer
from whisper_cli.audio.load import load_audio
from whisper_cli.core.transcript import DecodeOptions, Task

OPENAI_SEGMENT_KEYS = {
    "id", "seek", "start", "end", "text", "tokens", "temperature",
    "avg_logprob", "compression_ratio", "no_speech_prob",
}  # fmt: skip


@pytest.mark.parametrize(
    ("name", "max_wer"), [("hello.wav", 0.1), ("weather.mp3", 0.1), ("lecture.flac", 0.1)]
)
def test_samples_are_transcribed_accurately(tiny_transcribe, name, max_wer):
    info, segments = tiny_transcribe(load_audio(SAMPLES / name), DecodeOptions())
    segs = list(segments)
    assert info.language == "en"
    assert info.duration == pytest.approx(sf.info(SAMPLES / name).duration, abs=0.1)
    assert wer(sample_text(name), " ".join(s.text for s in segs)) <= max_wer
    assert all(0 <= s.start <= s.end <= info.duration + 0.5 for s in segs)
    assert [s.start for s in segs] == sorted(s.start for s in segs)


def test_word_timestamps_are_inside_their_segments(tiny_transcribe):
    _, segments = tiny_transcribe(load_audio(SAMPLES / "weather.mp3"), DecodeOptions(word_timestamps=True))
    for seg in segments:
        assert seg.words, seg
        assert "".join(w.word for w in seg.words).strip() == seg.text.strip()
        assert all(seg.start - 0.01 <= w.start <= w.end <= seg.end + 0.01 for w in seg.words)


@pytest.mark.parametrize("kind", ["silence", "noise", "hum"])
def test_non_speech_gives_no_words(tiny_transcribe, kind):
    rng = np.random.default_rng(7)
    n = 16000 * 30
    audio = {
        "silence": np.zeros(n, np.float32),
        "noise": (0.05 * rng.standard_normal(n)).astype(np.float32),
        "hum": (0.2 * np.sin(2 * np.pi * 50 * np.arange(n) / 16000)).astype(np.float32),
    }[kind]
    _, segments = tiny_transcribe(audio, DecodeOptions())
    assert [s.text for s in segments] == []


def test_silence_file_gives_empty_output_and_exit_0(tmp_path):
    silent = tmp_path / "silence.wav"
    sf.write(silent, np.zeros(16000 * 20, np.float32), 16000)
    res = run_cli(str(silent), "-m", "tiny.en")
    assert res.returncode == 0, res.stderr
    assert res.stdout == b""


def test_cli_prints_the_transcript():
    res = run_cli("samples/hello.wav", "-m", "tiny.en")
    assert res.returncode == 0, res.stderr
    assert wer(sample_text("hello"), res.stdout.decode()) <= 0.1
    assert b"\x1b" not in res.stdout and res.stderr == b""


@pytest.fixture(scope="module")
def all_formats(tmp_path_factory):
    out = tmp_path_factory.mktemp("formats")
    res = run_cli("samples/weather.mp3", "-m", "tiny.en", "-f", "all", "--word-timestamps", "-o", str(out))
    assert res.returncode == 0, res.stderr
    return out


def test_json_is_an_openai_whisper_document(all_formats):
    doc = json.loads((all_formats / "weather.json").read_text(encoding="utf-8"))
    assert doc["language"] == "en"
    assert doc["text"].strip() == "".join(s["text"] for s in doc["segments"]).strip()
    for seg in doc["segments"]:
        assert set(seg) >= OPENAI_SEGMENT_KEYS
        assert all({"start", "end", "word", "probability"} <= set(w) for w in seg["words"])
    assert wer(sample_text("weather"), doc["text"]) <= 0.1


def test_jsonl_tsv_txt_agree(all_formats):
    records = [json.loads(line) for line in (all_formats / "weather.jsonl").read_text().splitlines()]
    txt = (all_formats / "weather.txt").read_text().splitlines()
    tsv = (all_formats / "weather.tsv").read_text().splitlines()
    assert [r["text"] for r in records] == txt
    assert tsv[0] == "start\tend\ttext"
    assert len(tsv) - 1 == len(records)
    assert int(tsv[1].split("\t")[1]) == round(records[0]["end"] * 1000)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_subtitles_are_readable_by_ffmpeg(all_formats, tmp_path, fmt):
    converted = tmp_path / f"out.{'vtt' if fmt == 'srt' else 'srt'}"
    res = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", str(all_formats / f"weather.{fmt}"), str(converted)],
        capture_output=True,
        text=True,
    )
    assert res.returncode == 0 and res.stderr == "", res.stderr
    assert "Good morning" in converted.read_text()


def test_output_streams_before_the_file_is_done(tmp_path):
    """The first segment reaches the pipe while the process is still decoding."""
    long = tmp_path / "long.flac"
    audio, rate = sf.read(SAMPLES / "lecture.flac", dtype="float32")
    sf.write(long, np.concatenate([audio] * 4), rate)  # about 200 s
    proc = subprocess.Popen(
        [sys.executable, "-m", "whisper_cli", str(long), "-m", "tiny.en", "-f", "jsonl"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        first = json.loads(proc.stdout.readline())
        still_running = proc.poll() is None
        rest = proc.stdout.read().splitlines()
        assert proc.wait(timeout=300) == 0
    finally:
        proc.kill()
    assert first["id"] == 0 and first["start"] < 10
    assert still_running, "the first segment came only after the process had finished"
    assert json.loads(rest[-1])["end"] > 150


def test_pipe_into_head_exits_quietly_with_one_json_object():
    cmd = f"cat samples/lecture.flac | {sys.executable} -m whisper_cli - -m tiny.en -f jsonl | head -n 1"
    res = subprocess.run(
        ["bash", "-c", f"set -o pipefail; {cmd}"], capture_output=True, cwd=ROOT, timeout=300
    )
    lines = res.stdout.splitlines()
    assert len(lines) == 1
    assert json.loads(lines[0])["file"] == "-"
    assert b"\x1b" not in res.stdout
    assert b"Traceback" not in res.stderr and b"Broken pipe" not in res.stderr


def test_stdin_gives_the_same_words_as_the_file():
    data = (SAMPLES / "weather.mp3").read_bytes()
    res = run_cli("-", "-m", "tiny.en", input=data)
    assert res.returncode == 0, res.stderr
    assert wer(sample_text("weather"), res.stdout.decode()) <= 0.1


def test_video_input(tmp_path):
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg not installed")
    video = tmp_path / "talk.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "color=c=black:s=64x64:d=9", "-i",
         str(SAMPLES / "hello.wav"), "-shortest", "-c:v", "libx264", "-c:a", "aac", str(video)],
        check=True,
    )  # fmt: skip
    res = run_cli(str(video), "-m", "tiny.en")
    assert res.returncode == 0, res.stderr
    assert wer(sample_text("hello"), res.stdout.decode()) <= 0.15


# --- multilingual base model -------------------------------------------------------------


def test_base_detects_german(base_transcribe):
    info, segments = base_transcribe(load_audio(SAMPLES / "wetter_de.ogg"), DecodeOptions())
    text = " ".join(s.text for s in segments)
    assert info.language == "de" and info.language_probability > 0.5
    assert "Berlin" in text and "Guten Morgen" in text


def test_language_option_forces_the_language(base_transcribe):
    info, segments = base_transcribe(load_audio(SAMPLES / "wetter_de.ogg"), DecodeOptions(language="de"))
    assert info.language == "de" and info.language_probability == 1
    assert wer(sample_text("wetter_de"), " ".join(s.text for s in segments)) < 0.5


def _eval_items(language: str) -> list[dict]:
    with (EVAL_DIR / "manifest.jsonl").open(encoding="utf-8") as f:
        items = [json.loads(line) for line in f]
    return [i for i in items if i["language"] == language and i["subset"] == "short"]


@requires_eval
@pytest.mark.parametrize("language", ["de", "fr", "es", "ko"])
def test_base_detects_the_language_of_real_speech(base_transcribe, language):
    item = _eval_items(language)[0]
    info, segments = base_transcribe(load_audio(EVAL_DIR / item["audio"]), DecodeOptions())
    assert info.language == language
    text = " ".join(s.text for s in segments)
    if language == "ko":
        import jiwer

        cer = jiwer.cer(item["text"].replace(" ", ""), text.replace(" ", ""))
        assert cer < 0.4, text
        assert any("\uac00" <= ch <= "\ud7a3" for ch in text)  # Hangul syllables
    else:
        assert wer(item["text"], text) < 0.5, text


@requires_eval
def test_translate_gives_english(base_transcribe):
    item = next(i for i in _eval_items("de") if i["id"] == "de_picovoice_leopard")
    audio = load_audio(EVAL_DIR / item["audio"])
    _, original = base_transcribe(audio, DecodeOptions(language="de"))
    _, english = base_transcribe(audio, DecodeOptions(language="de", task=Task.translate))
    original_text = " ".join(s.text for s in original).lower()
    english_text = " ".join(s.text for s in english).lower()
    assert "portal" in original_text and "raum" in original_text
    assert " the " in f" {english_text} " and "raum" not in english_text


@requires_eval
def test_cli_language_and_translate_with_base():
    audio = EVAL_DIR / "audio" / "fr_picovoice_leopard.flac"
    res = run_cli(str(audio), "-m", "base", "-l", "fr", "--task", "translate", "-f", "jsonl")
    assert res.returncode == 0, res.stderr
    records = [json.loads(line) for line in res.stdout.splitlines()]
    assert records and records[0]["language"] == "fr"
    assert " the " in " " + " ".join(r["text"] for r in records).lower() + " "
