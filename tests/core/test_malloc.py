"""glibc malloc settings: big blocks freed by a worker thread are reused, not mapped afresh."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT

# Allocates and frees a 72 MB block (base's encoder attention scores) six times in a thread,
# and prints the page faults of each round after the first.
SCRIPT = r"""
import resource, sys, threading
import numpy as np
from whisper_cli.core.malloc import keep_large_buffers
applied = keep_large_buffers() if sys.argv[1] == "tuned" else None
faults = []
def work():
    for _ in range(6):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        block = np.ones(72 << 20, np.uint8)
        del block
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
thread = threading.Thread(target=work)
thread.start()
thread.join()
print(applied, *faults[1:])
"""

glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"),
    reason="glibc malloc only",
)


def _faults(mode: str, **env: str) -> tuple[str, list[int]]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    environ.pop("GLIBC_TUNABLES", None)
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode],
        capture_output=True,
        text=True,
        check=True,
        env={**environ, "PYTHONPATH": str(ROOT), **env},
    ).stdout.split()
    return out[0], [int(n) for n in out[1:]]


@glibc
def test_large_blocks_are_reused_without_new_page_faults():
    applied, faults = _faults("tuned")
    assert applied == "True"
    assert sum(faults) < 20, faults  # each round touches 72 MB: thousands of faults if mapped afresh
    _, untuned = _faults("plain")
    assert sum(untuned) > 5 * max(1, sum(faults)), untuned  # the default maps each block afresh


@glibc
def test_the_users_malloc_environment_is_left_alone():
    applied, faults = _faults("tuned", GLIBC_TUNABLES="glibc.malloc.mmap_threshold=131072")
    assert applied == "False"
    assert sum(faults) > 20, faults
