"""Every writer against golden files, plus the rules all formats share.

The inputs are synthetic segments, so the output is exact. ``UPDATE_GOLDEN=1 pytest
tests/writers/test_writers.py`` rewrites the files in ``tests/writers/golden/``; read the diff.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pytest
import srt
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import render as render_with
from whisper_cli.core.transcript import Segment, TranscriptInfo, Word
from whisper_cli.writers import (
    FORMATS,
    WRITERS,
    WriterOptions,
    expand_formats,
    make_writer,
)

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

INFO = TranscriptInfo(language="en", language_probability=0.987654, duration=11.0)


def timed_words(text: str, start: float, end: float) -> tuple[Word, ...]:
    """Spread the words of ``text`` evenly over ``[start, end]``, 40 ms apart."""
    parts = text.split()
    step = (end - start) / len(parts)
    return tuple(
        Word(start + i * step, start + (i + 1) * step - 0.04, " " + part, 0.9 - i / 100)
        for i, part in enumerate(parts)
    )


def seg(id: int, start: float, end: float, text: str, *, words: bool = True, **kw: object) -> Segment:
    """A segment whose words, when asked for, are spread evenly over it."""
    timed = timed_words(text, start, end) if words and text.strip() else None
    return Segment(id, start, end, text, words=timed, **kw)  # type: ignore[arg-type]


BASIC = [
    seg(
        0,
        0.0,
        3.2,
        " And so, my fellow Americans,",
        tokens=(400, 370, 11, 452, 7177, 6280, 11),
        avg_logprob=-0.2134,
        compression_ratio=1.35,
        no_speech_prob=0.0123,
    ),
    seg(1, 3.2, 7.85, " ask not what your country can do for you,", seek=320),
    seg(2, 7.6, 7.9, "   ", seek=320),
    seg(3, 8.0, 10.4449, "\task what you can do\nfor your country.", seek=320),
]
LONG_HOURS = [
    seg(0, 3599.9996, 3602.5, " Just before the hour.", words=False),
    seg(1, 359_999.9996, 360_004.25, " A hundred hours in.", words=False),
    seg(2, 1_000_000.0005, 1_000_001.0, " Still going.", words=False),
]
UNICODE = [
    seg(0, 0.0, 2.5, " 안녕하세요, 만나서 반갑습니다.", words=False),
    seg(1, 2.5, 5.0, "你好，世界。今天天气很好，我们去公园散步吧。", words=False),
    seg(2, 5.0, 7.25, " مرحبا بالعالم، كيف حالك؟", words=False),
    seg(3, 7.25, 8.0, " Ünïcödé -- and an arrow --> here", words=False),
]
EMPTY = [seg(0, 0.0, 1.0, " \n ", words=False)]
LAYOUT = WriterOptions(max_line_width=24, max_line_count=2, max_cue_duration=4.0)
KARAOKE = WriterOptions(max_line_width=24, max_line_count=1, highlight_words=True)

CASES: dict[str, tuple[list[Segment], WriterOptions]] = {
    "basic": (BASIC, WriterOptions(source="jfk.flac")),
    "basic_words": (BASIC, WriterOptions(tsv_words=True)),
    "long_hours": (LONG_HOURS, WriterOptions()),
    "unicode": (UNICODE, WriterOptions(source="мир.wav")),
    "unicode_layout": (UNICODE, WriterOptions(max_line_width=12, max_line_count=2)),
    "empty": (EMPTY, WriterOptions()),
    "layout": (BASIC, LAYOUT),
    "karaoke": (BASIC[:2], KARAOKE),
}
GOLDEN_FILES = [
    *(f"basic.{fmt}" for fmt in FORMATS),
    "basic_words.tsv",
    "long_hours.srt",
    "long_hours.vtt",
    "unicode.srt",
    "unicode.jsonl",
    "unicode.json",
    "unicode_layout.srt",
    *(f"empty.{fmt}" for fmt in FORMATS),
    "layout.srt",
    "layout.vtt",
    "karaoke.srt",
    "karaoke.vtt",
]


class RecordingFile(io.StringIO):
    """A text file that remembers how much had been written at each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed_at: list[int] = []

    def flush(self) -> None:
        self.flushed_at.append(len(self.getvalue()))
        super().flush()


DEFAULT = WriterOptions()


