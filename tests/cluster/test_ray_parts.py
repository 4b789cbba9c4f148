"""--ray on a long recording: its parts spread over the actors (cluster/parts.py), a real cluster and tiny.en.

The recording (about 3 minutes, four parts) is the samples' real speech joined; the
cluster is test_ray.py's (a head, two 1-CPU nodes, in a network namespace of its own).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from tests.cluster import test_ray
from tests.cluster.test_ray import RayCluster, _env, _outputs, _partials
from tests.conftest import SAMPLES

cluster = test_ray.cluster  # its fixture: a cluster of this module's own
RUN_TIMEOUT = 400  # one run on 3 minutes of audio, on one 1-CPU actor of a machine others share

ORDER = ("lecture.flac", "hello.wav", "lecture.flac", "weather.mp3", "lecture.flac")  # 171 s: 4 parts


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 3 minutes of the samples' speech in one FLAC file, and its plain run's txt and srt."""
    import soundfile as sf

    from whisper_cli.audio.load import load_audio

    folder = tmp_path_factory.mktemp("long")
    audio = np.concatenate([load_audio(SAMPLES / name) for name in ORDER])
    sf.write(folder / "long.flac", audio, 16000)
    return folder / "long.flac"


def _run(cluster: RayCluster, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cluster.command(*args), cwd=cwd, capture_output=True, text=True, timeout=RUN_TIMEOUT, env=_env()
    )


def _plain(cluster: RayCluster, recording: Path, tmp_path: Path) -> dict[str, str]:
    res = _run(cluster, str(recording), "-f", "txt,srt", "-o", "plain", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    return _outputs(tmp_path / "plain")


def _nodes(report: Path) -> list[str]:
    (record,) = json.loads(report.read_text(encoding="utf-8"))["inputs"]
    assert record["status"] == "done", record
    return record["node"].split(", ")


def test_a_long_recording_is_spread_over_the_actors(cluster: RayCluster, recording: Path, tmp_path: Path):
    """Its parts go to both nodes' actors; the text is the plain run's (the cuts come from the
    audio alone, whatever the count of decoders: test_parallel.py)."""
    plain = _plain(cluster, recording, tmp_path)
    assert set(plain) == {"long.txt", "long.srt"} and plain["long.txt"].count("printing press") >= 3
    args = ("-f", "txt,srt", "-o", "ray", "--report", "ray.json", "--workers", "2")
    res = _run(cluster, str(recording), *args, "--ray", cluster.address, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert _outputs(tmp_path / "ray") == plain
    assert len(set(_nodes(tmp_path / "ray.json"))) == 2
    assert not _partials(tmp_path)


def test_a_node_killed_while_its_parts_are_in_flight_loses_nothing(
    cluster: RayCluster, recording: Path, tmp_path: Path
):
    """Runs last: it kills one of the two nodes once both actors hold parts. Its parts go to
    the other actor; the recording is written once, with the plain run's text."""
    plain = _plain(cluster, recording, tmp_path)
    args = ("-f", "txt,srt", "-o", "out", "--report", "run.json", "-v", "--ray", cluster.address)
    run = subprocess.Popen(
        cluster.command(str(recording), *args), cwd=tmp_path, stderr=subprocess.PIPE, text=True, env=_env()
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert run.stderr is not None
        for line in run.stderr:
            lines.append(line)
            if sum("Ray worker ready" in seen for seen in lines) == 2:
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(RUN_TIMEOUT), "".join(lines)
        time.sleep(1.0)  # each actor has its first two parts
        os.kill(cluster.raylets[0], signal.SIGKILL)  # the node, and with it its worker
        run.wait(timeout=RUN_TIMEOUT)
        reader.join(timeout=10)
    finally:
        run.kill()
    stderr = "".join(lines)
    assert run.returncode == 0, stderr
    assert "lost" in stderr and "part(s) of long recordings go to other workers" in stderr, stderr
    assert _outputs(tmp_path / "out") == plain
    assert not _partials(tmp_path)
    written = [
        json.loads(line)["output"]
        for line in (tmp_path / "out" / ".whisper-cli-ledger.jsonl").read_text().splitlines()
        if line.strip()
    ]
    assert sorted(written) == ["long.srt", "long.txt"]  # each written once
    assert _nodes(tmp_path / "run.json")
