"""`whisper-cli --diarize` end to end: real speech, the real speaker weights and the real tiny.en model."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import SAMPLES, requires_eval, run_cli, sample_text, wer
from tests.diarize.conversations import conversation
from whisper_cli.audio.load import load_audio
from whisper_cli.core.errors import ExitCode
from whisper_cli.core.transcript import DiarizeOptions, Segment
from whisper_cli.diarize import labels
from whisper_cli.diarize.labels import Labeller
from whisper_cli.diarize.speakers import diarize

pytestmark = pytest.mark.usefixtures("tiny_model_path")
RATE = 16000
LABEL = re.compile(r"^(SPEAKER_\d+): (.*)$")


def _call(folder: Path) -> Path:
    """A stereo call from the project's samples: hello.wav on the left, then weather.mp3 on the
    right, each leaking into the other channel at -26 dB."""
    hello, weather = load_audio(SAMPLES / "hello.wav"), load_audio(SAMPLES / "weather.mp3")
    left = np.zeros(hello.size + weather.size + RATE, np.float32)
    right = left.copy()
    left[: hello.size] = hello
    right[hello.size + RATE // 2 : hello.size + RATE // 2 + weather.size] = weather
    path = folder / "call.wav"
    sf.write(path, np.stack([left + 0.05 * right, right + 0.05 * left], axis=1), RATE)
    return path


def _cues(text: str, pattern: str) -> list[tuple[str, str]]:
    """(label, text) of each SRT or VTT cue."""
    found = []
    for block in text.strip().split("\n\n"):
        lines = [line for line in block.splitlines() if "-->" not in line and not line.isdigit()]
        match = re.match(pattern, "\n".join(lines), re.S)
        if match:
            found.append((match.group(1), match.group(2)))
    return found


def test_stereo_call_one_speaker_per_channel_in_every_format(tmp_path: Path) -> None:
    call = _call(tmp_path)
    out = tmp_path / "out"
    res = run_cli(str(call), "-m", "tiny.en", "--diarize", "channels", "-f", "all", "-o", str(out),
                  "--report", str(tmp_path / "report.json"))  # fmt: skip
    assert res.returncode == 0, res.stderr
    lines = [LABEL.match(line) for line in (out / "call.txt").read_text().splitlines()]
    assert [m.group(1) for m in lines if m] == ["SPEAKER_1", "SPEAKER_2"] and all(lines)
    assert wer(sample_text("hello"), lines[0].group(2)) <= 0.1
    assert wer(sample_text("weather"), lines[1].group(2)) <= 0.15
    document = json.loads((out / "call.json").read_text())
    segments = [(s["speaker"], s["text"].strip()) for s in document["segments"]]
    assert document["speakers"] == ["SPEAKER_1", "SPEAKER_2"] and "words" not in document["segments"][0]
    # the same labels, in the same order, in every format
    assert _cues((out / "call.srt").read_text(), r"(SPEAKER_\d+): (.*)") == segments
    assert _cues((out / "call.vtt").read_text(), r"<v (SPEAKER_\d+)>(.*)") == segments
    rows = [line.split("\t") for line in (out / "call.tsv").read_text().splitlines()]
    assert rows[0] == ["start", "end", "text", "speaker"] and [(r[3], r[2]) for r in rows[1:]] == segments
    records = [json.loads(line) for line in (out / "call.jsonl").read_text().splitlines()]
    assert [(r["speaker"], r["text"]) for r in records] == segments
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["inputs"][0]["speakers"] == 2 and report["settings"]["diarize"]["mode"] == "channels"


def test_mono_input_with_channels_is_one_line_and_exit_2(tmp_path: Path) -> None:
    res = run_cli(str(SAMPLES / "hello.wav"), "-m", "tiny.en", "--diarize", "channels")
    assert res.returncode == ExitCode.USAGE and res.stdout == b""
    (line,) = res.stderr.decode().splitlines()
    assert "hello.wav" in line and "mono" in line and "--diarize channels needs a stereo recording" in line


def test_in_a_folder_a_mono_input_fails_and_the_others_go_on(tmp_path: Path) -> None:
    folder = tmp_path / "calls"
    folder.mkdir()
    _call(folder)
    (folder / "mono.wav").write_bytes((SAMPLES / "hello.wav").read_bytes())
    out = tmp_path / "out"
    res = run_cli(str(folder), "-m", "tiny.en", "--diarize", "channels", "--workers", "2", "-o", str(out),
                  "--report", str(tmp_path / "report.json"))  # fmt: skip
    assert res.returncode == ExitCode.FAILED
    assert "mono.wav: mono: --diarize channels needs a stereo recording" in res.stderr.decode()
    assert (out / "call.txt").read_text().startswith("SPEAKER_1: ") and not (out / "mono.txt").exists()
    report = {Path(r["path"]).name: r for r in json.loads((tmp_path / "report.json").read_text())["inputs"]}
    assert report["call.wav"]["speakers"] == 2 and report["mono.wav"]["status"] == "failed"


def test_one_speaker_one_label_and_the_ledger_redoes_a_file_without_speakers(tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_cli(str(SAMPLES / "hello.wav"), "-m", "tiny.en", "-o", str(out))
    assert first.returncode == 0, first.stderr
    assert not (out / "hello.txt").read_text().startswith("SPEAKER")
    again = run_cli(str(SAMPLES / "hello.wav"), "-m", "tiny.en", "-o", str(out), "--diarize",
                    "--report", str(tmp_path / "report.json"))  # fmt: skip
    assert again.returncode == 0, again.stderr
    (line,) = (out / "hello.txt").read_text().splitlines()  # one speaker, one turn, one line
    assert line.startswith("SPEAKER_1: ") and wer(sample_text("hello"), line) <= 0.1
    (record,) = json.loads((tmp_path / "report.json").read_text())["inputs"]
    assert (record["status"], record["speakers"]) == ("done", 1)


def test_a_long_recording_is_diarized_block_by_block_from_its_file(tmp_path: Path) -> None:
    """The path of recordings too long to hold (audio None: read again from the file) finds
    the turns that the whole recording in memory gives."""
    audio = np.concatenate([load_audio(SAMPLES / "lecture.flac"), load_audio(SAMPLES / "hello.wav")])
    path = tmp_path / "long.flac"
    sf.write(path, audio, RATE)
    segment = Segment(0, 0.0, audio.size / RATE, " all of it")
    streamed = list(Labeller(DiarizeOptions(), None, str(path), "long.flac").label([segment]))
    whole = diarize(audio)
    assert whole and [s.speaker for s in streamed] == ["SPEAKER_1"]
    held = list(Labeller(DiarizeOptions(), audio, str(path), "long.flac").label([segment]))
    assert held == streamed


def test_channel_turns_cut_into_chunks_join_up_again(tmp_path: Path, monkeypatch) -> None:
    call = _call(tmp_path)
    words = [Segment(i, t, t + 0.5, f" w{i}") for i, t in enumerate(np.arange(0.0, 24.0, 0.5))]
    whole = list(Labeller(DiarizeOptions(mode="channels"), None, str(call), "call.wav").label(words))
    monkeypatch.setattr(labels, "CHANNEL_SECONDS", 3.0)  # cut inside both speakers' turns
    chunked = list(Labeller(DiarizeOptions(mode="channels"), None, str(call), "call.wav").label(words))
    assert [s.speaker for s in chunked] == [s.speaker for s in whole]
    assert {s.speaker for s in whole} == {"SPEAKER_1", "SPEAKER_2"}


@requires_eval
def test_a_conversation_of_real_readers_gets_a_line_per_turn(tmp_path: Path) -> None:
    """Two LibriSpeech/LibriVox readers taking turns (../shared/eval): SPEAKER_n lines, labels on
    the words that agree with who spoke, segments cut where the speaker changes."""
    audio, turns = conversation(["ls251", "librivox"], 30, seed=1)
    talk = tmp_path / "talk.wav"
    sf.write(talk, audio, RATE)
    res = run_cli(str(talk), "-m", "tiny.en", "--diarize")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.decode().splitlines()
    assert len(lines) >= 3 and all(LABEL.match(line) for line in lines)
    said = [LABEL.match(line).group(1) for line in lines]  # type: ignore[union-attr]
    assert set(said) == {"SPEAKER_1", "SPEAKER_2"} and all(a != b for a, b in itertools.pairwise(said))
    res = run_cli(str(talk), "-m", "tiny.en", "--diarize", "-f", "json", "--word-timestamps")
    document = json.loads(res.stdout)
    words = [w for s in document["segments"] for w in s["words"]]
    truth = [_who(turns, (w["start"] + w["end"]) / 2) for w in words]
    found = [w["speaker"] for w in words]
    best = max(
        sum(mapping[f] == t for f, t in zip(found, truth, strict=True))
        for mapping in ({"SPEAKER_1": a, "SPEAKER_2": b} for a, b in ((0, 1), (1, 0)))
    )
    assert best / len(words) >= 0.85
    for segment in document["segments"]:  # a segment is one speaker's
        assert {w["speaker"] for w in segment["words"]} == {segment["speaker"]}


def _who(turns, at: float) -> int:
    return min(
        turns, key=lambda t: 0.0 if t.start <= at <= t.end else min(abs(t.start - at), abs(t.end - at))
    ).speaker