def render(fmt: str, segments: Iterable[Segment], options: WriterOptions = DEFAULT) -> str:
    """Run one writer over ``segments`` and return what it wrote."""
    return render_with(fmt, segments, options, INFO)


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden(name: str) -> None:
    stem, fmt = name.split(".")
    segments, options = CASES[stem]
    written = render(fmt, segments, options)
    path = GOLDEN / name
    if UPDATE:
        path.write_text(written, encoding="utf-8", newline="")
    assert written == path.read_bytes().decode("utf-8")


def test_registry() -> None:
    assert FORMATS == ("txt", "srt", "vtt", "tsv", "json", "jsonl")
    assert set(WRITERS) == set(FORMATS)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["srt"], ("srt",)),
        (["all"], FORMATS),
        (["srt,vtt", "txt"], ("srt", "vtt", "txt")),
        (["vtt", "all"], ("vtt", "txt", "srt", "tsv", "json", "jsonl")),
        (["SRT", " srt ", "srt,"], ("srt",)),
    ],
)
def test_expand_formats(names: list[str], expected: tuple[str, ...]) -> None:
    assert expand_formats(names) == expected


@pytest.mark.parametrize("names", [["srt,docx"], ["pdf"], [], [","]])
def test_expand_formats_rejects(names: list[str]) -> None:
    with pytest.raises(ValueError, match="format"):
        expand_formats(names)


def test_make_writer_unknown() -> None:
    with pytest.raises(ValueError, match=r"'doc'.*txt, srt"):
        make_writer("doc", io.StringIO(), WriterOptions())


def test_json_shape_follows_openai_whisper() -> None:
    document = json.loads(render("json", BASIC))
    assert list(document)[:3] == ["text", "segments", "language"]
    assert document["text"] == "".join(s.text for s in BASIC if s.text.strip())
    assert [s["id"] for s in document["segments"]] == [0, 1, 3]  # blank id 2 dropped
    first = document["segments"][0]
    assert list(first) == [
        "id",
        "seek",
        "start",
        "end",
        "text",
        "tokens",
        "temperature",
        "avg_logprob",
        "compression_ratio",
        "no_speech_prob",
        "words",
    ]
    assert first["tokens"] == [400, 370, 11, 452, 7177, 6280, 11]
    assert list(first["words"][0]) == ["start", "end", "word", "probability"]
    assert document["segments"][2]["end"] == 10.445  # rounded to milliseconds


def test_json_without_words_has_no_words_key() -> None:
    document = json.loads(render("json", UNICODE))
    assert all("words" not in s for s in document["segments"])
    assert "안녕하세요" in render("json", UNICODE)  # UTF-8, not \\u escapes


def test_jsonl_records() -> None:
    lines = render("jsonl", BASIC, WriterOptions(source="a.wav")).splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == [0, 1, 3]
    assert {r["file"] for r in records} == {"a.wav"}
    assert {r["language"] for r in records} == {"en"}
    assert records[2]["text"] == "ask what you can do\nfor your country."


@pytest.mark.parametrize("fmt", FORMATS)
def test_blank_segments_write_nothing(fmt: str) -> None:
    assert render(fmt, BASIC[2:3]) == render(fmt, [])


@pytest.mark.parametrize("fmt", FORMATS)
def test_flushes_after_each_segment(fmt: str) -> None:
    file = RecordingFile()
    writer = make_writer(fmt, file, WriterOptions(max_line_width=20))
    writer.start(INFO)
    sizes = []
    for segment in BASIC:
        writer.write(segment)
        sizes.append(len(file.getvalue()))
        if fmt != "json":
            assert file.flushed_at and file.flushed_at[-1] == sizes[-1]
    if fmt == "json":
        assert file.getvalue() == ""  # the one buffered format
    else:
        assert sizes[0] < sizes[1] == sizes[2] < sizes[3]  # blank segment 2: nothing
    writer.finish()
    assert file.flushed_at[-1] == len(file.getvalue()) > 0


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
@pytest.mark.parametrize("options", [WriterOptions(), LAYOUT, KARAOKE])
def test_cue_text_never_contains_the_arrow(fmt: str, options: WriterOptions) -> None:
    segments = [
        seg(0, 0.0, 2.0, " a --> b"),
        seg(1, 2.0, 4.0, " c ---> d -->", words=False),
        seg(2, 4.0, 6.0, " x--> y<-->z"),
    ]
    cue_lines = [line for line in render(fmt, segments, options).splitlines() if " --> " not in line]
    assert cue_lines and not any("-->" in line for line in cue_lines)


