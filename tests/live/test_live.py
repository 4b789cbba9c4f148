"""whisper-cli - --live through real pipes: speech fed faster than real time, each format, ends, errors."""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import numpy as np
import pytest

from tests.conftest import ROOT, SAMPLES, run_cli, sample_text, wer
from whisper_cli.writers.txt import LONGEST_LINE

pytestmark = pytest.mark.slow
LIVE = ("-", "--live", "-m", "tiny.en")
RATE = 16_000
needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")


def pcm16(name: str) -> bytes:
    from whisper_cli.audio.load import load_audio

    return (np.clip(load_audio(str(SAMPLES / name)), -1, 1) * 32767).astype("<i2").tobytes()


def wav_stream(pcm: bytes) -> bytes:
    """A 16 kHz mono WAV whose sizes say "unknown length", as ffmpeg and arecord write to a pipe."""
    fmt = struct.pack("<HHIIHH", 1, 1, RATE, 2 * RATE, 2, 16)
    return b"RIFF\xff\xff\xff\xffWAVEfmt " + struct.pack("<I", 16) + fmt + b"data\xff\xff\xff\xff" + pcm


@dataclass
class Fed:
    """A live run fed at a pace: stdout lines with the time each arrived."""

    lines: list[tuple[float, str]] = field(default_factory=list)
    fed_at: float = 0.0  # when the feed ended (seconds since it began)
    returncode: int | None = None
    stderr: str = ""

    @property
    def text(self) -> str:
        return "".join(line for _, line in self.lines)


