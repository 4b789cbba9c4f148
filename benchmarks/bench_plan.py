"""A folder of 1,000, 10,000 and 100,000 inputs: planning time, a re-run that skips them all, and
how soon a stop signal acts.

    python benchmarks/bench_plan.py [--sizes 1000 10000 100000] [--real 100] [--repeat 3]

Inputs: the first 0.3 s of samples/hello.wav, hard-linked N times into one folder (a temp
folder; one copy of the clip per 50,000 links, the file system's limit).

- ledger: a real first run (``whisper-cli``, the model, txt) transcribes --real of the clips.
  Each folder's outputs are that run's transcript (the same clip gives the same text), and
  its ledger lines are that run's line with each input's own stamp, appended by the ledger's
  own code (``Ledger.record``). No real first run of 100,000 files is made.
- plan: in this process, what a run does before its first job, by the functions the run
  calls: list the folder (``collect_inputs``), name the outputs (``plan_outputs``) and decide
  every input from the ledger (``Runner``'s decisions, which read and hash each output),
  into an empty output folder (all new) and into the filled one (all done). Best of --repeat.
- skip-all re-run: ``whisper-cli DIR -o OUT`` as a subprocess over the filled output folder,
  with Python's start-up (exit 0 and N skipped checked). Best of --repeat.
- signal in planning: in this process, the same planning (all new) with whisper-cli's own
  stop-signal handler armed, as a run arms it; a timer sends SIGTERM to this process half-way
  through (half the CPU time measured above: wall time is never less); the time until the
  planning has stopped.
- signal to a run: SIGTERM sent to ``whisper-cli DIR -o NEW --report R`` (all new), --signal-at
  seconds after it has installed its handler (read from /proc/PID/status); the time until it
  exits, its exit status (130) and how many inputs its report lists. Before the run is armed
  (its imports, then listing: up to a second) the signal is only recorded.

Wall and CPU seconds are both shown: on a shared machine the wall time is the load's.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path

import soundfile as sf

from whisper_cli.batch.inputs import collect_inputs
from whisper_cli.batch.jobs import Job
from whisper_cli.batch.ledger import LEDGER_NAME, Ledger
from whisper_cli.batch.ledgerline import Entry, InputStamp
from whisper_cli.batch.outputs import plan_outputs
from whisper_cli.batch.runner import Runner
from whisper_cli.console import Reporter
from whisper_cli.core import signals
from whisper_cli.core.transcript import DecodeOptions
from whisper_cli.writers import WriterOptions

ROOT = Path(__file__).resolve().parent.parent
CLIP_SECONDS = 0.3
LINKS_PER_COPY = 50_000  # ext4 allows 65,000 links to one file


def make_folder(folder: Path, clip: Path, count: int) -> None:
    """``count`` links of ``clip`` named rec000000.wav …"""
    folder.mkdir(parents=True)
    for i in range(count):
        source = clip.with_name(f"{clip.stem}-{i // LINKS_PER_COPY}.wav")
        if not source.exists():
            shutil.copy2(clip, source)
        os.link(source, folder / f"rec{i:06d}.wav")


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "whisper_cli", *args]


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def real_first_run(folder: Path, out: Path, model: str) -> tuple[Entry, Path]:
    """Transcribe ``folder`` with the model; its first output's ledger line and transcript."""
    started = time.monotonic()
    res = subprocess.run(
        cli(str(folder), "-o", str(out), "-m", model, "-f", "txt", "-q"), capture_output=True
    )
    if res.returncode != 0:
        sys.exit(f"the first run failed: {res.stderr.decode()[-2000:]}")
    count = len(list(folder.iterdir()))
    print(f"real first run ({model}): {count} clips transcribed in {time.monotonic() - started:.1f} s")
    lines = (out / LEDGER_NAME).read_text().splitlines()
    entry = next(e for e in map(Entry.from_json, lines) if e is not None and e.output == "rec000000.txt")
    return entry, out / "rec000000.txt"


def fill(folder: Path, out: Path, model: Entry, transcript: Path) -> None:
    """Every input of ``folder`` done in ``out``: ``transcript`` under its output's name, and
    ``model``'s ledger line with the input's own stamp."""
    out.mkdir(parents=True)
    entries = []
    for i, source in enumerate(sorted(folder.iterdir())):
        output = out / f"{source.stem}.txt"
        if i % LINKS_PER_COPY == 0:
            shutil.copy(transcript, copy := out.parent / f"{out.name}-transcript-{i}.txt")
        os.link(copy, output)
        entries.append(replace(model, output=output.name, input=InputStamp.of(str(source), out), line=""))
    Ledger(out).record(entries)


def plan(folder: Path, out: Path, keys: dict[str, str]) -> int:
    """What a run does before its first job; how many inputs are to do."""
    inputs = collect_inputs([str(folder)]).inputs
    planned = plan_outputs(inputs, ("txt",), out)
    jobs = [Job(item, ("txt",), planned[item]) for item in inputs]
    runner = Runner(DecodeOptions(), WriterOptions(), Reporter(quiet=True), keys=keys)
    return len(runner._todo(jobs, {}))  # the decisions Runner.execute makes first


def plan_seconds(folder: Path, out: Path, keys: dict[str, str], repeat: int) -> tuple[float, float, int]:
    """Best wall and CPU seconds of ``plan``, and how many inputs are to do."""
    wall, cpu, todo = float("inf"), float("inf"), 0
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        todo = plan(folder, out, keys)
        wall, cpu = min(wall, time.perf_counter() - started), min(cpu, time.process_time() - cpu_started)
    return wall, cpu, todo