def test_vtt_escapes_markup_characters() -> None:
    text = render("vtt", [seg(0, 0.0, 1.0, " 1 < 2 & <b>bold</b>")])
    assert "1 &lt; 2 &amp; &lt;b&gt;bold&lt;/b&gt;" in text


def test_tsv_replaces_tabs_and_newlines() -> None:
    rows = render("tsv", BASIC).splitlines()
    assert rows[0] == "start\tend\ttext"
    assert rows[-1] == "8000\t10445\task what you can do for your country."
    assert all(row.count("\t") == 2 for row in rows)


def test_tsv_word_rows_fall_back_to_segments() -> None:
    segments = [BASIC[0], seg(1, 3.2, 4.0, " No words here.", words=False)]
    rows = render("tsv", segments, WriterOptions(tsv_words=True)).splitlines()
    assert rows[1:] == [
        "0\t600\tAnd",
        "640\t1240\tso,",
        "1280\t1880\tmy",
        "1920\t2520\tfellow",
        "2560\t3160\tAmericans,",
        "3200\t4000\tNo words here.",
    ]


def test_srt_numbering_continues_across_segments() -> None:
    numbers = [
        line for line in render("srt", BASIC, LAYOUT).split("\n\n")[:-1] for line in line.splitlines()[:1]
    ]
    assert numbers == [str(i) for i in range(1, len(numbers) + 1)]


def test_srt_highlight_without_words_is_plain() -> None:
    options = WriterOptions(highlight_words=True)
    plain = render("srt", UNICODE, WriterOptions())
    assert render("srt", UNICODE, options) == plain
    assert render("vtt", UNICODE, options) == render("vtt", UNICODE, WriterOptions())


SEGMENT_TEXT = st.text(max_size=40)  # any Unicode: tabs, newlines, U+2028, arrows, CJK…


@st.composite
def any_segments(draw: st.DrawFn) -> list[Segment]:
    """Segments with arbitrary text and times, some with words made from that text."""
    out = []
    for index, text in enumerate(draw(st.lists(SEGMENT_TEXT, max_size=5))):
        start = draw(st.floats(0, 100))
        end = start + draw(st.floats(0, 10))
        words = timed_words(text, start, end) if text.split() and draw(st.booleans()) else None
        out.append(Segment(index, start, end, text, words=words))
    return out


@settings(max_examples=100, deadline=None)
@given(any_segments(), st.booleans())
def test_every_format_stays_well_formed(segments: list[Segment], highlight: bool) -> None:
    kept = [s for s in segments if s.text.strip()]
    options = WriterOptions(max_line_width=16, max_line_count=2, highlight_words=highlight, tsv_words=True)
    txt = render("txt", segments, options).split("\n")
    assert len(txt) == len(kept) + 1 and txt[-1] == ""
    assert all(row.count("\t") == 2 for row in render("tsv", segments, options).split("\n")[:-1])
    assert len(json.loads(render("json", segments, options))["segments"]) == len(kept)
    jsonl = render("jsonl", segments, options).split("\n")
    assert [json.loads(line)["id"] for line in jsonl[:-1]] == [s.id for s in kept]
    subtitles = render("srt", segments, options)
    assert len(list(srt.parse(subtitles))) == subtitles.count(" --> ")
    for line in render("vtt", segments, options).split("\n"):
        assert "-->" not in line or re.fullmatch(r"\S+ --> \S+", line)


def test_live_txt_writes_a_line_per_sentence_word_by_word():
    import io

    from whisper_cli.core.transcript import Segment
    from whisper_cli.writers.base import WriterOptions
    from whisper_cli.writers.txt import TxtWriter

    out = io.StringIO()
    writer = TxtWriter(out, WriterOptions(sentences=True))
    seen = []
    for text in (" the world", " safe for you. Always begin", " with a capital", " letter.", " Mr. Quilter"):
        writer.write(Segment(0, 0.0, 1.0, text))
        seen.append(out.getvalue())
    assert seen[0] == "the world"  # written at once, the line left open
    assert seen[1] == "the world safe for you.\nAlways begin"
    writer.finish()
    assert out.getvalue().splitlines() == [
        "the world safe for you.",
        "Always begin with a capital letter.",
        "Mr. Quilter",  # an abbreviation is not a sentence's end
    ]
