"""Speaker labels (--diarize) in every format, and openai-whisper's own writers reading our JSON."""

from __future__ import annotations

import hashlib
import importlib.machinery
import importlib.util
import io
import json
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import render
from whisper_cli.core.transcript import Segment, Word
from whisper_cli.writers import WriterOptions
from whisper_cli.writers.tsv import header

OPENAI_UTILS = Path(__file__).parent / "openai_whisper" / "utils.py.txt"
OPENAI_SHA256 = "c25990446ab7dd5ba30bd52bd4f0e6537f11b5e361a015f02c21355d41027b05"
SPEAKERS = WriterOptions(speakers=True)


def _segment(index: int, start: float, text: str, speaker: str | None, *, words: bool = False) -> Segment:
    ws = None
    if words:
        parts = text.split()
        ws = tuple(
            Word(start + 0.4 * k, start + 0.4 * k + 0.3, " " + w, 0.9, speaker) for k, w in enumerate(parts)
        )
    return Segment(index, start, start + 1.8, " " + text, words=ws, speaker=speaker)


def _dialogue(*, words: bool = False) -> list[Segment]:
    return [
        _segment(0, 0.0, "Good morning.", "SPEAKER_1", words=words),
        _segment(1, 2.0, "How are you?", "SPEAKER_1", words=words),
        _segment(2, 4.0, "Fine, thanks.", "SPEAKER_2", words=words),
        _segment(3, 6.0, "Good.", "SPEAKER_1", words=words),
    ]


def test_txt_has_one_line_per_turn() -> None:
    assert render("txt", _dialogue(), SPEAKERS) == (
        "SPEAKER_1: Good morning. How are you?\nSPEAKER_2: Fine, thanks.\nSPEAKER_1: Good.\n"
    )


def test_txt_without_speakers_has_one_line_per_segment() -> None:
    plain = [Segment(s.id, s.start, s.end, s.text) for s in _dialogue()]
    assert render("txt", plain, SPEAKERS) == "Good morning.\nHow are you?\nFine, thanks.\nGood.\n"


def test_srt_labels_every_cue() -> None:
    text = render("srt", _dialogue(), WriterOptions(speakers=True, max_line_width=8, max_line_count=1))
    cues = [block.split("\n")[2:] for block in text.strip().split("\n\n")]
    assert len(cues) > 4  # segments were cut into several cues, and each is labelled
    assert all(len(lines) == 1 and lines[0].startswith(("SPEAKER_1: ", "SPEAKER_2: ")) for lines in cues)
    assert cues[0] == ["SPEAKER_1: Good"] and ["SPEAKER_2: Fine,"] in cues


def test_vtt_labels_every_cue_with_a_voice_tag() -> None:
    text = render("vtt", _dialogue(words=True), WriterOptions(speakers=True, highlight_words=True))
    cues = [block.split("\n", 1)[1] for block in text.split("\n\n")[1:] if block]
    assert all(cue.startswith(("<v SPEAKER_1>", "<v SPEAKER_2>")) for cue in cues)
    assert "<v SPEAKER_2>Fine, <00:00:04.400>thanks." in cues


def test_json_has_speakers_on_segments_words_and_document() -> None:
    document = json.loads(render("json", _dialogue(words=True), SPEAKERS))
    assert document["speakers"] == ["SPEAKER_1", "SPEAKER_2"]
    assert [s["speaker"] for s in document["segments"]] == [
        "SPEAKER_1",
        "SPEAKER_1",
        "SPEAKER_2",
        "SPEAKER_1",
    ]
    assert all(w["speaker"] == s["speaker"] for s in document["segments"] for w in s["words"])


def test_jsonl_and_tsv_carry_the_speaker() -> None:
    records = [json.loads(line) for line in render("jsonl", _dialogue(words=True), SPEAKERS).splitlines()]
    assert [r["speaker"] for r in records] == ["SPEAKER_1", "SPEAKER_1", "SPEAKER_2", "SPEAKER_1"]
    assert records[2]["words"][0]["speaker"] == "SPEAKER_2"
    rows = [line.split("\t") for line in render("tsv", _dialogue(), SPEAKERS).splitlines()]
    assert rows[0] == ["start", "end", "text", "speaker"]
    assert rows[3] == ["4000", "5800", "Fine, thanks.", "SPEAKER_2"]
    words = render("tsv", _dialogue(words=True), WriterOptions(speakers=True, tsv_words=True)).splitlines()
    assert words[-1].split("\t") == ["6000", "6300", "Good.", "SPEAKER_1"]


def test_without_speakers_no_format_names_any() -> None:
    for fmt in ("txt", "srt", "vtt", "tsv", "json", "jsonl"):
        plain = [Segment(s.id, s.start, s.end, s.text) for s in _dialogue()]
        assert "speaker" not in render(fmt, plain).lower()


def _openai_utils() -> ModuleType:
    data = OPENAI_UTILS.read_bytes()
    assert hashlib.sha256(data).hexdigest() == OPENAI_SHA256, "the copy of openai-whisper's utils.py changed"
    loader = importlib.machinery.SourceFileLoader("openai_whisper_utils", str(OPENAI_UTILS))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


@pytest.mark.parametrize("words", [False, True])
def test_openai_whispers_writers_read_our_json(words: bool) -> None:
    """openai-whisper's WriteTXT, WriteSRT, WriteVTT and WriteTSV over a labelled JSON document."""
    utils = _openai_utils()
    document = json.loads(render("json", _dialogue(words=words), SPEAKERS))
    written = {}
    for name in ("WriteTXT", "WriteSRT", "WriteVTT", "WriteTSV"):
        file = io.StringIO()
        getattr(utils, name)(".").write_result(document, file, {})
        written[name] = file.getvalue()
    assert written["WriteTXT"].splitlines() == ["Good morning.", "How are you?", "Fine, thanks.", "Good."]
    assert "00:00:04,000 --> 00:00:0" in written["WriteSRT"] and "Fine, thanks." in written["WriteSRT"]
    assert written["WriteVTT"].startswith("WEBVTT") and "Fine, thanks." in written["WriteVTT"]
    assert written["WriteTSV"].splitlines()[3] == "4000\t5800\tFine, thanks."


def test_inputs_sharing_stdout_get_whole_labelled_lines() -> None:
    """-o -: lines of inputs decoded at once interleave, so none is left open for a turn."""
    options = WriterOptions(speakers=True, named=True, source="calls/a.wav")
    assert render("txt", _dialogue(), options).splitlines() == [
        "calls/a.wav:SPEAKER_1: Good morning.",
        "calls/a.wav:SPEAKER_1: How are you?",
        "calls/a.wav:SPEAKER_2: Fine, thanks.",
        "calls/a.wav:SPEAKER_1: Good.",
    ]
    rows = render("tsv", _dialogue(), options).splitlines()
    assert rows[0] == "calls/a.wav\t0\t1800\tGood morning.\tSPEAKER_1"  # the stream writes the header
    assert header(named=True, speakers=True) == "file\tstart\tend\ttext\tspeaker\n"
    assert header(named=False, speakers=False) == "start\tend\ttext\n"
