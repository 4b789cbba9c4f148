"""Helpers of bench_live: the fed WAV stream, the timed live run, duplicate counting and the CPU load.

Duplicated sentences: both transcripts are normalised (lower case, punctuation dropped) and cut
into word 6-grams. A 6-gram is duplicated when the live transcript holds it more often than
``max(offline count, 1)`` (a phrase the offline run also repeats is not a duplicate; one
misheard phrase is not either). The occurrences past that allowance, in order, mark the live
positions that are copies; a maximal run of consecutive marked positions is one duplicated
passage (a repeated 10-word sentence: 5 duplicated 6-grams, 1 passage). Longer n-grams need no
count of their own: every duplicated n-gram of 6 words or more holds duplicated 6-grams unless
the offline run repeats them too.
"""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

RATE = 16_000
PIECE = 320  # samples per write: 20 ms
NGRAM = 6


def normalise(text: str) -> str:
    """Lower case, hyphens to spaces, apostrophes and other punctuation dropped."""
    text = text.lower().replace("-", " ").replace("'", "").replace("’", "")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return 100 * float(jiwer.wer(normalise(reference) or "<empty>", normalise(hypothesis) or "<empty>"))


def duplicates(live: str, offline: str, n: int = NGRAM) -> tuple[int, int]:
    """(distinct duplicated n-grams, duplicated passages) of ``live`` against ``offline``."""
    grams, passages = _duplicated(live, offline, n)
    return len(grams), len(passages)


def duplicated_passages(live: str, offline: str, n: int = NGRAM) -> list[str]:
    """The copies themselves: each duplicated passage of ``live``, normalised."""
    return _duplicated(live, offline, n)[1]


def _duplicated(live: str, offline: str, n: int) -> tuple[set[tuple[str, ...]], list[str]]:
    words = normalise(live).split()
    off = normalise(offline).split()
    allowed = Counter(tuple(off[i : i + n]) for i in range(len(off) - n + 1))
    seen: Counter[tuple[str, ...]] = Counter()
    extra: set[tuple[str, ...]] = set()
    runs: list[list[int]] = []  # [first, last] start positions of consecutive copied n-grams
    for i in range(len(words) - n + 1):
        gram = tuple(words[i : i + n])
        seen[gram] += 1
        if seen[gram] > max(allowed[gram], 1):
            extra.add(gram)
            if runs and runs[-1][1] == i - 1:
                runs[-1][1] = i
            else:
                runs.append([i, i])
    return extra, [" ".join(words[first : last + n]) for first, last in runs]


def wav_header() -> bytes:
    """A 16 kHz mono 16-bit WAV header whose sizes say "unknown", as ffmpeg writes to a pipe."""
    fmt = struct.pack("<HHIIHH", 1, 1, RATE, RATE * 2, 2, 16)
    return b"RIFF\xff\xff\xff\xffWAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + b"\xff" * 4


def feed(pipe, pcm: np.ndarray, speed: float, log: list[tuple[float, int]]) -> None:
    """Write ``pcm`` at ``speed`` × real time; log (wall time after the write, samples written)."""
    pipe.write(wav_header())
    pipe.flush()
    start = time.monotonic()
    for at in range(0, len(pcm), PIECE):
        due = start + at / (RATE * speed)
        if (wait := due - time.monotonic()) > 0:
            time.sleep(wait)
        pipe.write(pcm[at : at + PIECE].tobytes())
        pipe.flush()
        log.append((time.monotonic(), min(at + PIECE, len(pcm))))
    pipe.close()


def _read_lines(stream, lines: list[tuple[float, dict]]) -> None:
    for line in stream:
        lines.append((time.monotonic(), json.loads(line)))


def _sample_rss(pid: int, samples: list[float], stop: threading.Event) -> None:
    while not stop.wait(5.0):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        samples.append(int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024)


def written_at(log: list[tuple[float, int]], sample: int) -> float:
    """Wall time when stream sample ``sample`` had been written."""
    counts = [n for _, n in log]
    k = min(bisect.bisect_left(counts, sample), len(log) - 1)
    return log[k][0]


@dataclass(frozen=True)
class Word:
    end: float  # end of the word's audio, seconds into the stream
    latency: float  # from that audio being written to its line being read, seconds
    seen: float  # monotonic time its line was read
    text: str


def run_live(pcm: np.ndarray, speed: float, model: str) -> dict:
    """Feed ``pcm`` through a fresh ``whisper-cli - --live`` process and time every committed word."""
    command = [sys.executable, "-m", "whisper_cli", "-", "--live", "-m", model, "-f", "jsonl"]
    proc = subprocess.Popen(
        [*command, "--word-timestamps"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    log: list[tuple[float, int]] = []
    lines: list[tuple[float, dict]] = []
    rss: list[float] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_read_lines, args=(proc.stdout, lines)),
        threading.Thread(target=_sample_rss, args=(proc.pid, rss, stop)),
    ]
    for t in threads:
        t.start()
    feed(proc.stdin, pcm, speed, log)
    fed = time.monotonic()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    stop.set()
    for t in threads:
        t.join()
    words = [
        Word(w["end"], seen - written_at(log, int(w["end"] * RATE)), seen, w["word"])
        for seen, record in lines
        for w in record.get("words", [])
    ]
    return {
        "exit": proc.returncode,
        "stderr": proc.stderr.read().decode(errors="replace").strip().splitlines()[-3:],
        "words": words,
        "lines": [(seen - log[0][0], record) for seen, record in lines] if log else [],
        "log": log,
        "first_line_s": lines[0][0] - log[0][0] if lines else float("nan"),
        "tail_s": time.monotonic() - fed,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss": rss,
        "audio_s": len(pcm) / RATE,
    }


# The load generator's busy loop: deterministic integer arithmetic, no I/O; it stops by itself
# as soon as its parent is gone (the kernel also kills it then, through PR_SET_PDEATHSIG).
_BUSY = """
import os, sys
parent = int(sys.argv[1])
x = 1
while os.getppid() == parent:
    for _ in range(100_000):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
"""


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


@contextlib.contextmanager
def busy_cores(count: int):
    """Run ``count`` busy processes at normal priority for the ``with`` block; yield a report dict.

    On exit they are killed and reaped; the dict then holds the CPU seconds they got and the
    wall time, so the load they made is documented (``share``: CPU s per wall s per process).
    """
    report = {"count": count, "cpu_s": 0.0, "wall_s": 0.0, "share": float("nan")}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _BUSY, str(os.getpid())],
            preexec_fn=_die_with_parent,
            stdin=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    start = time.monotonic()
    try:
        yield report
    finally:
        report["wall_s"] = time.monotonic() - start
        for proc in procs:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
        for proc in procs:
            _, _, usage = os.wait4(proc.pid, 0)
            proc.returncode = -signal.SIGKILL
            report["cpu_s"] += usage.ru_utime + usage.ru_stime
        if count:
            report["share"] = report["cpu_s"] / (report["wall_s"] * count)
