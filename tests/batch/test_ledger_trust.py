"""What a ledger may be trusted with across runs: one output name, one input; a ledger that
is not a regular file or holds hand-edited lines; a report that would take an output's
folder or be cut; the partial files a killed run leaves.

Real processes and the real tiny.en model on samples/ throughout (the runs that write
nothing load no model).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

from tests.conftest import SAMPLES, run_cli, sample_text, wer
from whisper_cli.audio.load import load_audio
from whisper_cli.batch.ledger import LEDGER_NAME
from whisper_cli.batch.sinks import PARTIAL_PREFIX
from whisper_cli.core.errors import ExitCode

TINY = ("-m", "tiny.en")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def report_of(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def as_flac(sample: str, path: Path) -> Path:
    """A sample as FLAC at ``path`` (two recordings can then share one name)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, load_audio(str(SAMPLES / sample)), 16000)
    return path


def err(res: subprocess.CompletedProcess) -> str:
    return res.stderr.decode()


def partials(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(PARTIAL_PREFIX + "*"))


# --------------------------------------------------------------------------- one name, one input


def test_a_namesake_from_another_folder_never_replaces_a_transcript(tmp_path):
    """`whisper-cli monday/ -o notes`, then `tuesday/ -o notes`, both holding rec1.flac: the
    second is refused (exit 1, one line naming both), Monday's text stays. A renamed or
    copied-with-its-times folder is the same input; only the same path with new content is
    "input changed"."""
    as_flac("hello.wav", tmp_path / "monday/rec1.flac")
    as_flac("weather.mp3", tmp_path / "tuesday/rec1.flac")
    first = run_cli("monday", "-o", "notes", *TINY, cwd=tmp_path)
    assert first.returncode == 0, err(first)
    notes = tmp_path / "notes/rec1.txt"
    mondays = digest(notes)
    assert wer(sample_text("hello.wav"), notes.read_text()) < 0.3

    res = run_cli("tuesday", "-o", "notes", *TINY, "--report", "r.json", cwd=tmp_path)
    assert res.returncode == ExitCode.FAILED, err(res)
    line = (
        "whisper-cli: error: tuesday/rec1.flac: notes/rec1.txt is the transcript of another input, "
        "monday/rec1.flac; left as it is (use -o DIR, or --overwrite to replace notes/rec1.txt)\n"
    )
    assert err(res).startswith(line) and "Traceback" not in err(res)
    assert digest(notes) == mondays and sorted(os.listdir(tmp_path / "notes")) == [LEDGER_NAME, "rec1.txt"]
    (record,) = report_of(tmp_path / "r.json")["inputs"]
    assert record["status"] == "failed" and "another input" in record["error"]

    os.rename(tmp_path / "monday", tmp_path / "mon")  # the same recording, moved
    shutil.copytree(tmp_path / "mon", tmp_path / "backup")  # and copied with its times
    for moved in ("mon", "backup"):
        res = run_cli(moved, "-o", "notes", *TINY, "--report", "r.json", cwd=tmp_path)
        assert res.returncode == 0, err(res)
        assert report_of(tmp_path / "r.json")["inputs"][0]["status"] == "skipped"
    assert digest(notes) == mondays

    as_flac("weather.mp3", tmp_path / "mon/rec1.flac")  # the same path, new content
    res = run_cli("mon", "-o", "notes", *TINY, "--report", "r.json", cwd=tmp_path)
    assert res.returncode == 0, err(res)
    assert report_of(tmp_path / "r.json")["inputs"][0]["reason"] == "input changed"
    assert wer(sample_text("weather.mp3"), notes.read_text()) < 0.3


# --------------------------------------------------------------------------- the ledger itself


@pytest.mark.parametrize("kind", ["folder", "symlink", "fifo"])
def test_a_ledger_that_is_not_a_regular_file_fails_each_input_in_one_line(tmp_path, kind):
    shutil.copy(SAMPLES / "hello.wav", tmp_path / "a.wav")
    shutil.copy(SAMPLES / "weather.mp3", tmp_path / "b.mp3")
    ledger = tmp_path / "out" / LEDGER_NAME
    ledger.parent.mkdir()
    elsewhere = tmp_path / "elsewhere.jsonl"
    elsewhere.write_text("not whisper-cli's\n")
    {
        "folder": ledger.mkdir,
        "symlink": lambda: ledger.symlink_to(elsewhere),
        "fifo": lambda: os.mkfifo(ledger),
    }[kind]()
    res = run_cli("a.wav", "b.mp3", "-o", "out", *TINY, "--report", "r.json", cwd=tmp_path, timeout=60)
    assert res.returncode == ExitCode.FAILED, err(res)
    what = {"folder": "a folder", "symlink": "a symbolic link", "fifo": "a FIFO"}[kind]
    cause = (
        f"out/{LEDGER_NAME} is {what}: whisper-cli keeps its ledger only in a regular file, "
        "and writes nothing in out without one"
    )
    assert err(res).splitlines()[:2] == [
        f"whisper-cli: error: a.wav: {cause}",
        f"whisper-cli: error: b.mp3: {cause}",
    ]
    assert "Traceback" not in err(res) and "WARNING" not in err(res)
    assert [r["status"] for r in report_of(tmp_path / "r.json")["inputs"]] == ["failed", "failed"]
    assert elsewhere.read_text() == "not whisper-cli's\n"
    assert sorted(os.listdir(tmp_path / "out")) == [LEDGER_NAME]


