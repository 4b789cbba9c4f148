"""glibc malloc settings for a transcription run: reuse big buffers instead of mapping
fresh pages for each one.

CTranslate2 allocates its large work buffers per call: the encoder's attention scores
alone are heads × 1500 × 1500 floats per 30 s window (54 MB for tiny, 72 MB for base).
By default glibc serves such blocks with mmap and returns them on free, so every window
pays for page faults on new, zeroed memory, and a decoder thread's 64 MB arena cannot
hold base's block at all. On ../shared/eval's long-form file this was 2.0 s of kernel
time in an 11 s run with tiny.en (3.5-4.6 s with base); with one arena and the
thresholds below it was 0.3-0.5 s and the wall time 10-15 % shorter. Freed blocks stay
in the process for the next window: peak RSS is about the same for sequential decoding
and lower for multi-hour files, but batched decoding peaks higher (1.2 GiB instead of
0.9 on that file with --batch-size 8).
"""

from __future__ import annotations

import ctypes
import os
import sys

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
LARGE = 1 << 30  # blocks below this come from the heap; free space below this is kept

_SETTINGS = (  # (mallopt parameter, value, the environment variable that overrides it)
    (M_ARENA_MAX, 1, "MALLOC_ARENA_MAX"),
    (M_MMAP_THRESHOLD, LARGE, "MALLOC_MMAP_THRESHOLD_"),
    (M_TRIM_THRESHOLD, LARGE, "MALLOC_TRIM_THRESHOLD_"),
)


def keep_large_buffers() -> bool:
    """Apply the settings (glibc only; any the user set in the environment are left alone).

    Call before the threads that will allocate are started. Returns whether glibc took them.
    """
    if not sys.platform.startswith("linux") or not _glibc():
        return False
    if "malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    taken = [libc.mallopt(p, value) == 1 for p, value, env in _SETTINGS if env not in os.environ]
    return all(taken)


def _glibc() -> bool:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")  # type: ignore[union-attr]
    except (ValueError, OSError, AttributeError):
        return False
