"""Batch mode against a shell loop: one whisper-cli run over N clips, and N runs of one clip each.

    python benchmarks/bench_batch.py [--model tiny.en] [--clips 20] [--repeat 1]

Clips: the short English items of ../shared/eval/manifest.jsonl, read where they are
(never copied); without it, sentences synthesized with espeak-ng into a temp folder.
Every mode uses the same model and decoding settings and writes txt into a temp folder.
Modes: the default batch run, batch with --workers 1, batch with --workers 2
--cpu-threads 1, and the shell loop. Prints wall time, audio seconds, × real time and
the loop/batch ratio. Modes take turns for --repeat rounds; each shows its fastest run.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT.parent / "shared" / "eval"
MIN_CLIPS = 20
LOOP = "loop (one whisper-cli per file)"
SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "The weather tomorrow will be cloudy with a chance of rain in the afternoon.",
    "A large language model was used to summarise the meeting notes.",
    "We will meet at the station at half past nine on Monday morning.",
    "The museum opens its new exhibition of modern sculpture next week.",
    "Turn left at the second traffic light and the library is on your right.",
    "She planted tomatoes, beans and sunflowers in the garden this spring.",
    "The train to the airport leaves every twenty minutes from platform four.",
    "Our results show a clear improvement over the previous method.",
)


@dataclass(frozen=True)
class Timing:
    """One mode's best run."""

    mode: str
    files: int
    audio: float  # seconds of audio
    wall: float  # seconds

    @property
    def speed(self) -> float:
        """Audio seconds per wall second."""
        return self.audio / self.wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="tiny.en", help="model for every run (default: tiny.en)")
    parser.add_argument("--clips", type=int, default=MIN_CLIPS, help=f"clips to use, at least {MIN_CLIPS}")
    parser.add_argument("--repeat", type=int, default=1, help="runs per mode; the fastest counts")
    args = parser.parse_args()
    if args.clips < MIN_CLIPS:
        parser.error(f"--clips must be at least {MIN_CLIPS}")

    command = whisper_cli_command()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        work = Path(tmp)
        clips, source = eval_clips(args.clips) or synthesized_clips(args.clips, work / "clips")
        audio = sum(sf.info(str(c)).duration for c in clips)
        common = ["-m", args.model, "-f", "txt", "-q"]
        print(f"clips: {len(clips)} {source}, {audio:.1f} s of audio; model {args.model}; {cores()} cores")
        print(f"command: {shlex.join(command)}; load average before: {load()}")
        run_batch(command, common, clips[:1], work / "warm-up")  # model and clips into the page cache

        modes = {
            "batch (default)": [],
            "batch --workers 1": ["--workers", "1"],
            "batch --workers 2 --cpu-threads 1": ["--workers", "2", "--cpu-threads", "1"],
            LOOP: None,
        }
        best = dict.fromkeys(modes, float("inf"))
        workers = ""
        for round_ in range(args.repeat):  # modes take turns, so a busy moment hits them alike
            for index, (mode, extra) in enumerate(modes.items()):
                out = work / f"out-{round_}-{index}"
                if extra is None:
                    wall = run_loop(command, common, clips, out)
                else:
                    wall, settings = run_batch(command, [*common, *extra], clips, out)
                    workers = workers or f"{settings['workers']} worker(s)"
                best[mode] = min(best[mode], wall)
        timings = [Timing(mode, len(clips), audio, wall) for mode, wall in best.items()]

    print_table(timings, default_workers=workers)
    print(f"load average after: {load()}")


def whisper_cli_command() -> list[str]:
    """The installed console script, else the module through this interpreter."""
    found = shutil.which("whisper-cli")
    return [found] if found else [sys.executable, "-m", "whisper_cli"]


def eval_clips(count: int) -> tuple[list[Path], str] | None:
    """The first ``count`` short English items of the eval set, in place; None without it."""
    manifest = EVAL_DIR / "manifest.jsonl"
    if not manifest.is_file():
        return None
    items = [json.loads(line) for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip()]
    short = [EVAL_DIR / i["audio"] for i in items if i["language"] == "en" and i.get("subset") == "short"]
    if len(short) < MIN_CLIPS:
        return None
    chosen = short[:count]
    return chosen, f"short English items of {os.path.relpath(EVAL_DIR)} (read in place)"


def synthesized_clips(count: int, folder: Path) -> tuple[list[Path], str]:
    """``count`` espeak-ng sentences as WAV files in ``folder``."""
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        sys.exit("bench_batch: neither ../shared/eval nor espeak-ng is available")
    folder.mkdir(parents=True)
    clips = []
    for i in range(count):
        path = folder / f"clip{i:03d}.wav"
        text = SENTENCES[i % len(SENTENCES)]
        speed = str(140 + 10 * (i // len(SENTENCES)) % 60)  # vary repeated sentences a little
        subprocess.run([espeak, "-v", "en-us", "-s", speed, "-w", str(path), text], check=True)
        clips.append(path)
    return clips, "espeak-ng clips"


def run_batch(command: list[str], options: list[str], clips: list[Path], out: Path) -> tuple[float, dict]:
    """Wall seconds of one batch run, and the settings its report recorded."""
    report = out.with_suffix(".json")
    started = time.perf_counter()
    result = subprocess.run(
        [*command, *options, "-o", str(out), "--report", str(report), *map(str, clips)],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - started
    check(result, out, len(clips))
    return wall, json.loads(report.read_text())["settings"]


def run_loop(command: list[str], options: list[str], clips: list[Path], out: Path) -> float:
    """Wall seconds of a shell loop running the CLI once per clip."""
    cli = shlex.join([*command, *options, "-o", str(out)])
    script = f'for f in "$@"; do {cli} "$f" || exit; done'
    started = time.perf_counter()
    result = subprocess.run(["bash", "-c", script, "loop", *map(str, clips)], capture_output=True, text=True)
    wall = time.perf_counter() - started
    check(result, out, len(clips))
    return wall


def check(result: subprocess.CompletedProcess, out: Path, expected: int) -> None:
    written = len(list(out.glob("*.txt")))
    if result.returncode != 0 or written != expected:
        status = f"exit {result.returncode}, {written}/{expected} outputs"
        sys.exit(f"bench_batch: run failed ({status})\n{result.stderr}")


def print_table(timings: list[Timing], *, default_workers: str) -> None:
    header = f"{'mode':<36} {'files':>5} {'audio s':>8} {'wall s':>7} {'× real time':>11}"
    print()
    print(header)
    print("-" * len(header))
    for t in timings:
        print(f"{t.mode:<36} {t.files:>5} {t.audio:>8.1f} {t.wall:>7.1f} {t.speed:>11.1f}")
    batch, one, two, loop = timings
    print()
    print(f"default batch run: {default_workers}")
    print(f"loop / batch (default) wall time: {loop.wall / batch.wall:.2f}×")
    print(f"--workers 1 / --workers 2 --cpu-threads 1 wall time: {one.wall / two.wall:.2f}×")


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
