"""cluster/transfer.py without a cluster: which file a worker may read by path, and what it cleans up."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import SAMPLES
from whisper_cli.cluster import transfer
from whisper_cli.cluster.transfer import Source, readable, stamp


def test_a_path_is_read_only_where_it_is_the_drivers_file(tmp_path: Path):
    ours = tmp_path / "hello.wav"
    ours.write_bytes((SAMPLES / "hello.wav").read_bytes())
    expected = stamp(str(ours))
    assert expected is not None and expected.size == ours.stat().st_size
    with readable(Source(str(ours), stamp=expected)) as path:
        assert path == str(ours)
    # The same size and time, other bytes at the start: another file.
    data = bytearray(ours.read_bytes())
    data[100] ^= 1
    ours.write_bytes(bytes(data))
    os.utime(ours, ns=(expected.mtime_ns, expected.mtime_ns))
    with readable(Source(str(ours), stamp=expected)) as path:
        assert path is None
    with readable(Source(str(tmp_path / "elsewhere.wav"), stamp=expected)) as path:
        assert path is None  # not on this node at all
    with readable(str(tmp_path / "elsewhere.wav")) as path:
        assert path == str(
            tmp_path / "elsewhere.wav"
        )  # a plain path: read as it is (the decoder says why not)


def test_copies_left_by_dead_workers_are_swept(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    dead, alive = int(ended.stdout), os.getpid()
    for pid in (dead, alive):
        folder = tmp_path / f"{transfer.PREFIX}{pid}-abc"
        folder.mkdir()
        (folder / "hello.wav").write_bytes(b"x")
    (tmp_path / "unrelated").mkdir()
    transfer.sweep()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{transfer.PREFIX}{alive}-abc", "unrelated"]
    )
