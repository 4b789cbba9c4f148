"""A stop signal at any moment of start-up from our first line on: exit 130, the report, no traceback.

Start-up before our first line (the interpreter, its site packages) is not ours to guard: a
SIGTERM there kills the process as it would kill any program. Everything after it is swept
two ways: deterministically, a signal at the Nth call into whisper_cli's code of a real
entry point (counted with ``sys.settrace``); and from outside, SIGTERM and SIGINT sent to
a real ``python -m whisper_cli`` after a spread of small delays.
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

from tests.batch.test_hostile import tone_files
from tests.conftest import ROOT
from tests.core.test_signals_streams import catches, env

# The console script's entry point, run with a stop signal sent to itself at the Nth call of a
# function (or the start of a module body) in whisper_cli's code, on the main thread.
SIGNAL_AT_CALL = r"""
import os, sys
call, signum = int(sys.argv.pop(1)), int(sys.argv.pop(1))
calls = 0

def tracer(frame, event, arg):
    global calls
    if event == "call" and "whisper_cli" in frame.f_code.co_filename:
        calls += 1
        if calls == call:
            sys.settrace(None)
            os.kill(os.getpid(), signum)
    return None

sys.argv[0] = os.path.join(os.path.dirname(sys.executable), "whisper-cli")  # as the console script
sys.settrace(tracer)
from whisper_cli.__main__ import main
sys.exit(main())
"""

# The first call is whisper_cli/__init__.py's own body starting: a signal sent there comes
# before our first line. The calls after it run up to the CLI's import (call 40 or so).
CALLS = range(2, 44, 2)


def _start(tmp_path: Path, command: list[str]) -> tuple[subprocess.Popen, Path]:
    """``command`` on two tone files into tmp_path/out, with a report: the process, the report's path."""
    report = tmp_path / "r.json"
    report.unlink(missing_ok=True)
    args = [str(tmp_path / "in"), "-o", str(tmp_path / "out"), "--report", str(report), "-m", "tiny.en"]
    proc = subprocess.Popen(
        [*command, *args], cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    return proc, report


def _run(tmp_path: Path, command: list[str]) -> tuple[subprocess.CompletedProcess, Path]:
    proc, report = _start(tmp_path, command)
    stdout, stderr = proc.communicate(timeout=60)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr), report


def _ended_cleanly(res: subprocess.CompletedProcess, report: Path, signum: int) -> str | None:
    """What is wrong with a run stopped by ``signum`` after our first line (None: nothing)."""
    want = 129 if signum == signal.SIGHUP else 130
    if b"Traceback" in res.stderr:
        return "a traceback"
    if res.returncode != want:
        return f"exit {res.returncode}, not {want}"
    if not report.is_file():
        return "no report"
    document = json.loads(report.read_text(encoding="utf-8"))
    if document["stopped_by"] != signal.Signals(signum).name:
        return f"stopped_by {document['stopped_by']}"
    return None


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_at_any_call_of_start_up_ends_with_a_report(tmp_path, signame):
    tone_files(tmp_path / "in", [1, 1])
    signum = int(getattr(signal, signame))
    wrong = {}
    for call in CALLS:
        res, report = _run(tmp_path, [sys.executable, "-c", SIGNAL_AT_CALL, str(call), str(signum)])
        problem = _ended_cleanly(res, report, signum)
        if problem:
            lines = res.stderr.decode(errors="replace").strip().splitlines() or [""]
            wrong[call] = f"{problem}; stderr ends: {lines[-1][:200]}"
    assert not wrong, wrong


def _command() -> list[str]:
    """The installed console script beside this interpreter (what users run), else ``python -m``."""
    script = Path(sys.executable).parent / "whisper-cli"
    return [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m", "whisper_cli"]


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads /proc/PID/status")
def test_signals_sent_a_few_milliseconds_in_end_cleanly_once_our_code_runs(tmp_path):
    """From outside, as `timeout` or a service manager would, at a spread of delays. Whether our
    code runs yet is read from the kernel just before sending: SIGTERM caught (the interpreter
    catches only SIGINT by itself). Before that, the signal meets the interpreter's own start:
    a SIGTERM kills it, a SIGINT is Python's KeyboardInterrupt; from then on, a clean end."""
    tone_files(tmp_path / "in", [1, 1])
    reach = _time_to_our_code(tmp_path)
    clean = 0
    for step in range(20):  # from half the time the interpreter takes to reach our code to 3/2 of it
        delay = reach * (0.5 + step / 20)
        for signum in (signal.SIGTERM, signal.SIGINT):
            proc, report = _start(tmp_path, _command())
            time.sleep(delay)
            ours = catches(proc.pid, signal.SIGTERM)
            proc.send_signal(signum)
            stdout, stderr = proc.communicate(timeout=60)
            if not ours:
                continue
            res = subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)
            problem = _ended_cleanly(res, report, signum)
            assert problem is None, (delay, signal.Signals(signum).name, problem, stderr.decode()[-400:])
            clean += 1
    assert clean, f"no signal came after our code started ({reach:.3f} s in)"


def _time_to_our_code(tmp_path: Path) -> float:
    """Seconds from start until a run catches SIGTERM (our first line ran), on this machine now."""
    proc, _ = _start(tmp_path, _command())
    started = time.monotonic()
    try:
        while not catches(proc.pid, signal.SIGTERM):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.001)
        return time.monotonic() - started
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)


@pytest.mark.parametrize(
    ("script", "records"), [("whisper-cli", True), ("whisper-ct2-cli", True), ("my_program.py", False)]
)
def test_both_entry_points_record_early_signals_and_a_library_user_keeps_its_handlers(
    tmp_path, script, records
):
    """The package's first lines take SIGTERM only for the command (either of its names)."""
    probe = tmp_path / script
    probe.write_text(
        "import signal, whisper_cli\nprint(getattr(signal.getsignal(signal.SIGTERM), '__name__', ''))\n"
    )
    res = subprocess.run(
        [sys.executable, str(probe)], cwd=ROOT, capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert (res.stdout.strip() == "_record_early_signal") is records, res.stdout
