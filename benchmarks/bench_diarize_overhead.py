#!/usr/bin/env python3
"""What --diarize adds to a default run's wall time (issue 19's aim: at most 10 %), in one session.

Workload: ../shared/eval's en_longform_concat_all_en.flac (227.6 s, 28 English readers),
read in place (skipped with a message when absent).

Configurations, each a whole `whisper-cli FILE -m MODEL` process timed from outside
(start-up and model load included), interleaved round by round (A B C A B C …):
  plain      the default run
  words      --word-timestamps (what --diarize decodes besides: word times to split segments at)
  diarize    --diarize (speaker model in a thread of its own, word times, segments split)
Prints per configuration: median wall s, time to the first line on stdout, CPU s
(user+sys of the process), and the wall overhead against plain (median of per-round
ratios); the load average before and after (the machine may be shared); and the speaker
engine alone on the file in this process (wall and CPU s, no transcription).

  python benchmarks/bench_diarize_overhead.py [--model tiny.en] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LONG = ROOT.parent / "shared" / "eval" / "audio" / "en_longform_concat_all_en.flac"
CONFIGS = {"plain": [], "words": ["--word-timestamps"], "diarize": ["--diarize"]}


def timed(args: list[str]) -> tuple[float, float | None, float]:
    """(wall s, s to the first stdout line, CPU s) of one whisper-cli process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "whisper_cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert proc.stdout is not None
    first = None
    for _ in proc.stdout:
        first = first if first is not None else time.monotonic() - started
    if proc.wait() != 0:
        raise SystemExit(f"whisper-cli {' '.join(args)} failed with {proc.returncode}")
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, first, cpu


def engine_alone() -> tuple[float, float]:
    """The speaker engine on the whole file, in this process: (wall s, CPU s); numpy's BLAS on
    one thread, as the whisper-cli entry point sets it."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    import soundfile as sf

    from whisper_cli.diarize.speakers import diarize

    audio, _ = sf.read(LONG, dtype="float32")
    diarize(audio[: 16000 * 5])  # the weights loaded once, as in a run
    wall, cpu = time.monotonic(), time.process_time()
    turns = diarize(audio)
    wall, cpu = time.monotonic() - wall, time.process_time() - cpu
    print(f"speaker engine alone: {len(turns)} turns, {len({t.speaker for t in turns})} speakers found")
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not LONG.is_file():
        print(f"skipped: {LONG} is not there")
        return
    print(f"file {LONG.name}, model {args.model}, {len(os.sched_getaffinity(0))} cores")
    print(f"load average before: {os.getloadavg()}", flush=True)
    runs: dict[str, list[tuple[float, float | None, float]]] = {name: [] for name in CONFIGS}
    for _ in range(args.repeat):
        for name, extra in CONFIGS.items():
            runs[name].append(timed([str(LONG), "-m", args.model, *extra]))
            print(f"  {name}: wall {runs[name][-1][0]:.2f} s, CPU {runs[name][-1][2]:.2f} s", flush=True)
    print(f"load average after: {os.getloadavg()}")
    print(f"{'config':<8} {'wall s':>7} {'first s':>8} {'CPU s':>7} {'wall vs plain':>14}")
    for name, results in runs.items():
        ratios = [r[0] / p[0] for r, p in zip(results, runs["plain"], strict=True)]
        firsts = [r[1] for r in results if r[1] is not None]
        print(
            f"{name:<8} {statistics.median(r[0] for r in results):7.2f} "
            f"{statistics.median(firsts) if firsts else float('nan'):8.2f} "
            f"{statistics.median(r[2] for r in results):7.2f} "
            f"{100 * (statistics.median(ratios) - 1):+13.1f}%"
        )
        print(f"         rounds: {', '.join(f'{r[0]:.2f}' for r in results)}")
    wall, cpu = engine_alone()
    print(f"speaker engine alone on {LONG.name}: wall {wall:.2f} s, CPU {cpu:.2f} s")


if __name__ == "__main__":
    main()
