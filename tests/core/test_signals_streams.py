"""Every kind of end leaves a true record: SIGHUP, SIGKILL and the next run, a signal while
starting, readers of stdout or stderr that go away, standard streams closed at start, FIFOs
in folders, names the OS refuses.

Real processes throughout: the scripted model of tests/batch/test_hostile.py (FAKE_CLI) where the
timing must be under the test's control, the real entry point where start-up is the point.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.batch.test_hostile import FAKE_CLI, leftovers, tone_files
from tests.conftest import ROOT, names, write_tone
from whisper_cli.batch.sinks import PARTIAL_PREFIX, AtomicFileSink, remove_stale_partials
from whisper_cli.core.errors import ExitCode


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1", **extra}


def start_fake(*args: str, delay: str = "0.1", **kw) -> subprocess.Popen:
    cmd = [sys.executable, "-c", FAKE_CLI, *args, "--workers", "1"]
    return subprocess.Popen(
        cmd, cwd=ROOT, env=env(FAKE_DELAY=delay), stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw
    )


def wait_for_partial(proc: subprocess.Popen, out: Path, done: str = "a.txt") -> None:
    """Until ``done`` is committed and a temp file is being written: the next input is in progress."""
    deadline = time.monotonic() + 30
    while not ((out / done).exists() and leftovers(out)):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)


def report_of(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- SIGHUP, SIGKILL


def test_sighup_ends_the_run_like_sigterm_with_129(tmp_path):
    tone_files(tmp_path / "in", [2, 30, 2])
    out, report = tmp_path / "out", tmp_path / "r.json"
    proc = start_fake(str(tmp_path / "in"), "-o", str(out), "--report", str(report))
    wait_for_partial(proc, out)
    proc.send_signal(signal.SIGHUP)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == ExitCode.HANGUP, stderr
    assert stdout == b"" and b"Traceback" not in stderr
    assert names(out) == ["a.txt"] and leftovers(out) == []
    document = report_of(report)
    assert document["interrupted"] is True and document["stopped_by"] == "SIGHUP"
    assert [r["status"] for r in document["inputs"]][:2] == ["done", "interrupted"]


def test_partials_of_a_killed_run_are_removed_by_the_next(tmp_path):
    tone_files(tmp_path / "in", [2, 30, 2])
    out = tmp_path / "out"
    proc = start_fake(str(tmp_path / "in"), "-o", str(out))
    wait_for_partial(proc, out)
    proc.kill()  # SIGKILL: nothing of ours runs
    proc.communicate(timeout=30)
    (stale,) = [out / name for name in leftovers(out)]
    old = time.time() - 60
    os.utime(stale, (old, old))  # killed a minute ago
    again = subprocess.run(
        [sys.executable, "-c", FAKE_CLI, str(tmp_path / "in"), "-o", str(out)],
        capture_output=True,
        timeout=60,
        cwd=ROOT,
        env=env(),
    )
    assert again.returncode == 0, again.stderr
    assert leftovers(out) == [] and names(out) == ["a.txt", "b.txt", "c.txt"]
    assert "1 skipped" in again.stderr.decode()


def test_only_partials_no_live_run_holds_are_stale(tmp_path):
    live = AtomicFileSink(tmp_path / "live.txt")
    live.open().write("being written")
    young = tmp_path / f"{PARTIAL_PREFIX}young.txt"
    young.write_text("just created by another run, not yet locked")
    stale = tmp_path / f"{PARTIAL_PREFIX}stale.txt"
    stale.write_text("left by a killed run")
    old = time.time() - 60
    for path in (stale, *tmp_path.glob(f"{PARTIAL_PREFIX}*")):
        if path != young:
            os.utime(path, (old, old))
    assert remove_stale_partials(tmp_path) == 1
    assert not stale.exists() and young.exists()
    live.commit()
    assert (tmp_path / "live.txt").read_text() == "being written"


# --------------------------------------------------------------------------- signals while starting

# The real entry point, with a stop signal sent to itself at a chosen moment of start-up.
SIGNAL_AT = r"""
import os, signal, sys
moment, signum = sys.argv.pop(1), getattr(signal, sys.argv.pop(1))
import whisper_cli.__main__ as entry
import whisper_cli.core.streams as streams

def kill_self_then(call):
    def wrapped(*a, **k):
        os.kill(os.getpid(), signum)
        return call(*a, **k)
    return wrapped

if moment == "install":  # right after the handlers are installed: the first milliseconds
    streams.guard = kill_self_then(streams.guard)
