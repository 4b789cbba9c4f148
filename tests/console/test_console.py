"""The progress lines: their text for known states (fake clock, recorded console), and the
real bar on a pseudo-terminal while stdout is a pipe."""

from __future__ import annotations

import io
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from rich.console import Console

from tests.conftest import SAMPLES, run_on_a_pty
from whisper_cli.batch.inputs import Input
from whisper_cli.batch.local import LocalExecutor
from whisper_cli.batch.runner import Job, Runner
from whisper_cli.console import Reporter
from whisper_cli.core.transcript import DecodeOptions, Segment, TranscriptInfo
from whisper_cli.writers import WriterOptions


class Clock:
    """A wall clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def terminal_reporter(clock: Clock) -> Reporter:
    console = Console(file=io.StringIO(), force_terminal=True, width=140, record=True)
    return Reporter(console=console, clock=clock)


def lines(reporter: Reporter) -> list[str]:
    """What the bar shows now, one string per line, bars and runs of spaces squeezed to one space."""
    assert reporter._progress is not None
    reporter.console.print(reporter._progress.get_renderable())
    text = reporter.console.export_text()
    return [re.sub(r"[━╸╺╾╼\s]+", " ", line).strip() for line in text.splitlines() if line.strip()]


def test_overall_line_counts_files_and_audio_and_times_from_audio():
    clock = Clock()
    reporter = terminal_reporter(clock)
    reporter.start_batch(3)
    reporter.expect("a", 60.0)
    reporter.expect("b", 120.0)
    reporter.expect("c", None)  # a pipe, say: its length is known once it is decoded
    assert lines(reporter) == ["0/3 files 0:00:00/≥0:03:00 audio"]
    clock.now = 10.0  # the model loaded: the batch's clock starts with its first file
    reporter.start_file("a", "a.wav", 60.0)
    clock.now = 20.0
    reporter.advance("a", 50.0)
    reporter.advance("a", 60.0)
    reporter.end_file("a")
    reporter.start_file("b", "b.wav", 120.0)
    clock.now = 30.0
    reporter.advance("b", 40.0)
    # 100 s of audio in 20 s: 5×; 80 s of known audio left: 16 s, or more (c's length is unknown)
    assert lines(reporter) == [
        "1/3 files 0:01:40/≥0:03:00 audio 5.0× real time ETA ≥0:00:16",
        "b.wav 0:00:40/0:02:00 audio 4.0× real time ETA 0:00:20",
    ]
    reporter.start_file("c", "c.wav", 30.0)
    assert lines(reporter)[0] == "1/3 files 0:01:40/0:03:30 audio 5.0× real time ETA 0:00:22"


def test_a_failed_file_gets_no_line_and_leaves_the_total():
    clock = Clock()
    reporter = terminal_reporter(clock)
    reporter.start_batch(3)
    for key, seconds in (("bad", 600.0), ("a", 60.0), ("b", 60.0)):
        reporter.expect(key, seconds)
    reporter.end_file("bad")  # failed before it started: no line, none of its audio to do
    reporter.start_file("a", "a.wav", 60.0)
    clock.now = 30.0
    reporter.advance("a", 30.0)
    reporter.end_file("a")  # failed half way: what it reached counts, the rest is no longer to do
    reporter.expect("a", 60.0)  # a header read late changes nothing for a file that has ended
    assert lines(reporter) == ["2/3 files 0:00:30/0:01:30 audio 1.0× real time ETA 0:01:00"]


def test_a_file_started_again_keeps_its_line_and_never_moves_back():
    """A --ray recording's line starts with its first part and moves as parts come back;
    writing it (start_file again, then each segment's end) keeps that line and its place."""
    clock = Clock()
    reporter = terminal_reporter(clock)
    reporter.start_batch(2)
    reporter.expect("long", 240.0)
    reporter.expect("b", 60.0)
    reporter.start_file("long", "long.flac", 240.0)
    clock.now = 10.0
    reporter.advance("long", 160.0)  # four of six parts back
    reporter.advance("long", 240.0)  # all back
    reporter.start_file("long", "long.flac", 240.0)  # the runner writes it
    reporter.advance("long", 12.5)  # its first segment's end
    assert lines(reporter) == [
        "0/2 files 0:04:00/0:05:00 audio 24.0× real time ETA 0:00:02",
        "long.flac 0:04:00/0:04:00 audio 24.0× real time ETA 0:00:00",
    ]
    reporter.end_file("long")
    assert lines(reporter) == ["1/2 files 0:04:00/0:05:00 audio 24.0× real time ETA 0:00:02"]


def test_a_single_file_has_its_own_line_only():
    clock = Clock()
    reporter = terminal_reporter(clock)
    reporter.start_batch(1)
    assert not reporter.wants_lengths
    reporter.start_file("talk", "talk.mp3", 3 * 3600.0)
    clock.now = 100.0
    reporter.advance("talk", 1000.0)
    assert lines(reporter) == ["talk.mp3 0:16:40/3:00:00 audio 10.0× real time ETA 0:16:20"]


def test_no_bar_off_a_terminal_or_when_quiet():
    for reporter in (
        Reporter(console=Console(file=io.StringIO())),
        Reporter(console=Console(file=io.StringIO(), force_terminal=True), quiet=True),
    ):
        with reporter:
            reporter.start_batch(2)
            reporter.expect("a", 1.0)
            reporter.start_file("a", "a.wav", 1.0)
            reporter.advance("a", 1.0)
            reporter.end_file("a")
        assert not reporter.wants_lengths
        assert reporter.console.file.getvalue() == ""  # type: ignore[attr-defined]


class Recording(Reporter):
    """A terminal reporter that notes which files got a line."""

    def __init__(self) -> None:
        console = Console(file=io.StringIO(), force_terminal=True, width=140, record=True)
        super().__init__(console=console, clock=Clock())
        self.started: list[str] = []

    def start_file(self, key: str, name: str, duration: float) -> None:
        self.started.append(key)
        super().start_file(key, name, duration)


def wav(path: Path, seconds: float) -> str:
    sf.write(path, np.zeros(int(16000 * seconds), dtype="float32"), 16000)
    return str(path)


def test_runner_feeds_lengths_and_only_started_files_get_a_line(tmp_path: Path, capsys):
    from whisper_cli.batch.runner import _measure

    def transcribe(audio: np.ndarray, options: DecodeOptions) -> tuple[TranscriptInfo, Iterator[Segment]]:
        seconds = len(audio) / 16000
        return TranscriptInfo("en", 0.99, seconds), iter([Segment(0, 0.0, seconds / 2, " hi")])

    a, b = wav(tmp_path / "a.wav", 2.0), wav(tmp_path / "b.wav", 3.0)
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF not really")
    jobs = [Job(Input(s, Path(Path(s).name)), ("jsonl",), None) for s in (a, str(bad), b)]
    reporter = Recording()
    todo = list(enumerate(jobs))
    reporter.start_batch(len(todo))
    _measure(todo, reporter, threading.Event())
    assert lines(reporter) == ["0/3 files 0:00:00/≥0:00:05 audio"]  # bad.wav's header says nothing

    reporter = Recording()
    runner = Runner(DecodeOptions(language="en"), WriterOptions(), reporter)
    runner.execute(jobs, LocalExecutor(runner, lambda: transcribe))
    assert reporter.started == [a, b]
    # each file counts all its audio once it succeeds, not just up to its last segment
    assert lines(reporter) == ["3/3 files 0:00:05/0:00:05 audio"]
    assert len(capsys.readouterr().out.splitlines()) == 2


@pytest.mark.parametrize("to_files", [True, False], ids=["batch to -o", "one file to stdout"])
def test_the_bar_on_a_terminal_never_reaches_stdout_in_a_pipe(
    tiny_model_path: str, tmp_path: Path, to_files: bool
):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(2 if to_files else 1):
        (folder / f"hello{i}.wav").write_bytes((SAMPLES / "hello.wav").read_bytes())
    where = ["-o", str(tmp_path / "out")] if to_files else []
    shown, out, code = run_on_a_pty(
        [str(folder), "-m", tiny_model_path, "-f", "jsonl", "-l", "en", *where], columns=140
    )
    assert code == 0, shown
    assert b"\x1b" not in out and b"audio" not in out
    if to_files:
        assert out == b"" and "/2 files" in shown
    else:
        assert all(json.loads(line)["file"].endswith("hello0.wav") for line in out.decode().splitlines())
    assert "hello0.wav" in shown and "audio" in shown  # the bar was there, on the terminal