def test_hand_edited_ledger_lines_count_as_torn(tmp_path):
    """`"size": 1e999` and 100,000-deep nesting: passed over like a torn line; the good line
    still proves the transcript, which is skipped."""
    shutil.copy(SAMPLES / "hello.wav", tmp_path / "hello.wav")
    assert run_cli("hello.wav", "-o", "out", *TINY, cwd=tmp_path).returncode == 0
    ledger = tmp_path / "out" / LEDGER_NAME
    good = ledger.read_text().strip().splitlines()[-1]
    edited = [
        good.replace('"size":', '"size":1e999,"was":', 1),
        good.replace('"mtime_ns":', '"mtime_ns":-1e999,"was":', 1),
        "[" * 100_000 + "]" * 100_000,
        '{"output":' * 100_000 + "1" + "}" * 100_000,
    ]
    assert all(json.loads(line) for line in edited[:2])  # valid JSON, hand-edited past sense
    with ledger.open("a") as f:
        f.write("".join(f"\n{line}" for line in edited) + "\n")
    res = run_cli("hello.wav", "-o", "out", *TINY, "--report", "r.json", cwd=tmp_path, timeout=60)
    assert res.returncode == 0, err(res)
    assert "Traceback" not in err(res)
    assert report_of(tmp_path / "r.json")["inputs"][0]["status"] == "skipped"


def test_a_hand_edited_output_is_redone_because_the_output_changed(tmp_path):
    shutil.copy(SAMPLES / "hello.wav", tmp_path / "hello.wav")
    assert run_cli("hello.wav", "-o", "out", *TINY, cwd=tmp_path).returncode == 0
    (tmp_path / "out/hello.txt").write_text("Hello, corrected by hand.\n")
    res = run_cli("hello.wav", "-o", "out", *TINY, "--report", "r.json", cwd=tmp_path)
    assert res.returncode == 0, err(res)
    (record,) = report_of(tmp_path / "r.json")["inputs"]
    assert record["reason"] == "output changed" and record["outputs"] == ["out/hello.wav.txt"]
    assert (tmp_path / "out/hello.txt").read_text() == "Hello, corrected by hand.\n"


# --------------------------------------------------------------------------- the report


@pytest.mark.parametrize(
    ("report", "output_dir"),
    [("out", "out"), ("out", "out/day1/a"), (f"out/{LEDGER_NAME}", "out")],
    ids=["the-output-folder", "above-the-output-folder", "the-ledger"],
)
def test_a_report_where_the_outputs_folder_goes_is_refused_before_any_work(tmp_path, report, output_dir):
    shutil.copy(SAMPLES / "hello.wav", tmp_path / "hello.wav")
    if "/" in report:
        (tmp_path / "out").mkdir()
    res = run_cli("hello.wav", "-o", output_dir, *TINY, "--report", report, cwd=tmp_path, timeout=60)
    assert res.returncode == ExitCode.USAGE, err(res)
    (line,) = err(res).splitlines()
    assert line.startswith(f"whisper-cli: error: --report {report} is ")
    assert line.endswith("; give the report another name")
    assert not (tmp_path / output_dir / "hello.txt").exists()  # nothing transcribed


def test_a_report_on_stdout_whose_reader_went_away_exits_1(tmp_path):
    """`--report - | head -c 100` with a report longer than what the reader takes: the report
    was cut, as a transcript is when its reader leaves (exit 1, quietly)."""
    shutil.copy(SAMPLES / "hello.wav", tmp_path / "hello.wav")
    read, write = os.pipe()
    proc = subprocess.Popen(
        [sys.executable, "-m", "whisper_cli", "hello.wav", "-o", "out", *TINY, "--report", "-"],
        stdout=write,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    os.close(write)
    os.close(read)  # the reader went away before the report came
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == ExitCode.FAILED, stderr.decode()
    assert b"Traceback" not in stderr and b"Exception ignored" not in stderr and b"Broken pipe" not in stderr
    assert (tmp_path / "out/hello.txt").exists()


# --------------------------------------------------------------------------- partial files


def _start(args: list[str], cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "whisper_cli", *args, *TINY],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=cwd,
    )


def _wait_for_partial(proc: subprocess.Popen, folder: Path, besides: list[str] = ()) -> str:
    deadline = time.monotonic() + 120
    while not (new := [p for p in partials(folder) if p not in besides]):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.01)
    return new[0]


def test_a_rerun_at_once_removes_a_killed_runs_partial_and_spares_a_live_runs(tmp_path):
    """SIGKILL mid-file, then a re-run at once (not 10 s later): the killed run's partial file
    goes. A third run while the re-run is mid-file leaves the re-run's partial alone, and
    the re-run completes (two runs at once into one folder)."""
    shutil.copy(SAMPLES / "lecture.flac", tmp_path / "lecture.flac")
    shutil.copy(SAMPLES / "hello.wav", tmp_path / "hello.wav")
    out = tmp_path / "out"
    killed = _start(["lecture.flac", "-o", "out"], tmp_path)
    left = _wait_for_partial(killed, out)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=30)
    assert partials(out) == [left]
    ahead = time.time() + 30  # killed just now, by a clock 30 s ahead (a file server's): young
    os.utime(out / left, (ahead, ahead))  # however slowly the re-run starts on a busy machine

    rerun = _start(["lecture.flac", "-o", "out"], tmp_path)
    live = _wait_for_partial(rerun, out, besides=[left])
    assert left not in partials(out)  # removed before the re-run began writing
    rerun.send_signal(signal.SIGSTOP)  # held mid-file while another run cleans the folder
    try:
        other = run_cli("hello.wav", "-o", "out", *TINY, cwd=tmp_path)
        assert other.returncode == 0, err(other)
        assert partials(out) == [live]
    finally:
        rerun.send_signal(signal.SIGCONT)
    _, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr.decode()
    assert partials(out) == []
    assert wer(sample_text("lecture.flac"), (out / "lecture.txt").read_text()) < 0.2
    assert wer(sample_text("hello.wav"), (out / "hello.txt").read_text()) < 0.3
