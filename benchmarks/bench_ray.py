"""--ray against one machine: the overhead of `--ray local`, and scaling over one and two 1-CPU nodes.

    flock /tmp/whisper-bench.lock python benchmarks/bench_ray.py [--copies 3] [--model tiny.en]

Clips: the short English items of ../shared/eval, copied --copies times into a temp
folder (a run long enough for start-up to matter less; a link would be the same input).
1. Overhead, paired in one run: the plain local run (its defaults: one decoder per core)
   and `--ray local` (one actor per CPU) on the same folder, in turn; wall time, their
   ratio, and peak memory (PSS) of everything the command started: driver, Ray's
   services and its actors. Also the fixed cost: both on one 9 s sample.
2. Scaling: a ray.cluster_utils.Cluster (a head without CPUs, then one and two 1-CPU
   nodes) and `--ray ADDRESS` on the same folder: files per hour, and the actors' idle
   share: 1 - (seconds spent on files, from --report) / (actors x wall).

Ray binds to the machine's address, and here only loopback may carry traffic: as root,
the script re-runs itself in a network namespace of its own (unshare -n, lo up).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT.parent / "shared" / "eval"
CLUSTER = r"""
import json, sys
from ray.cluster_utils import Cluster
small = {"object_store_memory": 200 * 2**20}
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False, **small})
for _ in range(int(sys.argv[1])):
    cluster.add_node(num_cpus=1, **small)
