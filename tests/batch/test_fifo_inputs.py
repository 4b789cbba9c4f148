"""A FIFO named as an input holds up no other input: it is read when a writer comes, and
fails with one line when none has come by the time everything else is done (real tiny.en)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES, normalise, sample_text, wer

pytestmark = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")

BOUND = 90  # seconds: start-up, the tiny model on two short clips, the FIFO's wait


def _start(*args: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "whisper_cli", *args, "-m", "tiny.en"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env=env,
    )


def _wait_for(path: Path, proc: subprocess.Popen[bytes], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and proc.poll() is None:
        if path.exists():
            return True
        time.sleep(0.1)
    return path.exists()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(SAMPLES / "hello.wav", folder / "hello.wav")
    os.mkfifo(folder / "live.wav")
    return folder


def test_a_fifo_is_read_when_its_writer_comes_and_holds_up_nothing_meanwhile(folder: Path, tmp_path: Path):
    out, report = tmp_path / "out", tmp_path / "run.json"
    # the FIFO first: before the fix, the decode-ahead thread blocked on it and hello.wav never started
    proc = _start(
        str(folder / "live.wav"), str(folder / "hello.wav"), "-o", str(out), "--report", str(report)
    )
    try:
        started = _wait_for(out / "hello.txt", proc, BOUND)
        assert started, "hello.wav was held up behind a FIFO that has no writer"
        with open(folder / "live.wav", "wb") as fifo:  # the writer comes, late
            fifo.write((SAMPLES / "weather.mp3").read_bytes())
        _, err = proc.communicate(timeout=BOUND)
    finally:
        proc.kill()
    assert proc.returncode == 0, err.decode()
    assert wer(sample_text("weather.mp3"), (out / "live.txt").read_text()) < 0.3
    assert "hello" in normalise((out / "hello.txt").read_text())
    statuses = {Path(i["path"]).name: i["status"] for i in json.loads(report.read_text())["inputs"]}
    assert statuses == {"live.wav": "done", "hello.wav": "done"}


def test_a_fifo_no_writer_opens_fails_with_one_line_and_the_rest_is_done(folder: Path, tmp_path: Path):
    out, report = tmp_path / "out", tmp_path / "run.json"
    started = time.monotonic()
    proc = _start(
        str(folder / "live.wav"), str(folder / "hello.wav"), "-o", str(out), "--report", str(report)
    )
    try:
        _, err = proc.communicate(timeout=BOUND)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail(f"the run did not end within {BOUND} s: a FIFO with no writer held it up")
    finally:
        proc.kill()
    text = err.decode()
    assert proc.returncode == 1, text
    assert "hello" in normalise((out / "hello.txt").read_text())
    lines = [line for line in text.splitlines() if "live.wav" in line and "wrote" in line]
    assert len(lines) >= 1, text  # the failure as it happens (and again in the summary)
    assert "error" in lines[0].lower() and "FIFO" in lines[0], lines
    inputs = {Path(i["path"]).name: i for i in json.loads(report.read_text())["inputs"]}
    assert inputs["hello.wav"]["status"] == "done"
    assert inputs["live.wav"]["status"] == "failed" and "no program wrote" in inputs["live.wav"]["error"]
    assert not (out / "live.txt").exists()
    assert time.monotonic() - started < BOUND
