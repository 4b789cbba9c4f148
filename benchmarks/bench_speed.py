#!/usr/bin/env python3
"""Speed and accuracy of whisper-cli against the bare faster-whisper engine, in one run.

Workloads (from ../shared/eval, read in place; skipped with a message when absent):
  long   en_longform_concat_all_en.flac          (28 English utterances joined, 3.8 min)
  level  en_longform_concat_all_en_leveled.flac  (the same, each utterance level-matched)
  clips  the 28 short English items, one process for all of them

Configurations, each a whole process timed from outside (start-up and model load included):
  engine       a minimal script calling faster-whisper directly: WhisperModel(cpu_threads=cores),
               model.transcribe(beam 5, language en) per file in one process: our ceiling
  cli-default  whisper-cli with its defaults
  cli-seq      whisper-cli --workers 1 --cpu-threads <cores>   (sequential, like the engine)
  cli-batched  whisper-cli --workers 1 --batch-size 8
Each configuration runs --repeat times, interleaved (A B C D A B C D …); the table shows
medians, and ratios to the engine are medians of per-round ratios.

Prints: wall s, audio s, × real time, time to first segment, peak RSS, WER, wall ratio to
the engine; the CPU time stolen by the hypervisor meanwhile (Linux guests); and a
start-up table (--help, --version, a usage error).

  python benchmarks/bench_speed.py [--model tiny.en] [--repeat 3] [--workloads long,level,clips]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"
CORES = len(os.sched_getaffinity(0))

ENGINE_SCRIPT = r"""
import json, sys, time
from faster_whisper import WhisperModel
model_path, threads, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
model = WhisperModel(model_path, device="cpu", compute_type="int8", cpu_threads=threads)
for f in files:
    segments, info = model.transcribe(f, beam_size=5, language="en")
    for s in segments:
        print(json.dumps({"file": f, "text": s.text.strip()}), flush=True)
"""


@dataclass
class Run:
    wall: float
    first: float | None  # seconds to the first segment on stdout
    rss_mib: float
    texts: dict[str, list[str]]


def normalise(text: str) -> str:
    """Lower case, hyphens to spaces, apostrophes and other punctuation dropped."""
    text = text.lower().replace("-", " ").replace("'", "").replace("’", "")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def corpus_wer(refs: list[str], hyps: list[str]) -> float:
    import jiwer

    return 100 * jiwer.wer([normalise(r) for r in refs], [normalise(h) or "<empty>" for h in hyps])


def timed(cmd: list[str]) -> Run:
    """Run ``cmd``; time it, its first stdout line and its peak RSS (wait4 rusage)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    first = None
    texts: dict[str, list[str]] = {}
    assert proc.stdout is not None
    for line in proc.stdout:
        if first is None:
            first = time.perf_counter() - start
        record = json.loads(line)
        texts.setdefault(os.path.abspath(record["file"]), []).append(record["text"])
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{stderr}")
    return Run(wall, first, usage.ru_maxrss / 1024, texts)


def cpu_times() -> list[int] | None:
    """The machine's CPU time counters (Linux /proc/stat), or None elsewhere."""
    try:
        with open("/proc/stat", encoding="ascii") as stat:
            return [int(n) for n in stat.readline().split()[1:]]
    except (OSError, ValueError):
        return None


def steal_percent(before: list[int] | None, after: list[int] | None) -> float | None:
    """Share of CPU time the hypervisor gave to other guests (the 8th counter: steal).

    Other guests on the host slow multi-threaded configurations most: a descheduled
    OpenMP thread holds up its partner at every barrier."""
    if before is None or after is None or len(after) < 8:
        return None
    deltas = [b - a for a, b in zip(before, after, strict=False)]
    return 100 * deltas[7] / max(1, sum(deltas[:8]))


def commands(model: str, model_path: str, files: list[str]) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "whisper_cli", "-m", model, "-l", "en", "-f", "jsonl", "-q"]
    return {
        "engine": [sys.executable, "-c", ENGINE_SCRIPT, model_path, str(CORES), *files],
        "cli-default": [*cli, *files],
        "cli-seq": [*cli, "--workers", "1", "--cpu-threads", str(CORES), *files],
        "cli-batched": [*cli, "--workers", "1", "--batch-size", "8", *files],
    }


