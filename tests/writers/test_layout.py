"""Subtitle layout: unit cases, then hypothesis properties over random words and times."""

from __future__ import annotations

import io
import itertools
import re
import string
from collections.abc import Sequence
from dataclasses import replace

import pytest
import srt
import webvtt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import SAMPLES, render
from whisper_cli.core.transcript import DecodeOptions, Segment, TranscriptInfo, Word
from whisper_cli.writers import WriterOptions
from whisper_cli.writers.layout import Cue, break_lines, layout_segment, split_into_cues
from whisper_cli.writers.text import ends_clause
from whisper_cli.writers.timestamps import to_milliseconds
from whisper_cli.writers.timing import karaoke_spans, place_cues, word_marks
from whisper_cli.writers.units import Unit, segment_units

INFO = TranscriptInfo("en", 1.0, 100.0)


def words_segment(id: int, text: str, start: float = 0.0, step: float = 0.5) -> Segment:
    """A segment whose space-separated words last ``step`` seconds each, back to back."""
    parts = text.split()
    words = tuple(Word(start + i * step, start + (i + 1) * step, " " + part) for i, part in enumerate(parts))
    return Segment(id, start, start + len(parts) * step, " " + text, words=words)


def text_segment(id: int, text: str, start: float, end: float) -> Segment:
    """A segment without word times."""
    return Segment(id, start, end, text)


def lines_of(segment: Segment, **options: object) -> list[str]:
    """Every cue line of the segment's layout, in order."""
    cues = layout_segment(segment, WriterOptions(**options))  # type: ignore[arg-type]
    return [line for cue in cues for line in cue.text.split("\n")]


def stream(segments: Sequence[Segment], options: WriterOptions) -> list[Cue]:
    """Lay out and place segments one by one, as the subtitle writers do."""
    placed: list[Cue] = []
    for segment in segments:
        last_end = placed[-1].end if placed else 0.0
        cues = layout_segment(segment, options)
        placed += place_cues(cues, not_before=last_end, min_duration=options.min_cue_duration)
    return placed


def unit(text: str, start: float, end: float) -> Unit:
    return Unit(text, start, end)


# --- unit cases ---------------------------------------------------------------------------


def test_no_options_is_one_cue_per_segment() -> None:
    segment = words_segment(0, "And so, my fellow Americans, ask not what your country can do")
    (cue,) = layout_segment(segment, WriterOptions())
    assert cue.text == "And so, my fellow Americans, ask not what your country can do"
    assert (cue.start, cue.end) == (0.0, 6.0)


def test_text_without_words_is_stripped_and_on_one_line() -> None:
    (cue,) = layout_segment(text_segment(0, "  two\tlines\nhere  ", 1.0, 2.0), WriterOptions())
    assert cue.text == "two lines here"
    assert (cue.start, cue.end) == (1.0, 2.0)


def test_prefers_a_break_after_punctuation() -> None:
    units = segment_units(words_segment(0, "We went home, and then we slept"))
    lines = break_lines(units, max_width=18, max_words=None)
    assert [len(line) for line in lines] == [3, 4]  # not "We went home, and"


def test_ignores_punctuation_too_early_in_the_line() -> None:
    units = segment_units(words_segment(0, "Hi, we went home and then we slept"))
    lines = break_lines(units, max_width=18, max_words=None)
    assert "".join(u.text for u in lines[0]).strip() == "Hi, we went home"


def test_long_word_stands_alone() -> None:
    segment = words_segment(0, "a supercalifragilisticexpialidocious word")
    assert lines_of(segment, max_line_width=10) == ["a", "supercalifragilisticexpialidocious", "word"]


def test_max_words_per_line() -> None:
    segment = words_segment(0, "one two three four five six seven")
    lines = lines_of(segment, max_words_per_line=3, max_line_count=2)
    assert all(len(line.split()) <= 3 for line in lines)
    assert " ".join(lines) == "one two three four five six seven"


def test_lines_are_balanced() -> None:
    segment = words_segment(0, "ask what you can do for your country")
    assert lines_of(segment, max_line_width=24) == ["ask what you can do", "for your country"]


