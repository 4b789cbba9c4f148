"""--ray keeps stderr ours: a worker that dies mid-run makes Ray report it on the driver (a coloured,
multi-line "(raylet) A worker died ..."); none of that reaches stdout, nor a stderr that is a file.

A cluster of its own (test_ray.py's fixture, here for this module): the node-killing test
there runs last on its cluster, and this one kills only an actor's process.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.cluster.test_ray import RUN_TIMEOUT, RayCluster, _env, _outputs, _wait_for, cluster  # noqa: F401
from tests.conftest import SAMPLES


def _actor_pids(of: RayCluster) -> list[int]:
    """The processes of cluster ``of``'s Ray actors now alive (their title: ``ray::Worker...``), found
    in its network namespace: other clusters on this machine are none of this test's business."""
    found = subprocess.run(["pgrep", "-f", "^ray::Worker"], capture_output=True, text=True, check=False)
    ns = os.readlink(f"/proc/{of.pid}/ns/net")
    return [int(pid) for pid in found.stdout.split() if _namespace(int(pid)) == ns]


def _namespace(pid: int) -> str | None:
    try:
        return os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None


@pytest.mark.parametrize("quiet", [True, False], ids=["quiet", "default"])
def test_a_dead_worker_leaves_stdout_empty_and_stderr_ours(
    cluster: RayCluster,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    quiet: bool,
):
    tree = tmp_path / "in"
    tree.mkdir()
    for k in range(4):
        shutil.copy(SAMPLES / "lecture.flac", tree / f"{k}-lecture.flac")
    out_file, err_file = tmp_path / "stdout", tmp_path / "stderr"
    args = ["in", "-o", "out", "--ray", cluster.address, *(["-q"] if quiet else [])]
    env = {k: v for k, v in _env().items() if k != "NO_COLOR"}  # colours are what must not leak
    with out_file.open("wb") as out, err_file.open("wb") as err:
        run = subprocess.Popen(cluster.command(*args), cwd=tmp_path, stdout=out, stderr=err, env=env)
        try:
            assert _wait_for(
                lambda: len(_actor_pids(cluster)) == 2 and (tmp_path / "out").is_dir(), RUN_TIMEOUT
            )
            os.kill(_actor_pids(cluster)[0], signal.SIGKILL)
            run.wait(timeout=RUN_TIMEOUT)
        finally:
            run.kill()
    stderr = err_file.read_text(errors="replace")
    assert run.returncode == 0, stderr
    assert len(_outputs(tmp_path / "out")) == 4  # the dead worker's file went to the other
    assert out_file.read_bytes() == b""
    assert "\x1b" not in stderr and "(raylet)" not in stderr and "A worker died" not in stderr
    if quiet:
        assert stderr == ""
    else:  # our lines only: the warning that the worker was lost, and the summary
        lines = stderr.splitlines()
        warnings = [line for line in lines if line.startswith("whisper-cli: warning: Ray worker on ")]
        assert len(warnings) == 1 and " lost (" in warnings[0], lines
        assert all(line.startswith(("whisper-cli: ", "4 done, ")) for line in lines), lines


def test_one_file_starts_one_actor(cluster: RayCluster, tmp_path: Path):  # noqa: F811
    """Two CPUs free, one file: one actor, not one per CPU (each loads a model, on the CPUs
    the one at work needs; bench_ray_startup.py measures what that cost)."""
    args = [str(SAMPLES / "hello.wav"), "-o", "out", "--ray", cluster.address, "-v"]
    done = subprocess.run(
        cluster.command(*args), cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=_env()
    )
    assert done.returncode == 0, done.stderr
    assert "Ray: 1 worker(s) for 1 input(s)" in done.stderr
    assert done.stderr.count("Ray worker ready on") == 1