def feed_live(pcm: bytes, speed: float, *args: str, stop_after: float | None = None) -> Fed:
    """Write a WAV stream of ``pcm`` into ``whisper-cli - --live`` at ``speed`` × real time;
    with ``stop_after`` (seconds of audio), send SIGINT once that much is written."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "whisper_cli", *LIVE, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    fed, begin = Fed(), time.monotonic()

    def read() -> None:
        for line in proc.stdout:
            fed.lines.append((time.monotonic() - begin, line.decode()))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    data, step = wav_stream(pcm), int(0.05 * RATE) * 2
    limit = len(data) if stop_after is None else 44 + int(stop_after * RATE) * 2
    try:
        proc.stdin.write(data[:44])
        for at in range(44, limit, step):
            time.sleep(max(0.0, begin + (at - 44) / (2 * RATE * speed) - time.monotonic()))
            proc.stdin.write(data[at : min(at + step, limit)])
            proc.stdin.flush()
        fed.fed_at = time.monotonic() - begin
        if stop_after is not None:
            proc.send_signal(signal.SIGINT)
        proc.stdin.close()
    except BrokenPipeError:
        pass
    try:
        fed.returncode = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:  # hung: fail, and leave no process behind
            proc.kill()
            proc.wait()
    reader.join()
    fed.stderr = proc.stderr.read().decode()
    return fed


def encoded(fmt_args: list[str], name: str = "hello.wav") -> bytes:
    return subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-i", str(SAMPLES / name), *fmt_args, "-"],
        capture_output=True,
        check=True,
    ).stdout


def test_lecture_fed_at_three_times_real_time_is_committed_early_in_order_once():
    fed = feed_live(pcm16("lecture.flac"), 3.0, "-f", "jsonl", "--word-timestamps")
    assert fed.returncode == 0, fed.stderr
    records = [json.loads(line) for _, line in fed.lines]
    assert records, fed.stderr
    # the first segment long before the feed (16 s) ends
    assert fed.lines[0][0] < fed.fed_at / 2, (fed.lines[0][0], fed.fed_at)
    assert [r["id"] for r in records] == list(range(len(records)))
    words = [w for r in records for w in r["words"]]
    for before, after in itertools.pairwise(words):  # in order, no word twice
        assert after["start"] >= before["end"] - 0.25, (before, after)
    live_text = " ".join(r["text"] for r in records)
    offline = run_cli("samples/lecture.flac", "-m", "tiny.en").stdout.decode()
    reference = sample_text("lecture.flac")
    # Three times real time leaves each stretch fewer decodes to agree on: 4.7-10.1 % over nine
    # runs against offline's 2.3 % (a word is 0.8 points). A lost sentence costs 15 points.
    assert wer(reference, live_text) <= wer(reference, offline) + 0.10, live_text


@needs_ffmpeg
@pytest.mark.parametrize(
    "fmt_args",
    [
        ["-f", "wav", "-ar", "44100", "-ac", "2"],
        ["-f", "ogg", "-c:a", "libopus"],
        ["-f", "mp3"],
        ["-f", "mpegts", "-c:a", "mp2"],
        ["-f", "webm", "-c:a", "libopus"],
    ],
    ids=["wav-44k-stereo", "ogg-opus", "mp3", "mpegts", "webm"],
)
def test_each_stdin_format_is_transcribed(fmt_args):
    res = run_cli(*LIVE, input=encoded(fmt_args), timeout=120)
    assert res.returncode == 0, res.stderr
    assert wer(sample_text("hello.wav"), res.stdout.decode()) < 0.3, res.stdout


@needs_ffmpeg
def test_raw_pcm_with_its_format_given():
    raw = encoded(["-f", "s16le", "-ar", "48000", "-ac", "2"])
    res = run_cli(*LIVE, "--raw-format", "s16le", "--raw-rate", "48000", "--raw-channels", "2", input=raw)
    assert res.returncode == 0, res.stderr
    assert wer(sample_text("hello.wav"), res.stdout.decode()) < 0.3, res.stdout


@needs_ffmpeg
@pytest.mark.parametrize("fmt_args", [["-f", "wav"], ["-f", "mp3"]], ids=["wav", "mp3"])
def test_a_stream_that_stops_mid_frame_gives_what_it_held(fmt_args):
    data = encoded(fmt_args, "weather.mp3")
    res = run_cli(*LIVE, input=data[: len(data) * 2 // 3 + 1])  # odd: mid-sample, mid-frame
    assert res.returncode == 0, res.stderr
    assert "weather" in res.stdout.decode().lower()


def test_srt_cues_carry_stream_times_and_json_comes_at_the_end():
    import srt

    pcm = pcm16("hello.wav")
    res = run_cli(*LIVE, "-f", "srt", input=wav_stream(pcm))
    assert res.returncode == 0, res.stderr
    cues = list(srt.parse(res.stdout.decode()))
    assert cues and [c.index for c in cues] == list(range(1, len(cues) + 1))
    assert cues[-1].end.total_seconds() <= len(pcm) / 2 / RATE + 0.5
    res = run_cli(*LIVE, "-f", "json", input=wav_stream(pcm))
    document = json.loads(res.stdout)
    assert "welcome" in document["text"].lower() and document["language"] == "en"


def test_sigint_mid_utterance_flushes_the_words_before_it():
    fed = feed_live(pcm16("lecture.flac"), 2.0, stop_after=9.0)
    assert fed.returncode == 130, fed.stderr
    text = " ".join(fed.text.lower().split())  # committed pieces may end a line mid-phrase
    assert "printing press" in text and "history" in text, text
    assert "goldsmith" not in text  # said after 12 s: never fed
    assert "Traceback" not in fed.stderr


def test_silence_only_prints_nothing():
    silence = np.zeros(12 * RATE, "<i2").tobytes()
    noise = (np.random.default_rng(1).normal(0, 60, 6 * RATE)).astype("<i2").tobytes()  # -55 dBFS hiss
    res = run_cli(*LIVE, input=wav_stream(silence + noise + silence))
    assert res.returncode == 0, res.stderr
    assert res.stdout == b""


@pytest.mark.parametrize(
    ("data", "cause"),
    [(os.urandom(50_000), "cannot decode audio"), (b"this is text, not sound\n" * 500, "cannot decode audio"),
     (b"", "empty stream")],
    ids=["random", "text", "empty"],
)  # fmt: skip
def test_garbage_is_one_line_and_exit_1(data, cause):
    res = run_cli(*LIVE, input=data)
    assert res.returncode == 1
    assert res.stdout == b""
    lines = res.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and cause in lines[0] and "<stdin>" in lines[0], lines


@pytest.mark.parametrize(
    "args",
    [
        ["samples/hello.wav", "--live"],
        ["-", "samples/hello.wav", "--live"],
        ["--mic", "samples/hello.wav"],
        ["-", "--raw-format", "s16le"],
        ["-", "--live", "-o", "out"],
        ["-", "--live", "-f", "srt", "-f", "txt"],
        ["-", "--live", "--raw-format", "s24be"],
        ["--mic-device", "1", "samples/hello.wav"],
    ],
)
def test_live_usage_errors_exit_2_before_anything_loads(cli, args):
    res = cli(*args)
    assert res.exit_code == 2, res.output
    assert len(res.stderr.strip().splitlines()) == 1


def test_txt_lines_are_sentences_and_words_are_written_as_they_come():
    fed = feed_live(pcm16("lecture.flac"), 3.0, "-f", "txt")
    assert fed.returncode == 0, fed.stderr
    lines = [line.rstrip("\n") for _, line in fed.lines]
    assert len(lines) >= 3, lines
    # every line but the last ends a sentence (or is a run-on past LONGEST_LINE), never
    # a fragment of one
    for line in lines[:-1]:
        assert line.endswith((".", "?", "!")) or len(line) > LONGEST_LINE, lines
    assert all(line == line.strip() and "  " not in line for line in lines), lines
    reference = sample_text("lecture.flac")
    assert wer(reference, " ".join(lines)) <= 0.2, lines