def test_cjk_text_splits_by_character_without_spaces() -> None:
    text = "今天天气很好，我们去公园散步吧。你觉得怎么样？"
    lines = lines_of(text_segment(0, text, 0.0, 6.0), max_line_width=8)
    assert "".join(lines) == text
    assert all(" " not in line and len(line) <= 8 for line in lines)
    assert not any(line[0] in "，。？" for line in lines)  # punctuation stays on its line
    assert lines[0] == "今天天气很好，"  # broken after the comma, not mid-clause


def test_cjk_word_tokens_are_joined_without_spaces() -> None:
    tokens = ["今天", "天气", "很好", "，", "我们", "去", "公园", "。"]
    words = tuple(Word(i * 0.3, (i + 1) * 0.3, token) for i, token in enumerate(tokens))
    segment = Segment(0, 0.0, 2.4, "".join(tokens), words=words)
    lines = lines_of(segment, max_line_width=7)
    assert lines == ["今天天气很好，", "我们去公园。"]


def test_hangul_breaks_at_spaces_only() -> None:
    lines = lines_of(text_segment(0, "안녕하세요 만나서 반갑습니다", 0.0, 3.0), max_line_width=6)
    assert lines == ["안녕하세요", "만나서", "반갑습니다"]


def test_thai_combining_marks_stay_with_their_base() -> None:
    text = "สวัสดีครับ ยินดีที่ได้รู้จัก"
    lines = lines_of(text_segment(0, text, 0.0, 3.0), max_line_width=4)
    assert "".join(lines) == text.replace(" ", "")
    marks = {chr(c) for c in range(0x0E31, 0x0E3B)} | {chr(c) for c in range(0x0E47, 0x0E4F)}
    assert not any(line[0] in marks for line in lines)


def test_text_times_are_interpolated_by_characters() -> None:
    units = segment_units(text_segment(0, "aaaa bbbbbb", 0.0, 10.0))
    assert [(u.text, u.start, u.end) for u in units] == [("aaaa", 0.0, 4.0), (" bbbbbb", 4.0, 10.0)]


def test_word_and_punctuation_are_never_split() -> None:
    words = (Word(0, 1, " It"), Word(1, 2, " costs"), Word(2, 3, " 3"), Word(3, 4, ".5"), Word(4, 5, "!"))
    units = segment_units(Segment(0, 0, 5, " It costs 3.5!", words=words))
    assert [u.text for u in units] == [" It", " costs", " 3.5!"]
    assert (units[-1].start, units[-1].end) == (2, 5)


def test_max_cue_duration_splits_timed_by_words() -> None:
    segment = words_segment(0, "one two three four five six seven eight", step=1.0)
    cues = layout_segment(segment, WriterOptions(max_cue_duration=3.0))
    assert [(c.start, c.end, c.text) for c in cues] == [
        (0.0, 3.0, "one two three"),
        (3.0, 6.0, "four five six"),
        (6.0, 8.0, "seven eight"),
    ]


def test_max_cue_duration_prefers_punctuation() -> None:
    segment = words_segment(0, "one two, three four five six", step=1.0)
    cues = layout_segment(segment, WriterOptions(max_cue_duration=3.0))
    assert [c.text for c in cues] == ["one two,", "three four five", "six"]


def test_word_longer_than_max_duration_is_one_cue() -> None:
    words = (Word(0, 1, " short"), Word(1, 9, " loooong"), Word(9, 10, " end"))
    cues = layout_segment(
        Segment(0, 0, 10, " short loooong end", words=words), WriterOptions(max_cue_duration=2)
    )
    assert [(c.text, c.start, c.end) for c in cues] == [("short", 0, 1), ("loooong", 1, 9), ("end", 9, 10)]


def test_line_count_splits_into_even_cues() -> None:
    def cues(text: str) -> list[str]:
        segment = words_segment(0, text)
        return [c.text for c in layout_segment(segment, WriterOptions(max_line_width=10, max_line_count=2))]

    assert cues("aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii") == [
        "aaaa bbbb\ncccc",
        "dddd eeee\nffff",
        "gggg hhhh\niiii",  # not 2 full cues and a lone word
    ]
    assert cues("aaaa bbbb cccc, dddd eeee ffff gggg hhhh") == [
        "aaaa bbbb\ncccc, dddd",
        "eeee ffff\ngggg hhhh",
    ]


