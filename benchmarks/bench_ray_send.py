"""--ray on a cluster that cannot see the inputs (they are sent) against one that can (read by path).

    flock /tmp/whisper-bench.lock python benchmarks/bench_ray_send.py [--copies 4] [--rounds 2] [--big-mb 96]

Two `ray start` clusters of the same shape (a head without CPUs, two 1-CPU nodes), each in
a network namespace of its own (unshare -n, loopback only, Ray on 127.0.0.1); the second
also in a mount namespace where an empty tmpfs covers the work folder, so its workers
cannot open the inputs and whisper-cli sends them through Ray's object store (cluster/
transfer.py). The driver runs in the cluster's network namespace, outside the mount one.
1. A folder: the short English eval clips copied --copies times, through each cluster in
   turn, --rounds times: wall time, files per hour, MiB sent, the driver's peak memory; the
   ratio sent / shared of the median walls (the aim: at most 1.1).
2. One large file (--big-mb MB of 48 kHz stereo float WAV, the clips one after another):
   the driver's peak memory, read by path against sent in 8 MiB pieces: its own memory
   (RssAnon) must grow by a piece or two, not by the file; the object store's pages it
   wrote (RssShmem) hold the file once, until its call returns.
Token authentication is off for these clusters (RAY_AUTH_MODE=disabled). Needs root.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL_DIR = ROOT.parent / "shared" / "eval"
START = r"""
set -e
ip link set lo up
if [ -n "$3" ]; then mount -t tmpfs bench "$3"; fi
ray start --head --port=6391 --node-ip-address=127.0.0.1 --num-cpus=0 --include-dashboard=false \
  --temp-dir="$2" --object-store-memory=300000000 --disable-usage-stats >"$2/head.log" 2>&1
for n in 1 2; do
  ray start --address=127.0.0.1:6391 --node-ip-address=127.0.0.1 --num-cpus=1 \
    --object-store-memory=300000000 --dashboard-agent-listen-port=0 --metrics-export-port=0 \
    --disable-usage-stats >"$2/node$n.log" 2>&1