def run_workload(name: str, files: list[str], refs: dict[str, str], model: str, model_path: str, repeat: int):
    audio = sum(_duration(f) for f in files)
    cmds = commands(model, model_path, files)
    results: dict[str, list[Run]] = {k: [] for k in cmds}
    before = cpu_times()
    for _ in range(repeat):
        for label, cmd in cmds.items():
            results[label].append(_run_config(label, cmd, files))
    stolen = steal_percent(before, cpu_times())
    print(f"\n## {name}: {len(files)} file(s), {audio:.1f} s of audio, {repeat} round(s), {CORES} cores")
    if stolen is not None:
        print(f"CPU time stolen by the hypervisor during these runs: {stolen:.0f} %")
    header = "configuration | wall s (median) | × real time | first segment s"
    header += " | peak RSS MiB | WER % | wall / engine"
    print(f"| {header} |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    engine = results["engine"]
    for label, runs in results.items():
        wall = statistics.median(r.wall for r in runs)
        firsts = [r.first for r in runs if r.first is not None]
        first = f"{statistics.median(firsts):.2f}" if firsts and len(files) == 1 else "-"
        rss = max(r.rss_mib for r in runs)
        hyps = [" ".join(runs[-1].texts.get(os.path.abspath(f), [])) for f in files]
        wer = corpus_wer([refs[f] for f in files], hyps)
        ratio = statistics.median(r.wall / e.wall for r, e in zip(runs, engine, strict=True))
        print(
            f"| {label} | {wall:.1f} | {audio / wall:.1f} | {first} | {rss:.0f} | {wer:.1f} | {ratio:.2f} |"
        )
    sys.stdout.flush()


def _run_config(label: str, cmd: list[str], files: list[str]) -> Run:
    """Several inputs make whisper-cli write files: read them back from a temp folder."""
    if label == "engine" or len(files) == 1:
        return timed(cmd)
    with tempfile.TemporaryDirectory() as out:
        run = timed([*cmd, "-o", out])
        for path in Path(out).rglob("*.jsonl"):
            if path.name.startswith("."):  # whisper-cli's ledger, not a transcript
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                record = json.loads(line)
                run.texts.setdefault(os.path.abspath(record["file"]), []).append(record["text"])
        return run


def _duration(path: str) -> float:
    import soundfile

    return soundfile.info(path).duration


def startup(repeat: int) -> None:
    print("\n## start-up (no model load)")
    print(f"| command | wall s (median of {repeat}) |")
    print("| --- | --- |")
    exe = [sys.executable, "-m", "whisper_cli"]
    for args in (["--help"], ["--version"], ["-f", "docx", "x.wav"]):
        walls = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run([*exe, *args], capture_output=True, cwd=ROOT)
            walls.append(time.perf_counter() - start)
        print(f"| whisper-cli {' '.join(args)} | {statistics.median(walls):.3f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workloads", default="long,level,clips")
    args = parser.parse_args()
    print(f"# whisper-cli speed benchmark: model {args.model}, int8, beam 5, language en")
    print(f"machine: {CORES} cores, {os.uname().machine}, Python {sys.version.split()[0]}")
    startup(max(5, args.repeat))
    if not (EVAL / "manifest.jsonl").is_file():
        print(f"\n{EVAL} is not present: the speed workloads need its audio; skipped.")
        return
    from whisper_cli.models.resolve import resolve_model

    model_path = str(resolve_model(args.model, download=False).path)
    items = [json.loads(line) for line in (EVAL / "manifest.jsonl").open(encoding="utf-8")]
    refs = {str(EVAL / i["audio"]): i["text"] for i in items}
    short = [str(EVAL / i["audio"]) for i in items if i["language"] == "en" and i["subset"] == "short"]
    workloads = {
        "long": [str(EVAL / "audio" / "en_longform_concat_all_en.flac")],
        "level": [str(EVAL / "audio" / "en_longform_concat_all_en_leveled.flac")],
        "clips": short,
    }
    for name in args.workloads.split(","):
        run_workload(name, workloads[name], refs, args.model, model_path, args.repeat)


if __name__ == "__main__":
    main()