def skip_all_seconds(folder: Path, out: Path, model: str, count: int, repeat: int) -> tuple[float, float]:
    """Best wall and CPU seconds of a whisper-cli run that skips every input."""
    wall, cpu = float("inf"), float("inf")
    for _ in range(repeat):
        report = out.parent / "skip-report.json"
        started, cpu_started = time.monotonic(), children_cpu()
        res = subprocess.run(
            cli(str(folder), "-o", str(out), "-m", model, "-f", "txt", "--report", str(report)),
            capture_output=True,
        )
        wall, cpu = min(wall, time.monotonic() - started), min(cpu, children_cpu() - cpu_started)
        skipped = json.loads(report.read_text())["counts"]["skipped"] if report.exists() else None
        if res.returncode != 0 or skipped != count:
            err = res.stderr.decode()[-2000:]
            sys.exit(f"the skip-all re-run: exit {res.returncode}, {skipped} skipped: {err}")
    return wall, cpu


def signal_in_planning(folder: Path, out: Path, keys: dict[str, str], after: float) -> float:
    """Seconds from a SIGTERM sent ``after`` seconds into planning until planning stopped."""
    sent: list[float] = []

    def send() -> None:
        sent.append(time.perf_counter())
        os.kill(os.getpid(), signal.SIGTERM)

    timer = threading.Timer(after, send)
    signals.reset()
    try:
        with signals.armed():
            timer.start()
            plan(folder, out, keys)
        return float("nan")  # planning ended before the signal
    except KeyboardInterrupt:
        return time.perf_counter() - sent[0]
    finally:
        timer.cancel()
        signals.reset()


def handlers_installed(pid: int) -> bool:
    """Whether process ``pid`` catches SIGTERM yet (Linux: /proc/PID/status, SigCgt)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True  # not Linux: the caller has waited a second already
    caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
    return bool(int(caught.split()[1], 16) >> (signal.SIGTERM - 1) & 1)


def signal_to_a_run(folder: Path, scratch: Path, model: str, at: float, count: int) -> str:
    out, report = scratch / f"new-{at}", scratch / f"signal-{at}.json"
    proc = subprocess.Popen(
        cli(str(folder), "-o", str(out), "-m", model, "-f", "txt", "--report", str(report)),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.05)
    while not handlers_installed(proc.pid) and proc.poll() is None:
        time.sleep(0.005)
    time.sleep(at)
    if proc.poll() is not None:
        return f"{at:g} s after its handlers: the run had ended (exit {proc.returncode})"
    sent = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=900)
    took = time.monotonic() - sent
    listed = len(json.loads(report.read_text())["inputs"]) if report.exists() else 0
    shutil.rmtree(out, ignore_errors=True)
    ended = f"exit {proc.returncode} {took:.2f} s later"
    return f"{at:g} s after its handlers: {ended}, report lists {listed}/{count} inputs"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--real", type=int, default=100, help="clips the real first run transcribes")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--signal-at", type=float, nargs="+", default=[0.5, 2.0])
    args = parser.parse_args()
    signals.install()  # as the entry point does: the handler signal_in_planning arms

    with tempfile.TemporaryDirectory(prefix="bench-plan-") as tmp:
        scratch = Path(tmp)
        data, rate = sf.read(ROOT / "samples" / "hello.wav")
        clip = scratch / "clip.wav"
        sf.write(clip, data[: int(CLIP_SECONDS * rate)], rate)
        make_folder(scratch / "first", clip, args.real)
        model_entry, transcript = real_first_run(scratch / "first", scratch / "first-out", args.model)
        keys = {"txt": model_entry.settings}
        print("seconds, wall (CPU):")
        columns = ("plan, all new", "plan, all done", "skip-all re-run")
        print(f"{'inputs':>8}  " + "  ".join(f"{c:>16}" for c in columns) + "  signal in plan")
        later = []
        for size in args.sizes:
            folder, done = scratch / f"in-{size}", scratch / f"out-{size}"
            make_folder(folder, clip, size)
            fill(folder, done, model_entry, transcript)
            new_wall, new_cpu, todo_new = plan_seconds(folder, scratch / "empty", keys, args.repeat)
            old_wall, old_cpu, todo_old = plan_seconds(folder, done, keys, args.repeat)
            assert todo_new == size and todo_old == 0, (todo_new, todo_old)
            rerun_wall, rerun_cpu = skip_all_seconds(folder, done, args.model, size, args.repeat)
            latency = signal_in_planning(folder, scratch / "empty", keys, new_cpu / 2)
            print(
                f"{size:>8}  {new_wall:>7.2f} ({new_cpu:>6.2f})  {old_wall:>7.2f} ({old_cpu:>6.2f})  "
                f"{rerun_wall:>7.2f} ({rerun_cpu:>6.2f})  {latency:.3f}",
                flush=True,
            )
            later += [(size, signal_to_a_run(folder, scratch, args.model, at, size)) for at in args.signal_at]
            shutil.rmtree(done)
            shutil.rmtree(folder)
        print("\nSIGTERM to a whisper-cli run over an empty output folder:")
        for size, line in later:
            print(f"{size:>8}  {line}")


if __name__ == "__main__":
    main()