done
echo ready
exec cat
"""
SENT = re.compile(r"([0-9.]+) MiB of inputs sent")
ENV = {**os.environ, "RAY_AUTH_MODE": "disabled", "NO_COLOR": "1"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--copies", type=int, default=4, help="times each clip is copied into the folder")
    parser.add_argument("--rounds", type=int, default=2, help="runs through each cluster, in turn")
    parser.add_argument("--big-mb", type=int, default=96, help="the large file's size; 0: leave part 2 out")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root (network and mount namespaces)")
    rows = [json.loads(line) for line in (EVAL_DIR / "manifest.jsonl").read_text().splitlines()]
    short = [row for row in rows if row["language"] == "en" and row["subset"] == "short"]
    clips = sorted(EVAL_DIR / row["audio"] for row in short)
    audio = sum(row["duration_s"] for row in short) * args.copies
    with tempfile.TemporaryDirectory(prefix="bench-send-") as tmp:
        work = Path(tmp)
        folder = work / "clips"
        for k in range(args.copies):
            (folder / str(k)).mkdir(parents=True)
            for clip in clips:
                shutil.copy(clip, folder / str(k) / clip.name)
        if args.big_mb:
            _big(work / "big" / "big.wav", clips, args.big_mb)
        print(
            f"{len(clips) * args.copies} files ({len(clips)} eval clips x {args.copies}), "
            f"{audio:.0f} s of audio; model {args.model}; {os.cpu_count()} cores; "
            f"load before {os.getloadavg()[0]:.2f}",
            flush=True,
        )
        common = ["-m", args.model, "-l", "en", "-v", "-r"]
        with cluster(work, hide=False) as shared, cluster(work, hide=True) as blind:
            print("\n1. A folder, through each cluster in turn (2 x 1-CPU nodes each)")
            print("| cluster | round | wall s | files/h | MiB sent | driver peak MiB: own, store pages |")
            print("| --- | --- | --- | --- | --- | --- |")
            walls: dict[str, list[float]] = {"shared": [], "sent": []}
            for k in range(args.rounds):
                for name, holder in (("shared", shared), ("sent", blind)):
                    out = work / f"out-{name}-{k}"
                    wall, files, sent, anon, shmem = run(holder, work, [str(folder), *common, "-o", str(out)])
                    walls[name].append(wall)
                    rate = files * 3600 / wall
                    cells = f"{wall:.1f} | {rate:.0f} | {sent:.1f} | {anon:.0f}, {shmem:.0f}"
                    print(f"| {name} | {k + 1} | {cells} |", flush=True)
            ratio = statistics.median(walls["sent"]) / statistics.median(walls["shared"])
            print(f"median wall, sent / shared: {ratio:.2f} (aim: at most 1.1)", flush=True)
            if args.big_mb:
                print(f"\n2. One {args.big_mb} MB file (48 kHz stereo float WAV)")
                print("| cluster | wall s | MiB sent | driver peak MiB: own, store pages |")
                print("| --- | --- | --- | --- |")
                for name, holder in (("shared", shared), ("sent", blind)):
                    big = [str(work / "big"), *common, "-o", str(work / f"big-{name}")]
                    wall, _, sent, anon, shmem = run(holder, work, big)
                    print(f"| {name} | {wall:.1f} | {sent:.1f} | {anon:.0f}, {shmem:.0f} |", flush=True)
    print(f"\nload after {os.getloadavg()[0]:.2f}")


def _big(target: Path, clips: list[Path], megabytes: int) -> None:
    import numpy as np
    import soundfile as sf

    from whisper_cli.audio.load import load_audio

    speech = np.concatenate([load_audio(str(clip)) for clip in clips])
    frames = megabytes * 10**6 // 8  # two float channels
    wide = np.interp(np.arange(frames) / 3 % len(speech), np.arange(len(speech)), speech).astype("float32")
    target.parent.mkdir(parents=True)
    sf.write(target, np.stack([wide, wide * 0.5], axis=1), 48000, subtype="FLOAT")


@contextlib.contextmanager
def cluster(work: Path, hide: bool) -> Iterator[int]:
    """A `ray start` cluster in a network namespace (and, ``hide``: a mount namespace where
    ``work`` is an empty tmpfs); yields the PID that holds its namespaces."""
    ray_dir = tempfile.mkdtemp(prefix="bench-send-ray-", dir="/tmp")
    script = START.replace("ray start", str(Path(sys.executable).parent / "ray") + " start")
    unshare = ["unshare", "-n", "-m", "--propagation", "private"] if hide else ["unshare", "-n"]
    holder = subprocess.Popen(
        [*unshare, "sh", "-c", script, "sh", "", ray_dir, str(work) if hide else ""],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=ENV,
    )  # fmt: skip
    ns = None
    try:
        assert holder.stdout is not None
        ready, _, _ = select.select([holder.stdout], [], [], 240)
        if not (ready and holder.stdout.readline().strip() == "ready"):
            logs = "".join(p.read_text(errors="replace")[-1500:] for p in Path(ray_dir).glob("*.log"))
            sys.exit(f"the cluster did not start: {logs}")
        ns = _namespace(holder.pid)  # read once it said ready: it has unshared by then
        if ns is None:
            sys.exit("the cluster's holder has no network namespace of its own")
        yield holder.pid
    finally:
        ns = ns or _namespace(holder.pid)
        for entry in filter(str.isdigit, os.listdir("/proc")) if ns else []:  # its namespace's processes
            with contextlib.suppress(OSError):
                if os.readlink(f"/proc/{entry}/ns/net") == ns:
                    os.kill(int(entry), signal.SIGKILL)
        holder.kill()
        holder.wait(timeout=30)
        shutil.rmtree(ray_dir, ignore_errors=True)


def _namespace(pid: int) -> str | None:
    """``pid``'s network namespace; None when it is gone or shares this process's own (a holder
    that has not unshared yet: emptying that namespace would end every process of the machine)."""
    try:
        ns = os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None
    return None if ns == os.readlink("/proc/self/ns/net") else ns


def run(holder: int, work: Path, args: list[str]) -> tuple[float, int, float, float, float]:
    """One run through the cluster of ``holder``: wall s, files done, MiB sent, and the driver's
    peak memory in MiB: its own (anonymous), and the object store's pages it wrote (shmem)."""
    report = work / "run.json"
    report.unlink(missing_ok=True)
    command = ["nsenter", "-t", str(holder), "-n", "--", sys.executable, "-m", "whisper_cli", *args]
    started = time.monotonic()
    process = subprocess.Popen([*command, "--ray", "127.0.0.1:6391", "--report", str(report)],
                               stderr=subprocess.PIPE, text=True, env=ENV)  # fmt: skip
    peak = _Peak(process.pid)
    peak.start()
    _, stderr = process.communicate(timeout=1800)
    wall = time.monotonic() - started
    peak.stop = True
    peak.join()
    if process.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({process.returncode}):\n{stderr[-3000:]}")
    files = sum(1 for r in json.loads(report.read_text())["inputs"] if r["status"] == "done")
    sent = SENT.search(stderr)
    return wall, files, float(sent.group(1)) if sent else 0.0, peak.anon, peak.shmem


class _Peak(threading.Thread):
    """The driver's peak memory of its own (RssAnon) and of shared memory it mapped (RssShmem:
    Ray's object store pages it wrote), read every 0.1 s until it ends."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.stop, self.anon, self.shmem = pid, False, 0.0, 0.0

    def run(self) -> None:
        while not self.stop:
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = dict(
                    line.split(":", 1) for line in Path(f"/proc/{self.pid}/status").read_text().splitlines()
                )
                if "RssAnon" in fields:
                    self.anon = max(self.anon, int(fields["RssAnon"].split()[0]) / 1024)
                    self.shmem = max(self.shmem, int(fields["RssShmem"].split()[0]) / 1024)
            time.sleep(0.1)


if __name__ == "__main__":
    main()