def test_balanced_lines_prefer_punctuation_then_evenness() -> None:
    text = "So we went down to the river after lunch, and the water was higher than"
    assert lines_of(words_segment(0, text), max_line_width=42) == [
        "So we went down to the river after lunch,",
        "and the water was higher than",
    ]


def test_min_duration_extends_and_pushes_later_cues() -> None:
    first = Segment(0, 0.0, 0.2, " Hi.", words=(Word(0.0, 0.2, " Hi."),))
    second = Segment(1, 0.5, 2.0, " Then more.", words=(Word(0.5, 1.0, " Then"), Word(1.0, 2.0, " more.")))
    cues = stream([first, second], WriterOptions(min_cue_duration=1.0))
    assert [(c.start, c.end) for c in cues] == [(0.0, 1.0), (1.0, 2.0)]


def test_overlapping_segments_never_overlap_as_cues() -> None:
    segments = [words_segment(0, "one two three", 0.0), words_segment(1, "four five", 1.0)]
    cues = stream(segments, WriterOptions())
    assert [(c.start, c.end) for c in cues] == [(0.0, 1.5), (1.5, 2.0)]


def test_backwards_segment_gets_a_millisecond_not_an_empty_or_negative_span() -> None:
    segments = [words_segment(0, "one two three", 5.0), words_segment(1, "earlier", 1.0)]
    cues = stream(segments, WriterOptions())
    assert cues[1].start == cues[0].end == 6.5
    assert cues[1].end == 6.501


def timed_segment(*words: tuple[float, float, str]) -> Segment:
    """A segment of the given ``(start, end, text)`` words."""
    timed = tuple(Word(start, end, text) for start, end, text in words)
    return Segment(0, timed[0].start, timed[-1].end, "".join(w.word for w in timed), words=timed)


def ms_span(cue: Cue) -> tuple[int, int]:
    return to_milliseconds(cue.start), to_milliseconds(cue.end)


@pytest.mark.parametrize("min_duration", [None, 0.0, 0.0004])
@pytest.mark.parametrize(
    ("words", "expected"),
    [
        pytest.param(
            [(1.0, 1.0, " a"), (1.2, 1.2, " b"), (1.2, 1.5, " c")],
            [(1000, 1001), (1200, 1201), (1201, 1500)],
            id="zero-length words",
        ),
        pytest.param(
            [(1.2001, 1.2004, " a"), (1.2004, 1.5, " b")],
            [(1200, 1201), (1201, 1500)],
            id="a word within one millisecond",
        ),
        pytest.param(
            [(1.0, 1.2, " a"), (1.1, 1.2, " b")],
            [(1000, 1200), (1200, 1201)],
            id="a word inside the one before",
        ),
    ],
)
def test_short_cues_last_at_least_a_millisecond(
    words: list[tuple[float, float, str]], expected: list[tuple[int, int]], min_duration: float | None
) -> None:
    options = WriterOptions(max_cue_duration=0.1, min_cue_duration=min_duration)
    cues = stream([timed_segment(*words)], options)
    assert [cue.text for cue in cues] == [text.strip() for *_, text in words]
    assert [ms_span(cue) for cue in cues] == expected


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_karaoke_keeps_zero_length_words(fmt: str) -> None:
    segment = timed_segment((1.0, 1.0, " a"), (1.2, 1.2, " b"), (1.2, 1.5, " c"))
    text = render(fmt, [segment], WriterOptions(max_cue_duration=0.1, highlight_words=True), INFO)
    times = cue_times(text)
    assert times == [(1000, 1001), (1200, 1201), (1201, 1500)]
    assert all(word in text for word in ("a", "b", "c"))


