"""Live transcription measured through a real pipe: word latency, WER against the offline run, stamina.

A feeder writes a WAV stream (header with unknown length, then 16-bit PCM in 20 ms
pieces) into ``python -m whisper_cli - --live -f jsonl --word-timestamps`` at a fixed
multiple of real time, logging when each piece went into the pipe; a reader stamps each
line of stdout as it arrives. For each committed word, latency is the time from when the
end of the word's audio (its end time in the stream) was written to when its line was
read. ``--loops N`` feeds the file N times back to back (stamina: lag at the end against
the start, RSS sampled every 5 s, CPU time per audio second).

    flock /tmp/whisper-bench.lock python benchmarks/bench_live.py --speed 1 --loops 3
"""

from __future__ import annotations

import argparse
import bisect
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"
LONGFORM = EVAL / "audio" / "en_longform_concat_all_en.flac"
RATE = 16_000
PIECE = 320  # samples per write: 20 ms


def normalise(text: str) -> str:
    """Lower case, hyphens to spaces, apostrophes and other punctuation dropped."""
    text = text.lower().replace("-", " ").replace("'", "").replace("’", "")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def wer(reference: str, hypothesis: str) -> float:
    import jiwer

    return 100 * float(jiwer.wer(normalise(reference), normalise(hypothesis) or "<empty>"))


def wav_header() -> bytes:
    """A 16 kHz mono 16-bit WAV header whose sizes say "unknown", as ffmpeg writes to a pipe."""
    fmt = struct.pack("<HHIIHH", 1, 1, RATE, RATE * 2, 2, 16)
    return (
        b"RIFF"
        + b"\xff\xff\xff\xff"
        + b"WAVE"
        + b"fmt "
        + struct.pack("<I", 16)
        + fmt
        + b"data"
        + b"\xff" * 4
    )


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


def read_lines(stream, lines: list[tuple[float, dict]]) -> None:
    for line in stream:
        lines.append((time.monotonic(), json.loads(line)))


def sample_rss(pid: int, samples: list[tuple[float, float]], stop: threading.Event) -> None:
    while not stop.wait(5.0):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            return
        kib = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
        samples.append((time.monotonic(), kib / 1024))


def written_at(log: list[tuple[float, int]], sample: int) -> float:
    """Wall time when stream sample ``sample`` had been written."""
    counts = [n for _, n in log]
    k = min(bisect.bisect_left(counts, sample), len(log) - 1)
    return log[k][0]


def run_live(pcm: np.ndarray, speed: float, model: str) -> dict:
    command = [
        sys.executable,
        "-m",
        "whisper_cli",
        "-",
        "--live",
        "-m",
        model,
        "-f",
        "jsonl",
        "--word-timestamps",
    ]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    log: list[tuple[float, int]] = []
    lines: list[tuple[float, dict]] = []
    rss: list[tuple[float, float]] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=read_lines, args=(proc.stdout, lines)),
        threading.Thread(target=sample_rss, args=(proc.pid, rss, stop)),
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
    stderr = proc.stderr.read().decode(errors="replace")
    latencies = [
        (word["end"], seen - written_at(log, int(word["end"] * RATE)), word["word"])
        for seen, record in lines
        for word in record.get("words", [])
    ]
    return {
        "exit": proc.returncode,
        "stderr": stderr.strip().splitlines()[-3:],
        "text": " ".join(r["text"] for _, r in lines),
        "latencies": latencies,
        "first_line_s": lines[0][0] - log[0][0] if lines else None,
        "tail_s": time.monotonic() - fed,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "rss": [mib for _, mib in rss],
        "audio_s": len(pcm) / RATE,
    }


def offline_text(path: Path, model: str) -> str:
    res = subprocess.run(
        [sys.executable, "-m", "whisper_cli", str(path), "-m", model],
        capture_output=True,
        text=True,
        check=True,
    )
    return res.stdout


def reference_text(path: Path) -> str | None:
    manifest = path.parent.parent / "manifest.jsonl"
    if not manifest.is_file():
        sibling = path.with_suffix(".txt")
        return sibling.read_text() if sibling.is_file() else None
    for line in manifest.read_text().splitlines():
        item = json.loads(line)
        if (manifest.parent / item["audio"]).resolve() == path.resolve():
            return item["text"]
    return None


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def report(
    result: dict, loops: int, speed: float, offline: str, reference: str | None, one_pass: float
) -> None:
    """Print the figures: latency, WER against the offline run and the reference, stamina."""
    lat = [v for _, v, _ in result["latencies"]]
    first = [v for t, v, _ in result["latencies"] if t < one_pass]
    last = [v for t, v, _ in result["latencies"] if t >= (loops - 1) * one_pass]
    live_text = "".join(w for t, _, w in result["latencies"] if t < one_pass)
    audio, cpu = result["audio_s"], result["cpu_s"]
    print(f"speed {speed:g}× real time, {loops} pass(es) of {one_pass:.1f} s = {audio:.0f} s audio")
    print(f"  exit {result['exit']}; first line after {result['first_line_s']:.2f} s", end="")
    print(f"; tail after the pipe closed {result['tail_s']:.2f} s")
    print(f"  words {len(lat)}: latency median {statistics.median(lat):.2f} s", end="")
    print(f", p95 {percentile(lat, 95):.2f} s, max {max(lat):.2f} s")
    if loops > 1:
        print(
            f"  first pass: median {statistics.median(first):.2f} s, p95 {percentile(first, 95):.2f} s",
            end="",
        )
        print(f"; last pass: median {statistics.median(last):.2f} s, p95 {percentile(last, 95):.2f} s")
    print(
        f"  WER of the live transcript (first pass) against the offline run: {wer(offline, live_text):.1f} %"
    )
    if reference:
        print(f"  WER against the reference: live {wer(reference, live_text):.1f} %", end="")
        print(f", offline {wer(reference, offline):.1f} %")
    rss = result["rss"]
    if rss:
        print(f"  RSS MiB every 5 s: first {rss[0]:.0f}, max {max(rss):.0f}, last {rss[-1]:.0f}")
    print(f"  CPU {cpu:.0f} s for {audio:.0f} s of audio: {cpu / audio:.2f} CPU s per audio s")
    if result["stderr"]:
        print("  stderr (last lines): " + " | ".join(result["stderr"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--file", type=Path, default=LONGFORM if LONGFORM.is_file() else ROOT / "samples" / "lecture.flac"
    )
    parser.add_argument("--speed", type=float, default=1.0, help="× real time")
    parser.add_argument("--loops", type=int, default=1, help="passes of the file, back to back")
    parser.add_argument("--model", default="tiny.en")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from whisper_cli.audio.load import load_audio

    audio = load_audio(str(args.file))
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    with open("/proc/loadavg") as f:
        print(f"file {args.file.name}, model {args.model}; load average before: {f.read().split()[:3]}")
    steal_before = _steal()
    offline = offline_text(args.file, args.model)
    result = run_live(np.tile(pcm, args.loops), args.speed, args.model)
    report(result, args.loops, args.speed, offline, reference_text(args.file), len(pcm) / RATE)
    steal = _steal() - steal_before
    print(f"  CPU steal during the run: {100 * steal[1] / max(steal[0], 1):.1f} % of CPU time")


def _steal() -> np.ndarray:
    """(total jiffies, steal jiffies) from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return np.array([sum(fields), fields[7]])


if __name__ == "__main__":
    main()
