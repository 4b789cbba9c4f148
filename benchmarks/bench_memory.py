"""Peak memory of `whisper-cli FILE -m tiny.en -f txt -o DIR` as the input grows.

Speech-like input is made cheaply: samples/lecture.flac (49 s of speech) repeated with
2 s gaps, streamed into a 16 kHz mono FLAC in a temp folder. Each length runs the real
CLI in a child process; its peak RSS comes from wait4()'s rusage (exact, no polling).
A decode-only run (load_audio alone) separates the decoder's share from the engine's.

    python benchmarks/bench_memory.py                  # 10 min and 1 h
    python benchmarks/bench_memory.py --minutes 10 60 180
    python benchmarks/bench_memory.py --decode-only --minutes 10 60 180

Prints one row per length and the growth per audio hour (least-squares slope).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
LECTURE = ROOT / "samples" / "lecture.flac"
RATE = 16_000
GAP = 2.0  # seconds of silence between repeats


def synthesize(path: Path, minutes: float) -> float:
    """Write ``minutes`` of repeated lecture (with gaps) to ``path``; return its seconds."""
    speech, rate = sf.read(LECTURE, dtype="int16")
    assert rate == RATE
    unit = np.concatenate([speech, np.zeros(int(GAP * RATE), np.int16)])
    total = int(minutes * 60 * RATE)
    with sf.SoundFile(path, "w", RATE, 1, "PCM_16", format="FLAC") as out:
        written = 0
        while written < total:
            part = unit[: total - written]
            out.write(part)
            written += len(part)
    return total / RATE


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """Run ``cmd``; return (peak RSS in MiB, wall seconds, exit status)."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(f"  exit {code}: {stderr.strip()[-500:]}", file=sys.stderr)
    return usage.ru_maxrss / 1024, wall, code  # ru_maxrss is in KiB on Linux


def slope(hours: list[float], values: list[float]) -> float:
    if len(hours) < 2:
        return float("nan")
    return float(np.polyfit(hours, values, 1)[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[10, 60])
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--decode-only", action="store_true", help="measure load_audio alone")
    parser.add_argument("--cpu-threads", type=int, default=0)
    args = parser.parse_args()

    rows = []
    with tempfile.TemporaryDirectory(prefix="whisper-cli-bench-") as tmp:
        for minutes in args.minutes:
            source = Path(tmp) / f"speech_{minutes:g}min.flac"
            seconds = synthesize(source, minutes)
            if args.decode_only:
                code = "import sys; from whisper_cli.audio.load import load_audio; load_audio(sys.argv[1])"
                cmd = [sys.executable, "-c", code, str(source)]
            else:
                cmd = [sys.executable, "-m", "whisper_cli", str(source), "-m", args.model, "-f", "txt"]
                cmd += ["-o", str(Path(tmp) / "out"), "--overwrite", "-q"]
                cmd += ["--cpu-threads", str(args.cpu_threads)] if args.cpu_threads else []
            peak, wall, status = measure(cmd)
            source.unlink()
            rows.append((seconds, peak, wall, status))
            print(
                f"audio {seconds / 60:6.1f} min  peak RSS {peak:7.1f} MiB  wall {wall:7.1f} s"
                f"  ({seconds / wall:5.1f}x real time)  exit {status}",
                flush=True,
            )
    hours = [r[0] / 3600 for r in rows]
    what = "load_audio only" if args.decode_only else f"whisper-cli -m {args.model} -f txt"
    print(f"{what}: peak RSS grows {slope(hours, [r[1] for r in rows]):.0f} MiB per audio hour")
    print(f"(16 kHz float32 samples alone: {RATE * 3600 * 4 / 2**20:.0f} MiB per hour)")


if __name__ == "__main__":
    main()