cluster.wait_for_nodes()
print(cluster.address, flush=True)
sys.stdin.read()
cluster.shutdown()
"""


@dataclass(frozen=True)
class Run:
    """One whisper-cli run: wall seconds, files, audio seconds, peak PSS MiB by kind, its report."""

    wall: float
    peak: dict[str, float]
    report: dict
    cpu: float  # CPU seconds of the processes it started and waited for (joining a cluster: the driver)

    @property
    def files(self) -> int:
        return sum(1 for r in self.report["inputs"] if r["status"] == "done")

    @property
    def busy(self) -> float:
        return sum(r["seconds"] for r in self.report["inputs"] if r["status"] == "done")

    @property
    def actors(self) -> int:
        return len({r["node"] for r in self.report["inputs"]} - {None})


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--copies", type=int, default=4, help="times each clip is linked into the folder")
    parser.add_argument("--in-netns", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.in_netns and os.geteuid() == 0 and shutil.which("unshare"):
        script = 'ip link set lo up && exec "$0" "$@" --in-netns'
        os.execvp("unshare", ["unshare", "-n", "sh", "-c", script, sys.executable, *sys.argv])
    rows = [json.loads(line) for line in (EVAL_DIR / "manifest.jsonl").read_text().splitlines()]
    short = [row for row in rows if row["language"] == "en" and row["subset"] == "short"]
    clips = sorted(EVAL_DIR / row["audio"] for row in short)
    audio = sum(row["duration_s"] for row in short)
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        work = Path(tmp)
        folder = work / "clips"
        for k in range(args.copies):
            (folder / str(k)).mkdir(parents=True)
            for clip in clips:
                shutil.copy(clip, folder / str(k) / clip.name)  # copies: links are one input
        print(
            f"{len(clips) * args.copies} files ({len(clips)} eval clips x {args.copies}), "
            f"{audio * args.copies:.0f} s of audio; model {args.model}; {os.cpu_count()} cores; "
            f"load before {os.getloadavg()[0]:.2f}"
        )
        common = ["-m", args.model, "-l", "en", "-q", "-r"]
        overhead(work, folder, common)
        scaling(work, folder, common)


def overhead(work: Path, folder: Path, common: list[str]) -> None:
    print("\n1. Overhead on one machine (paired, in turn)")
    hello = str(ROOT / "samples" / "hello.wav")
    fixed_plain = run(work, [hello, *common, "-o", str(work / "f0")])
    fixed_ray = run(work, [hello, *common, "-o", str(work / "f1"), "--ray", "local"])
    plain = run(work, [str(folder), *common, "-o", str(work / "o0")])
    ray = run(work, [str(folder), *common, "-o", str(work / "o1"), "--ray", "local"])
    print("| run | wall s | files/h | peak PSS MiB: all (driver + Ray services + actors) |")
    print("| --- | --- | --- | --- |")
    for name, r in (("one 9 s file, local", fixed_plain), ("one 9 s file, --ray local", fixed_ray),
                    ("folder, local", plain), ("folder, --ray local", ray)):  # fmt: skip
        p = r.peak
        print(f"| {name} | {r.wall:.1f} | {r.files * 3600 / r.wall:.0f} | {p['all']:.0f} "
              f"({p['driver']:.0f} + {p['services']:.0f} + {p['actors']:.0f}) |")  # fmt: skip
    steady = (ray.wall - fixed_ray.wall) / (plain.wall - fixed_plain.wall)
    print(f"wall ratio --ray local / local: folder {ray.wall / plain.wall:.2f}, "
          f"less each one's one-file run {steady:.2f}; "
          f"fixed cost of --ray local {fixed_ray.wall - fixed_plain.wall:.1f} s a run")  # fmt: skip


def scaling(work: Path, folder: Path, common: list[str]) -> None:
    print("\n2. Scaling over 1-CPU nodes (ray.cluster_utils.Cluster, a head without CPUs)")
    print("| nodes | actors | wall s | files/h | actors' idle share | driver CPU s (per file, ms) |")
    print("| --- | --- | --- | --- | --- | --- |")
    rows = []
    for nodes in (1, 2):
        with cluster(nodes) as address:
            r = run(work, [str(folder), *common, "-o", str(work / f"n{nodes}"), "--ray", address])
        rate = r.files * 3600 / r.wall
        rows.append(rate)
        idle = 1 - r.busy / (nodes * r.wall)
        per_file = 1000 * r.cpu / max(r.files, 1)
        cells = (
            nodes,
            r.actors,
            f"{r.wall:.1f}",
            f"{rate:.0f}",
            f"{idle:.0%}",
            f"{r.cpu:.1f} ({per_file:.0f})",
        )
        print("| " + " | ".join(map(str, cells)) + " |")
    print(f"two nodes / one: {rows[1] / rows[0]:.2f}x the files per hour")


class cluster:  # a context manager, used like a function
    """A test cluster in a process group of its own, stopped at the end."""

    def __init__(self, nodes: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", CLUSTER, str(nodes)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip

    def __enter__(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline().strip()

    def __exit__(self, *exc: object) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, 9)
            self.process.wait()


def run(work: Path, args: list[str]) -> Run:
    report = work / "run.json"
    report.unlink(missing_ok=True)
    command = [sys.executable, "-m", "whisper_cli", *args, "--report", str(report)]
    started, before = time.monotonic(), resource.getrusage(resource.RUSAGE_CHILDREN)
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    peak = _Peak(process.pid)
    peak.start()
    _, stderr = process.communicate(timeout=1800)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    peak.stop = True
    peak.join()
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr}")
    return Run(wall, peak.peak, json.loads(report.read_text()), cpu)


class _Peak(threading.Thread):
    """Peak PSS of a process and everything it started, sampled every 0.2 s, by kind."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.stop = False
        self.peak = {"all": 0.0, "driver": 0.0, "services": 0.0, "actors": 0.0}

    def run(self) -> None:
        while not self.stop:
            now = {"driver": 0.0, "services": 0.0, "actors": 0.0}
            for pid in _tree(self.pid):
                kind = (
                    "driver"
                    if pid == self.pid
                    else "actors"
                    if "ray::Worker" in _cmdline(pid)
                    else "services"
                )
                now[kind] += _pss(pid)
            now["all"] = sum(now.values())
            if now["all"] > self.peak["all"]:
                self.peak = now
            time.sleep(0.2)


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def _pss(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError):
        pass
    return 0.0


if __name__ == "__main__":
    main()
