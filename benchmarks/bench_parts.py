#!/usr/bin/env python3
"""Accuracy and speed of long recordings cut into parts of a given mean length (decode/parallel.py).

A long recording is cut at quiet moments into parts of about PART_SECONDS, chosen from the
audio alone, so the text is the same whatever --workers. This script measures what the
length trades: shorter parts give the decoders more to share and stop a run of wrong
text at the next cut, but each cut loses the text before it as context.

Recordings (from ../shared/eval, read in place; skipped with a message when absent):
  the long-form file (227.6 s) and its level-matched copy, and ``--shuffles`` recordings
  made in a temporary folder by joining the 28 short English clips in a random order
  (seeds 1, 2, …), with 0.3-1.0 s of silence between them.
For each length, one whisper-cli process (-m tiny.en -l en --workers 2) transcribes them
all, with PART_SECONDS set before the CLI starts; 0 means one part (no cut).

Prints per length: the parts of a 227.6 s recording, wall s (one run, all files: noisy on
a shared machine), WER % per recording and over all of them.

  python benchmarks/bench_parts.py [--lengths 0,30,40,60,90] [--shuffles 4] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_speed import EVAL, ROOT, normalise

# Sets the part length, then runs the CLI as `python -m whisper_cli` does.
LAUNCHER = (
    "import os, sys; os.environ.setdefault('OPENBLAS_NUM_THREADS', '1'); "
    "import whisper_cli.decode.parallel as p; p.PART_SECONDS = float(sys.argv.pop(1)); "
    "from whisper_cli.__main__ import main; main()"
)


def recordings(folder: Path, shuffles: int) -> dict[str, tuple[Path, str]]:
    """name -> (audio, reference): the long-form files, and the short clips joined in random orders."""
    items = [json.loads(line) for line in (EVAL / "manifest.jsonl").open(encoding="utf-8")]
    found = {
        Path(i["audio"]).stem: (EVAL / i["audio"], i["text"]) for i in items if i["subset"] == "longform"
    }
    short = [i for i in items if i["language"] == "en" and i["subset"] == "short"]
    for seed in range(1, shuffles + 1):
        rng = np.random.default_rng(seed)
        pieces, texts = [], []
        for k in rng.permutation(len(short)):
            audio, rate = sf.read(EVAL / short[k]["audio"], dtype="float32")
            assert rate == 16_000 and audio.ndim == 1, short[k]["audio"]
            pieces += [audio, np.zeros(int(rng.uniform(0.3, 1.0) * rate), np.float32)]
            texts.append(short[k]["text"])
        path = folder / f"shuffled{seed}.flac"
        sf.write(path, np.concatenate(pieces), 16_000)
        found[path.stem] = (path, " ".join(texts))
    return found


def run(length: float, files: dict[str, tuple[Path, str]], workers: int, out: Path) -> tuple[float, dict]:
    """One CLI process over all files; wall time and each file's transcript."""
    part = str(length or 1e9)  # 0: one part, whatever the length
    cmd = [sys.executable, "-c", LAUNCHER, part, *(str(p) for p, _ in files.values())]
    cmd += ["-m", "tiny.en", "-l", "en", "-q", "--workers", str(workers), "-f", "txt", "-o", str(out)]
    start = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    wall = time.perf_counter() - start
    return wall, {
        name: (out / f"{Path(path).stem}.txt").read_text(encoding="utf-8")
        for name, (path, _) in files.items()
    }


def main() -> None:
    import jiwer

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lengths", default="0,30,40,60,90")
    parser.add_argument("--shuffles", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    if not (EVAL / "manifest.jsonl").is_file():
        print(f"{EVAL} is not present: this benchmark needs its audio; skipped.")
        return
    from whisper_cli.decode import parallel
    from whisper_cli.decode.parallel import SAMPLE_RATE, part_count

    with tempfile.TemporaryDirectory() as tmp:
        files = recordings(Path(tmp), args.shuffles)
        names = list(files)
        print(f"# part lengths: model tiny.en, language en, --workers {args.workers}, {os.cpu_count()} cores")
        print(f"| mean part s | parts of 227.6 s | wall s | {' | '.join(names)} | all |")
        print(f"| --- | --- | --- | {' | '.join('---' for _ in names)} | --- |")
        for length in (float(x) for x in args.lengths.split(",")):
            parallel.PART_SECONDS = length or 1e9
            parts = part_count(int(227.6 * SAMPLE_RATE))
            out = Path(tmp) / f"out{length:g}"
            wall, texts = run(length, files, args.workers, out)
            refs = [normalise(files[n][1]) for n in names]
            hyps = [normalise(texts[n]) or "<empty>" for n in names]
            each = [100 * jiwer.wer(r, h) for r, h in zip(refs, hyps, strict=True)]
            label = f"{length:g}" if length else "one part"
            cells = " | ".join(f"{w:.1f}" for w in each)
            print(
                f"| {label} | {parts} | {wall:.1f} | {cells} | {100 * jiwer.wer(refs, hyps):.2f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
