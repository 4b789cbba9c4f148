"""Start-up of a --ray run on one short file, end to end and broken down into its steps.

    flock /tmp/whisper-bench.lock python benchmarks/bench_ray_startup.py [--repeats 3]

1. End to end, in turn: whisper-cli on one 9 s sample without --ray, with `--ray local`
   (a Ray instance started for the run) and with `--ray 127.0.0.1:6391` (a head started
   here once with `ray start --head --num-cpus=1`, as the README's recipe does); wall
   seconds, median of --repeats.
2. Broken down: a driver script does what a --ray run does, one step at a time, and
   takes a timestamp after each (the actor's own steps timed in the actor, on the same
   clock): Python and whisper-cli's driver modules with Ray; connecting (our connect(),
   so starting the instance for `local`); the actor's process starting (submitted ->
   its __init__ running); the worker module imported there; the model loaded; the
   first file transcribed; ray.shutdown. Median of --repeats per step.

Ray binds to the machine's address and only loopback may carry traffic: as root, the
script re-runs itself in network and PID namespaces of its own (unshare -n -p), where
the head it starts, and everything else, ends with it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "hello.wav"
HEAD = "127.0.0.1:6391"

PROBE = r"""
import sys, time, json
began = float(sys.argv[3])
marks = {}
import ray
from whisper_cli.cluster import executor
from whisper_cli.core.transcript import DecodeOptions
from whisper_cli.decode.whisper import ModelSpec
marks["driver modules and Ray imported"] = time.time()
executor.connect(ray, sys.argv[1], cpus=1 if sys.argv[1] == "local" else None)  # as for one file
marks["connected (ray.init)"] = time.time()


@ray.remote(num_cpus=1, max_restarts=0)
class Probe:
    def __init__(self):
        self.born = time.time()

    def steps(self, spec, decode, source):
        out = {"actor process started": self.born}
        from whisper_cli.cluster.worker import Worker
        out["worker module imported in the actor"] = time.time()
        worker = Worker(spec, decode)
        worker.load()
        out["model loaded"] = time.time()
        worker.run([source])
        out["first file transcribed"] = time.time()
        return out


spec = ModelSpec(sys.argv[2], device="cpu", cpu_threads=1, workers=1)
marks.update(ray.get(Probe.remote().steps.remote(spec, DecodeOptions(), sys.argv[4])))
ray.shutdown()
marks["ray.shutdown"] = time.time()
last, steps = began, {}
for name, at in marks.items():
    steps[name], last = at - last, at
print(json.dumps(steps))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--in-ns", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.in_ns:
        if os.geteuid() != 0 or not shutil.which("unshare"):
            sys.exit("needs root and unshare: Ray may use loopback only, in a namespace of its own")
        script = 'ip link set lo up && exec "$0" "$@" --in-ns'
        command = [sys.executable, *sys.argv]
        os.execvp(
            "unshare",
            ["unshare", "-n", "-p", "--kill-child", "--mount-proc", "sh", "-c", script, *command],
        )
    print(
        f"one file ({SAMPLE.name}, 8.9 s); model {args.model}; {os.cpu_count()} cores; "
        f"load before {os.getloadavg()[0]:.2f}"
    )
    _ray(
        "start",
        "--head",
        f"--port={HEAD.rsplit(':', 1)[1]}",
        "--node-ip-address=127.0.0.1",
        "--num-cpus=1",
        "--include-dashboard=false",
    )
    try:
        walls: dict[str, list[float]] = {}
        steps: dict[str, list[dict[str, float]]] = {"local": [], HEAD: []}
        for _ in range(args.repeats):
            for label, extra in (
                ("no --ray", []),
                ("--ray local", ["--ray", "local"]),
                (f"--ray {HEAD}", ["--ray", HEAD]),
            ):
                walls.setdefault(label, []).append(_cli(args.model, extra))
            for address in steps:
                steps[address].append(_probe(address, args.model))
    finally:
        _ray("stop", "--force")  # this PID namespace's Ray only
    print("\n1. End to end (median wall s)")
    print("| run | wall s | more than no --ray |\n| --- | --- | --- |")
    base = statistics.median(walls["no --ray"])
    for label, values in walls.items():
        print(f"| {label} | {statistics.median(values):.2f} | {statistics.median(values) - base:+.2f} |")
    print("\n2. Broken down (median s per step)")
    print(f"| step | --ray local | --ray {HEAD} |\n| --- | --- | --- |")
    names = list(steps["local"][0])
    for name in names:
        cells = [statistics.median(run[name] for run in steps[address]) for address in steps]
        print(f"| {name} | " + " | ".join(f"{c:.2f}" for c in cells) + " |")
    totals = [statistics.median(sum(run.values()) for run in steps[address]) for address in steps]
    print("| total | " + " | ".join(f"{t:.2f}" for t in totals) + " |")
    print(f"\nload after {os.getloadavg()[0]:.2f}")


def _ray(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "ray.scripts.scripts", *args], check=True, capture_output=True)


def _cli(model: str, extra: list[str]) -> float:
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "whisper_cli", str(SAMPLE), "-m", model, *extra],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"whisper-cli {' '.join(extra)} failed: {done.stderr[-500:]}")
    return time.monotonic() - began


def _probe(address: str, model: str) -> dict[str, float]:
    import json

    began = time.time()
    done = subprocess.run(
        [sys.executable, "-c", PROBE, address, model, str(began), str(SAMPLE)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"the probe on {address} failed: {done.stderr[-1500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