else:  # while the inputs are listed, before any work
    import whisper_cli.cli.session as session
    session.collect_inputs = kill_self_then(session.collect_inputs)
sys.argv[0] = "whisper-cli"
entry.main()
"""


@pytest.mark.parametrize("moment", ["install", "listing"])
@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_while_starting_ends_cleanly_with_a_report(tmp_path, moment, signame):
    tone_files(tmp_path / "in", [1, 1, 1])
    out, report = tmp_path / "out", tmp_path / "r.json"
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            SIGNAL_AT,
            moment,
            signame,
            str(tmp_path / "in"),
            "-o",
            str(out),
            "--report",
            str(report),
            "-m",
            "tiny.en",
        ],
        capture_output=True,
        timeout=60,
        cwd=ROOT,
        env=env(),
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert res.returncode == (129 if signame == "SIGHUP" else 130), res.stderr
    assert b"Traceback" not in res.stderr
    document = report_of(report)
    assert document["stopped_by"] == signame
    assert [r["status"] for r in document["inputs"]] == ["pending"] * 3
    assert not out.exists()


def catches(pid: int, signum: int) -> bool:
    """Whether process ``pid`` has a handler for ``signum`` now (Linux: SigCgt in /proc/PID/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # it has ended
        return False
    mask = next(line.split()[1] for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(mask, 16) >> (signum - 1) & 1)


def test_sigterm_a_tenth_of_a_second_in(tmp_path):
    """The same from outside, as a user's `timeout` or service manager would. On a busy machine
    the interpreter alone can take longer than that to reach our code (a SIGTERM before it
    kills any Python program): the signal goes 0.1 s in, or once our handler is in place."""
    tone_files(tmp_path / "in", [1, 1])
    report = tmp_path / "r.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "whisper_cli",
            str(tmp_path / "in"),
            "-o",
            str(tmp_path / "out"),
            "--report",
            str(report),
            "-m",
            "tiny.en",
        ],
        cwd=ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    time.sleep(0.1)
    while Path("/proc/self/status").is_file() and not catches(proc.pid, signal.SIGTERM):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.001)
    proc.send_signal(signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert b"Traceback" not in stderr
    assert report_of(report)["stopped_by"] == "SIGTERM"


# --------------------------------------------------------------------------- readers that go away


def test_a_vanished_stderr_reader_does_not_stop_the_batch(tmp_path):
    """`whisper-cli dir -o out --report r.json 2>&1 >/dev/null | grep -m1 error`."""
    folder = tmp_path / "in"
    tone_files(folder, [1] * 12)
    for name in ("0bad.wav", "1bad.wav"):  # first in the order: grep leaves after the first
        (folder / name).write_bytes(b"not audio at all" * 64)
    out, report = tmp_path / "out", tmp_path / "r.json"
    script = '"$@" 2>&1 >/dev/null | grep -m1 error; echo "status=${PIPESTATUS[0]}" >&2'
    res = subprocess.run(
        [
            "bash",
            "-c",
            script,
            "bash",
            sys.executable,
            "-c",
            FAKE_CLI,
            str(folder),
            "-o",
            str(out),
            "--report",
            str(report),
            "--workers",
            "1",
        ],
        capture_output=True,
        timeout=120,
        cwd=ROOT,
        env=env(FAKE_DELAY="0.05"),
    )
    assert res.stdout.decode().startswith("whisper-cli: error: ")
    assert res.stderr.decode().strip() == "status=1"  # two inputs failed; the rest were done
    assert len(names(out)) == 12
    assert report_of(report)["counts"] == {
        "done": 12,
        "skipped": 0,
        "failed": 2,
        "interrupted": 0,
        "pending": 0,
    }


def test_a_vanished_stdout_reader_still_gets_a_report(tmp_path):
    (long,) = tone_files(tmp_path / "in", [600])
    report = tmp_path / "r.json"
    script = '"$@" -f jsonl | head -c 100 >/dev/null; echo "status=${PIPESTATUS[0]}" >&2'
    res = subprocess.run(
        ["bash", "-c", script, "bash", sys.executable, "-c", FAKE_CLI, str(long), "--report", str(report)],
        capture_output=True,
        timeout=60,
        cwd=ROOT,
        env=env(),
    )
    assert res.stderr.decode().strip() == "status=1", res.stderr
    document = report_of(report)
    assert document["stopped_by"] == "stdout closed"
    (record,) = document["inputs"]
    assert record["status"] == "failed" and record["error"] == "stdout closed by its reader"


# --------------------------------------------------------------------------- closed streams at start


def bash_fake(redirect: str, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    script = f'"$@" {redirect}'
    return subprocess.run(
        ["bash", "-c", script, "bash", sys.executable, "-c", FAKE_CLI, *args],
        input=stdin,
        capture_output=True,
        timeout=60,
        cwd=ROOT,
        env=env(),
    )


def test_closed_stdout_is_one_line_when_the_transcript_needs_it(tmp_path):
    (a,) = tone_files(tmp_path / "in", [1])
    res = bash_fake(">&-", str(a))
    assert res.returncode == ExitCode.USAGE
    assert res.stderr.decode() == (
        "whisper-cli: error: standard output is closed: nothing can take the transcript; use -o DIR\n"
    )
    res = bash_fake(">&-", str(a), "-o", str(tmp_path / "out"))
    assert res.returncode == 0, res.stderr
    assert names(tmp_path / "out") == ["a.txt"]


def test_closed_stderr_does_not_fail_a_good_run(tmp_path):
    (a,) = tone_files(tmp_path / "in", [2])
    res = bash_fake("2>&-", str(a), "-o", str(tmp_path / "out"))
    assert res.returncode == 0
    # a file opened later must not take descriptor 2: nothing else lands in the transcript
    assert (tmp_path / "out" / "a.txt").read_text().count("x") == 2 * 39


def test_closed_stdin_with_dash_is_one_line(tmp_path):
    res = bash_fake("<&-", "-")
    assert res.returncode == ExitCode.USAGE
    assert (
        res.stderr.decode() == "whisper-cli: error: -: standard input is closed; there is no audio to read\n"
    )


# --------------------------------------------------------------------------- odd entries


def test_fifos_in_a_folder_do_not_hang_the_run(tmp_path):
    folder = tmp_path / "in"
    tone_files(folder, [1, 1])
    os.mkfifo(folder / "zpipe.wav")
    os.mkfifo(folder / "pipe")
    res = subprocess.run(
        [
            sys.executable,
            "-c",
            FAKE_CLI,
            str(folder),
            str(tmp_path / "in" / "a.wav"),
            "-o",
            str(tmp_path / "o"),
        ],
        capture_output=True,
        timeout=60,
        cwd=ROOT,
        env=env(),
    )
    assert res.returncode == 0, res.stderr
    assert "2 FIFO(s), socket(s) or device(s) left alone" in res.stderr.decode()


def test_a_name_too_long_in_a_list_fails_that_line_only(tmp_path):
    (a,) = tone_files(tmp_path / "in", [1])
    listing = f"{tmp_path / ('x' * 300)}.wav\n{a}\n".encode()
    res = subprocess.run(
        [sys.executable, "-c", FAKE_CLI, "--from-file", "-", "-o", str(tmp_path / "out")],
        input=listing,
        capture_output=True,
        timeout=60,
        cwd=ROOT,
        env=env(),
    )
    stderr = res.stderr.decode()
    assert res.returncode == 1 and "Traceback" not in stderr
    (line,) = [x for x in stderr.splitlines() if x.startswith("whisper-cli: error: ")]
    assert line.endswith(": file name too long")
    assert (tmp_path / "out").rglob("a.txt")


def test_a_list_line_with_leading_spaces_is_named_with_them(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tone(Path("one.wav"))
    res = subprocess.run(
        [sys.executable, "-c", FAKE_CLI, "--from-file", "-", "-o", "out"],
        input=b"  one.wav\none.wav\n",
        capture_output=True,
        timeout=60,
        env=env(),
    )
    (line,) = [x for x in res.stderr.decode().splitlines() if x.startswith("whisper-cli: error: ")]
    assert line == "whisper-cli: error: '  one.wav': no such file or directory"


def test_a_name_that_is_not_utf8_is_spelled_alike_in_jsonl_and_report(tmp_path):
    folder = tmp_path / "in"
    (a,) = tone_files(folder, [1])
    odd = Path(os.fsdecode(os.path.join(os.fsencode(folder), b"caf\xe9.wav")))
    a.rename(odd)
    report = tmp_path / "r.json"
    res = subprocess.run(
        [sys.executable, "-c", FAKE_CLI, str(odd), "-f", "jsonl", "--report", str(report)],
        capture_output=True,
        timeout=60,
        cwd=ROOT,
        env=env(),
    )
    assert res.returncode == 0, res.stderr
    record = json.loads(res.stdout.splitlines()[0])
    assert record["file"] == report_of(report)["inputs"][0]["path"] == str(odd)
    assert b"\\udce9" in res.stdout and b"\\udce9" in report.read_bytes()
