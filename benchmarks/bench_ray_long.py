"""--ray on one long recording: its parts over two 1-CPU nodes against one node (cluster/parts.py).

    flock /tmp/whisper-bench.lock python benchmarks/bench_ray_long.py [--minutes 30] [--model tiny.en]

The recording: the English audio of ../shared/eval (its long-form files and short clips)
joined over and over, cut at --minutes, written to a temp folder (never into the
project). A ray.cluster_utils.Cluster (a head without CPUs, as bench_ray.py) with one,
then two 1-CPU nodes transcribes it with `--ray ADDRESS`; printed: wall times, the
speed-up, the actors' idle share (1 - the seconds they spent on parts, from --report,
over actors x wall, start-up included) and whether both runs wrote the same text.

Ray binds to the machine's address, and here only loopback may carry traffic: as root,
the script re-runs itself in a network namespace of its own (unshare -n, lo up).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
from bench_ray import EVAL_DIR, cluster, run


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--minutes", type=float, default=30.0, help="the recording's length")
    parser.add_argument("--in-netns", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.in_netns and os.geteuid() == 0 and shutil.which("unshare"):
        script = 'ip link set lo up && exec "$0" "$@" --in-netns'
        os.execvp("unshare", ["unshare", "-n", "sh", "-c", script, sys.executable, *sys.argv])
    with tempfile.TemporaryDirectory(prefix="bench-ray-long-") as tmp:
        work = Path(tmp)
        recording = work / "long.flac"
        seconds = _recording(recording, args.minutes * 60)
        print(
            f"one recording of {seconds / 60:.1f} min ({seconds:.0f} s; the eval's English audio "
            f"joined); model {args.model}; {os.cpu_count()} cores; load before {os.getloadavg()[0]:.2f}"
        )
        print("\n| nodes | actors | wall s | x real time | parts on | actors' idle share |")
        print("| --- | --- | --- | --- | --- | --- |")
        walls, texts = [], []
        for nodes in (1, 2):
            out = work / f"n{nodes}"
            with cluster(nodes) as address:
                r = run(work, [str(recording), "-m", args.model, "-q", "-o", str(out), "--ray", address])
            (record,) = r.report["inputs"]
            on = len(set(record["node"].split(", ")))
            idle = 1 - record["seconds"] / (nodes * r.wall)
            cells = (nodes, nodes, f"{r.wall:.1f}", f"{seconds / r.wall:.1f}", f"{on} node(s)", f"{idle:.0%}")
            print("| " + " | ".join(map(str, cells)) + " |", flush=True)
            walls.append(r.wall)
            texts.append((out / "long.txt").read_text(encoding="utf-8"))
        same = "yes" if texts[0] == texts[1] else "NO"
        print(f"two nodes / one: {walls[0] / walls[1]:.2f}x; same text: {same}")
        print(f"load after {os.getloadavg()[0]:.2f}")


def _recording(path: Path, seconds: float) -> float:
    """The eval's English audio, joined until ``seconds`` long, written to ``path``; its length."""
    import soundfile as sf

    rows = [json.loads(line) for line in (EVAL_DIR / "manifest.jsonl").read_text().splitlines()]
    english = sorted(EVAL_DIR / row["audio"] for row in rows if row["language"] == "en")
    pieces, total = [], 0
    while total < seconds * 16000:
        for clip in english:
            audio, rate = sf.read(clip, dtype="float32")
            assert rate == 16000 and audio.ndim == 1, clip
            pieces.append(audio)
            total += len(audio)
    joined = np.concatenate(pieces)[: int(seconds * 16000)]
    sf.write(path, joined, 16000)
    return len(joined) / 16000


if __name__ == "__main__":
    main()
