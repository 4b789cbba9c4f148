"""Ten thousand inputs in one folder: planning grows linearly, a re-run that skips them all
takes seconds, and a stop signal while a run plans them acts at once (real tiny.en for the
first transcript; the other 9,999 are links of the same clip, their ledger lines the real one's)."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
import soundfile as sf

from tests.conftest import ROOT, SAMPLES, run_cli
from whisper_cli.batch.inputs import collect_inputs
from whisper_cli.batch.ledger import LEDGER_NAME, Ledger, Ledgers
from whisper_cli.batch.ledgerline import Entry, InputStamp
from whisper_cli.batch.outputs import plan_outputs
from whisper_cli.batch.resume import decide

pytestmark = pytest.mark.scale

MANY = 10_000
FEW = 1_000
# Times are CPU seconds where they can be (the machine may be shared): a skip-all re-run of
# 10,000 inputs took 2.5 s of CPU, and over 60 s before planning was made linear.
SKIP_ALL_CPU_SECONDS = 20.0
SIGNAL_SECONDS = 10.0  # wall: a signal acts in well under a second (before: 60 s and more)


def _links(folder: Path, clip: Path, count: int) -> Path:
    folder.mkdir(parents=True)
    for i in range(count):
        os.link(clip, folder / f"rec{i:05d}.wav")
    return folder


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data, rate = sf.read(SAMPLES / "hello.wav")
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    sf.write(path, data[: int(0.3 * rate)], rate)
    return path


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory, clip: Path) -> Path:
    return _links(tmp_path_factory.mktemp("many") / "in", clip, MANY)


def _plan_seconds(folder: Path, out: Path) -> float:
    """CPU time from the folder's name to every input's decision (the best of three for the
    small folder)."""
    best = float("inf")
    for _ in range(3 if folder.name == "few" else 1):
        started = time.process_time()
        inputs = collect_inputs([str(folder)]).inputs
        plan = plan_outputs(inputs, ("txt", "srt"), out)
        ledgers, reserved = Ledgers(), {os.path.abspath(p) for t in plan.values() for p in t.values()}
        for item in inputs:
            decide(item, plan[item], {"txt": "k", "srt": "k"}, ledgers, overwrite=False, reserved=reserved)
        best = min(best, time.process_time() - started)
    assert len(inputs) == len(list(folder.iterdir()))
    return best


def test_planning_grows_linearly_with_the_folder(many: Path, clip: Path, tmp_path: Path):
    few = _links(tmp_path / "few", clip, FEW)
    small, large = _plan_seconds(few, tmp_path / "o1"), _plan_seconds(many, tmp_path / "o2")
    # ten times the inputs: ten times the time when linear, a hundred when quadratic
    assert large < 30 * small, f"{FEW} inputs: {small:.3f} s, {MANY}: {large:.3f} s"


def _ledger_for_all(folder: Path, out: Path) -> None:
    """The real run's output and ledger line for the first input, repeated for every other
    input (the same clip: the same transcript), through the ledger's own code."""
    first = folder / "rec00000.wav"
    res = run_cli(str(first), "-o", str(out), "-m", "tiny.en", "-f", "txt")
    assert res.returncode == 0, res.stderr.decode()
    (line,) = [ln for ln in (out / LEDGER_NAME).read_text().splitlines() if ln.strip()]
    model = Entry.from_json(line)
    assert model is not None
    entries = []
    for source in sorted(folder.iterdir())[1:]:
        output = out / f"{source.stem}.txt"
        os.link(out / "rec00000.txt", output)
        entries.append(replace(model, output=output.name, input=InputStamp.of(str(source), out), line=""))
    Ledger(out).record(entries)


def test_a_rerun_that_skips_ten_thousand_inputs_takes_seconds(many: Path, tmp_path: Path):
    out, report = tmp_path / "out", tmp_path / "run.json"
    _ledger_for_all(many, out)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    args = [str(many), "-o", str(out), "-m", "tiny.en", "-f", "txt", "--report", str(report)]
    res = run_cli(*args, timeout=900)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    assert res.returncode == 0, res.stderr.decode()
    assert json.loads(report.read_text())["counts"]["skipped"] == MANY
    assert cpu < SKIP_ALL_CPU_SECONDS, f"a re-run that skips {MANY} inputs took {cpu:.1f} s of CPU"


@pytest.mark.parametrize(("signame", "code"), [("SIGTERM", 130), ("SIGINT", 130), ("SIGHUP", 129)])
def test_a_signal_while_ten_thousand_inputs_are_planned_acts_at_once(
    many: Path, tmp_path: Path, signame: str, code: int
):
    report = tmp_path / "run.json"
    # The list on stdin: a pipe holds 64 KiB of its 560 KB, so once it is all written, the
    # run is past its start-up; once stdin is closed, it lists the inputs and plans.
    listing = "".join(f"{path}\n" for path in sorted(many.iterdir())).encode()
    stderr = (tmp_path / "stderr").open("w+b")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "whisper_cli",
            "--from-file",
            "-",
            "-o",
            str(tmp_path / "out"),
            "-m",
            "tiny.en",
            "--report",
            str(report),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdin is not None and len(listing) > 4 * 65536
        proc.stdin.write(listing)
        proc.stdin.close()
        time.sleep(0.5)  # the list read: listing and planning
        sent = time.monotonic()
        proc.send_signal(getattr(signal, signame))
        proc.wait(timeout=300)
        took = time.monotonic() - sent
    finally:
        proc.kill()
    err = (tmp_path / "stderr").read_bytes()
    assert proc.returncode == code, err.decode()[-2000:]
    assert took < SIGNAL_SECONDS, f"{signame} acted {took:.1f} s after it was sent"
    document = json.loads(report.read_text())
    assert document["interrupted"] and document["stopped_by"] == signame
    # every input listed (as not done, or done), unless the signal cut a listing that had
    # taken over a second short (a busy machine): then those found so far
    statuses = {record["status"] for record in document["inputs"]}
    assert statuses <= {"pending", "interrupted", "done"} and len(document["inputs"]) <= MANY
    assert "not done (interrupted)" in err.decode()