def test_karaoke_spans_cover_the_cue_without_holes() -> None:
    words = (Word(1.0, 1.4, " a"), Word(1.5, 1.9, " b"), Word(1.9, 2.0, " c"))
    cue = place_cues(layout_segment(Segment(0, 1, 2, " a b c", words=words), WriterOptions()), not_before=0)[
        0
    ]
    spans = karaoke_spans(cue)
    assert spans == [(1000, 1400, 0), (1400, 1500, None), (1500, 1900, 1), (1900, 2000, 2)]


def test_word_marks_are_strictly_inside_and_increasing() -> None:
    words = (Word(1.0, 1.4, " a"), Word(1.0, 1.2, " b"), Word(1.5, 1.9, " c"), Word(3.0, 3.0, " d"))
    cue = Cue(1.0, 3.0, (tuple(Unit(w.word, w.start, w.end) for w in words),))
    assert word_marks(cue) == [None, None, 1500, None]


def test_ends_clause() -> None:
    assert ends_clause("home,") and ends_clause("你好。") and ends_clause(' said."')
    assert not ends_clause("home") and not ends_clause("")


def test_split_into_cues_keeps_every_unit() -> None:
    units = [unit(f" w{i}", i, i + 1) for i in range(30)]
    parts = split_into_cues(units, max_width=12, max_words=None, max_lines=2)
    assert [u for part in parts for u in part] == units


# --- properties -----------------------------------------------------------------------------


def chars(alphabet: str, min_size: int, max_size: int) -> st.SearchStrategy[str]:
    """Strings over ``alphabet`` (lists of sampled characters shrink more reliably)."""
    return st.lists(st.sampled_from(alphabet), min_size=min_size, max_size=max_size).map("".join)


PUNCTUATION = st.sampled_from(["", "", "", ",", ".", "?", "!", ";", "…"])
LATIN = st.builds(lambda w, p: " " + w + p, chars(string.ascii_letters + "'", 1, 10), PUNCTUATION)
LONG = chars(string.ascii_lowercase, 20, 50).map(lambda w: " " + w)
CJK = st.builds(
    lambda w, p: w + p,
    chars("今天气很好我们去公园散步吧你世界的是了在有人这中大为上个国ひらがなカタカナ", 1, 3),
    st.sampled_from(["", "", "，", "。", "？", "、"]),
)
THAI = chars("สวัสดีครับกินข้าวยังไม่", 1, 4)
HANGUL = chars("안녕하세요만나서반갑습니다", 1, 5).map(lambda w: " " + w)
WORD_TEXT = st.one_of(LATIN, LATIN, LATIN, CJK, CJK, LONG, THAI, HANGUL)
TIMING = st.tuples(
    st.floats(-0.3, 1.5),  # gap from the previous word: may overlap a little
    st.one_of(st.floats(0, 1.2), st.floats(0, 12)),  # duration, sometimes very long
)


@st.composite
def segments(draw: st.DrawFn) -> list[Segment]:
    """A few segments of random words; some keep word times, some only text."""
    out, clock = [], draw(st.floats(0, 5))
    for index in range(draw(st.integers(1, 4))):
        clock += draw(st.floats(-1.0, 2.0))  # segments may overlap or run backwards
        words = []
        for text in draw(st.lists(WORD_TEXT, min_size=1, max_size=25)):
            gap, duration = draw(TIMING)
            start = max(0.0, clock + gap)
            clock = start + duration
            words.append(Word(start, clock, text))
        text = "".join(w.word for w in words)
        timed = tuple(words) if draw(st.booleans()) else None
        out.append(Segment(index, words[0].start, max(clock, words[0].start), text, words=timed))
    return out


@st.composite
def options(draw: st.DrawFn) -> WriterOptions:
    """Random layout limits, each maybe unset; min duration never above max."""
    max_duration = draw(st.none() | st.floats(0.1, 10))
    min_duration = draw(st.none() | st.floats(0, max_duration or 3))
    return WriterOptions(
        max_line_width=draw(st.none() | st.integers(1, 50)),
        max_line_count=draw(st.none() | st.integers(1, 4)),
        max_words_per_line=draw(st.none() | st.integers(1, 8)),
        max_cue_duration=max_duration,
        min_cue_duration=min_duration,
        highlight_words=draw(st.booleans()),
    )


