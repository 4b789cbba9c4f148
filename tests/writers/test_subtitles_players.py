"""Subtitles that real readers accept: srt and webvtt-py parse them, ffmpeg burns them in.

Plain, laid-out and karaoke SRT and VTT are made from synthetic segments with words,
then read back: the cue count must be the count written. ffmpeg (skipped when absent
or built without libass) must read every cue and render them onto a short video.
"""

from __future__ import annotations

import functools
import itertools
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import srt
import webvtt

from tests.conftest import render
from whisper_cli.core.transcript import Segment, TranscriptInfo, Word
from whisper_cli.writers import WriterOptions
from whisper_cli.writers.units import segment_units

INFO = TranscriptInfo("en", 0.99, 11.0)
TIMING = re.compile(r"^\d{2,}:\d\d:\d\d[,.]\d{3} --> \d{2,}:\d\d:\d\d[,.]\d{3}$", re.MULTILINE)


def timed(text: str, start: float, step: float, *, spaced: bool = True) -> Segment:
    """A segment whose words (split on spaces, or per character) last ``step`` s each."""
    parts = text.split() if spaced else list(text)
    words = tuple(
        Word(start + i * step, start + (i + 0.8) * step, (" " if spaced else "") + part)
        for i, part in enumerate(parts)
    )
    return Segment(0, start, start + len(parts) * step, "".join(w.word for w in words), words=words)


SEGMENTS = [
    timed("And so, my fellow Americans, ask not what your country can do for you,", 0.0, 0.3),
    timed("ask what you can do for your country. <i>Applause</i> & cheers --> end", 4.5, 0.25),
    timed("今天天气很好，我们去公园散步吧。", 8.0, 0.1, spaced=False),
    Segment(3, 9.8, 10.6, " 안녕하세요, 만나서 반갑습니다. مرحبا بالعالم"),  # no words
    Segment(4, 10.6, 10.8, "   "),  # blank: dropped
]
OPTIONS = {
    "plain": WriterOptions(),
    "layout": WriterOptions(max_line_width=20, max_line_count=2, max_cue_duration=3.0, min_cue_duration=0.5),
    "karaoke": WriterOptions(highlight_words=True),
    "karaoke_layout": WriterOptions(max_line_width=16, max_line_count=1, highlight_words=True),
}
CASES = [(fmt, name) for fmt in ("srt", "vtt") for name in OPTIONS]


def write(fmt: str, options: WriterOptions) -> str:
    return render(fmt, SEGMENTS, options, INFO)


@pytest.fixture
def subtitle_file(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, int]:
    """The subtitles of one case in a file, with the number of cues written."""
    fmt, name = request.param
    text = write(fmt, OPTIONS[name])
    path = tmp_path / f"subs.{fmt}"
    path.write_text(text, encoding="utf-8")
    return path, len(TIMING.findall(text))


@functools.cache
def ffmpeg_has_subtitles_filter() -> bool:
    if shutil.which("ffmpeg") is None:
        return False
    filters = subprocess.run(
        ["ffmpeg", "-hide_banner", "-filters"], capture_output=True, text=True, timeout=30
    ).stdout
    return re.search(r"^\s*\S+\s+subtitles\s", filters, re.MULTILINE) is not None


def ffmpeg(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ffmpeg", "-hide_banner", "-nostdin", "-loglevel", "warning", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=60,
    )


def test_cases_write_something() -> None:
    for fmt, name in CASES:
        assert len(TIMING.findall(write(fmt, OPTIONS[name]))) >= 4, (fmt, name)


def test_karaoke_srt_underlines_every_unit_once() -> None:
    text = write("srt", OPTIONS["karaoke"])
    assert text.count("<u>") == sum(len(segment_units(s)) for s in SEGMENTS if s.words)


@pytest.mark.parametrize("subtitle_file", [c for c in CASES if c[0] == "srt"], indirect=True)
def test_srt_parses(subtitle_file: tuple[Path, int]) -> None:
    path, written = subtitle_file
    subtitles = list(srt.parse(path.read_text(encoding="utf-8")))
    assert len(subtitles) == written
    assert [s.index for s in subtitles] == list(range(1, written + 1))
    assert all(a.end <= b.start <= b.end for a, b in itertools.pairwise(subtitles))


@pytest.mark.parametrize("subtitle_file", [c for c in CASES if c[0] == "vtt"], indirect=True)
def test_vtt_parses(subtitle_file: tuple[Path, int]) -> None:
    path, written = subtitle_file
    assert len(webvtt.read(str(path)).captions) == written
    with path.open(encoding="utf-8") as file:
        captions = webvtt.from_buffer(file).captions
    assert len(captions) == written
    assert all(caption.text.strip() for caption in captions)
    assert "<00:" not in "".join(caption.text for caption in captions)  # tags are markup


@pytest.mark.parametrize("subtitle_file", CASES, indirect=True)
def test_ffmpeg_reads_every_cue(subtitle_file: tuple[Path, int]) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not on PATH")
    path, written = subtitle_file
    result = ffmpeg("-i", path.name, "-f", "srt", "-", cwd=path.parent)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    assert len(TIMING.findall(result.stdout)) == written
    assert "<00:" not in result.stdout  # VTT timestamp tags understood, not shown


@pytest.mark.parametrize("subtitle_file", CASES, indirect=True)
def test_ffmpeg_burns_in(subtitle_file: tuple[Path, int]) -> None:
    if not ffmpeg_has_subtitles_filter():
        pytest.skip("ffmpeg is missing or has no subtitles filter (libass)")
    path, _ = subtitle_file
    video = "color=c=black:s=320x240:d=11:r=2"  # every cue is drawn on some frame
    burn = ["-vf", f"subtitles={path.name}", "-f", "null", "-"]
    result = ffmpeg("-f", "lavfi", "-i", video, *burn, cwd=path.parent)
    assert result.returncode == 0, result.stderr
    problems = [line for line in result.stderr.splitlines() if re.search(r"error|invalid", line, re.I)]
    assert not problems, result.stderr


GOLDEN = sorted(
    path
    for path in (Path(__file__).parent / "golden").glob("*")
    if path.suffix in (".srt", ".vtt") and TIMING.search(path.read_text(encoding="utf-8"))
)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda path: path.name)
def test_golden_subtitles_read_back(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    written = len(TIMING.findall(text))
    if path.suffix == ".srt":
        assert len(list(srt.parse(text))) == written
    else:
        assert len(webvtt.read(str(path)).captions) == written
    if shutil.which("ffmpeg") is not None:
        result = ffmpeg("-i", path.name, "-f", "srt", "-", cwd=path.parent)
        assert result.returncode == 0 and not result.stderr.strip(), result.stderr
        assert len(TIMING.findall(result.stdout)) == written