def squash(text: str) -> str:
    return "".join(text.split())


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TIMING_LINE = re.compile(r"(\d{2,}:\d\d:\d\d[,.]\d{3}) --> (\d{2,}:\d\d:\d\d[,.]\d{3})")
INLINE_TIME = re.compile(r"<(\d{2,}:\d\d:\d\d\.\d{3})>")


def ms(stamp: str) -> int:
    """``HH:MM:SS.mmm`` (either marker) to milliseconds."""
    hours, minutes, rest = stamp.replace(",", ".").split(":")
    seconds, millis = rest.split(".")
    return ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1000 + int(millis)


def cue_times(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` ms of every cue timing line in SRT or VTT text."""
    times = []
    for line in text.splitlines():
        if "-->" in line:
            match = TIMING_LINE.fullmatch(line)
            assert match, line
            times.append((ms(match[1]), ms(match[2])))
    return times


def check_limits(cue: Cue, opts: WriterOptions) -> None:
    """Every limit holds unless a single unit makes it impossible."""
    if opts.max_line_count:
        assert len(cue.lines) <= opts.max_line_count
    for line, text in zip(cue.lines, cue.text.split("\n"), strict=True):
        assert text and text == text.strip()
        if len(line) > 1:  # a single unit may be wider than the line
            assert opts.max_line_width is None or len(text) <= opts.max_line_width
        assert opts.max_words_per_line is None or len(line) <= opts.max_words_per_line
    if opts.max_cue_duration is not None and len(cue.units) > 1:
        assert cue.end - cue.start <= opts.max_cue_duration + 1e-9
    if opts.min_cue_duration is not None:
        assert cue.end - cue.start >= opts.min_cue_duration - 1e-9


@PROPERTY
@given(segments(), options())
def test_layout_properties(segs: list[Segment], opts: WriterOptions) -> None:
    for segment in segs:  # every word exactly once, in order
        cues = layout_segment(segment, opts)
        assert squash("".join(cue.text for cue in cues)) == squash(segment.text)
    previous_end = 0.0
    for cue in stream(segs, opts):
        check_limits(cue, opts)
        assert previous_end <= cue.start < cue.end  # monotonic, never overlapping, never empty
        assert cue.start == max(cue.units[0].start, previous_end)  # timed by its words
        assert cue.end >= cue.units[-1].end
        assert to_milliseconds(previous_end) <= to_milliseconds(cue.start) < to_milliseconds(cue.end)
        previous_end = cue.end


@PROPERTY
@given(segments(), options(), st.sampled_from(["srt", "vtt"]))
def test_written_subtitles_read_back(segs: list[Segment], opts: WriterOptions, fmt: str) -> None:
    text = render(fmt, segs, opts, INFO)
    times = cue_times(text)
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(times))
    assert all(start < end for start, end in times)
    if fmt == "srt":
        assert len(list(srt.parse(text))) == len(times)
        assert all(s.content.strip() for s in srt.parse(text))
    else:
        assert text.startswith("WEBVTT\n\n") and "\n\n\n" not in text
        captions = webvtt.from_buffer(io.StringIO(text)).captions
        assert len(captions) == len(times)
        for caption, (start, end) in zip(captions, times, strict=True):
            marks = [ms(stamp) for stamp in INLINE_TIME.findall(caption.raw_text)]
            assert all(start < mark < end for mark in marks)
            assert marks == sorted(set(marks))


@pytest.mark.parametrize("width", [1, 5, 42])
def test_units_keep_their_order_in_lines(width: int) -> None:
    units = segment_units(words_segment(0, "the quick brown fox jumps over the lazy dog"))
    lines = break_lines(units, max_width=width, max_words=None)
    assert [u for line in lines for u in line] == units


# Word times as the engine gives them at their worst: zero-length words, words that
# start inside the one before, and times a fraction of a millisecond apart.
SHORT_TIMING = st.tuples(
    st.one_of(st.just(0.0), st.floats(-0.2, 0.3), st.integers(-20, 20).map(lambda n: n / 10_000)),
    st.one_of(st.just(0.0), st.integers(0, 15).map(lambda n: n / 10_000), st.floats(0, 0.5)),
)


@st.composite
def word_timed_segments(draw: st.DrawFn) -> list[Segment]:
    """A few segments that all have word times, many of them zero or sub-millisecond long."""
    out, clock = [], draw(st.floats(0, 5))
    for index in range(draw(st.integers(1, 3))):
        clock += draw(st.floats(-0.5, 0.5))
        words = []
        for text in draw(st.lists(LATIN, min_size=1, max_size=15)):
            gap, duration = draw(SHORT_TIMING)
            start = max(0.0, clock + gap)
            clock = start + duration
            words.append(Word(start, clock, text))
        out.append(Segment(index, words[0].start, clock, "".join(w.word for w in words), words=tuple(words)))
    return out


@PROPERTY
@given(
    word_timed_segments(),
    st.floats(0.1, 5),
    st.none() | st.just(0.0) | st.floats(0, 0.002) | st.floats(0, 0.1),
    st.booleans(),
)
def test_short_max_cue_duration_never_writes_an_empty_cue(
    segs: list[Segment], max_duration: float, min_duration: float | None, highlight: bool
) -> None:
    opts = WriterOptions(
        max_cue_duration=max_duration, min_cue_duration=min_duration, highlight_words=highlight
    )
    cues = stream(segs, opts)
    assert squash("".join(cue.text for cue in cues)) == squash("".join(s.text for s in segs))
    for a, b in itertools.pairwise(cues):
        assert to_milliseconds(a.end) <= to_milliseconds(b.start)
    for cue in cues:
        assert to_milliseconds(cue.start) < to_milliseconds(cue.end)
        assert karaoke_spans(cue)  # a karaoke SRT writes each cue at least once
    for fmt in ("srt", "vtt"):
        text = render(fmt, segs, opts, INFO)
        times = cue_times(text)
        assert all(start < end for start, end in times)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(times))
        if fmt == "srt" and highlight:
            assert len(times) == sum(len(karaoke_spans(cue)) for cue in cues)
        else:
            kept = [line for line in text.splitlines() if "-->" not in line and not line.isdigit()]
            written = re.sub(r"<[^>]*>", "", "".join(kept).removeprefix("WEBVTT"))
            assert squash(written) == squash("".join(s.text for s in segs))


# --- the real model -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lecture(tiny_transcribe) -> list[Segment]:  # type: ignore[no-untyped-def]
    """samples/lecture.flac decoded by tiny.en with word times."""
    from whisper_cli.audio.load import load_audio

    audio = load_audio(str(SAMPLES / "lecture.flac"))
    _, segments = tiny_transcribe(audio, DecodeOptions(word_timestamps=True, language="en"))
    return list(segments)


def collapsed(segments: list[Segment]) -> list[Segment]:
    """The segments with every word shrunk to its start, as the engine sometimes times them."""
    return [replace(s, words=tuple(replace(w, end=w.start) for w in s.words or ())) for s in segments]


@pytest.mark.parametrize("highlight", [False, True], ids=["plain", "karaoke"])
@pytest.mark.parametrize("shrink", [False, True], ids=["as decoded", "zero-length words"])
def test_real_lecture_with_tenth_second_cues(lecture: list[Segment], shrink: bool, highlight: bool) -> None:
    segments = collapsed(lecture) if shrink else lecture
    words = [w.word for s in segments for w in s.words or ()]
    assert len(words) > 50
    text = render("srt", segments, WriterOptions(max_cue_duration=0.1, highlight_words=highlight), INFO)
    subtitles = list(srt.parse(text))
    assert all(sub.end > sub.start for sub in subtitles)
    assert all(a.end <= b.start for a, b in itertools.pairwise(subtitles))
    shown = [re.sub(r"</?u>", "", sub.content) for sub in subtitles]
    if highlight:  # each cue is written once per word span: every word is in some block
        assert {w.strip() for w in words} <= {w for block in shown for w in block.split()}
    else:
        assert squash("".join(shown)) == squash("".join(words))
    for key in ("printing", "press", "goldsmith", "Germany", "historians"):
        assert any(key in block for block in shown)
