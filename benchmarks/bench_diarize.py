#!/usr/bin/env python3
"""Speaker diarization (whisper_cli.diarize): error rates on real speech, speed and memory.

Parts (--parts, default all):
  a  conversations built from real clips of distinct speakers in ../shared/eval (LibriSpeech
     readers, a LibriVox reader, JFK; 2-6 speakers, turns of 1-10 s, 0.2-0.8 s pauses, each
     speaker at its own level): DER with the count found and given, and whether it was found
  b  the real 2-speaker phone call shipped in the pyannote-audio 4.0.7 wheel
     (pyannote/audio/sample/sample.{wav,rttm}, MIT), with variants of the method
  c  stereo calls, one real speaker per channel with -20 dB cross-talk bleed: channel_turns
  d  speed on the 227.6 s long-form file; with --compare-cli also `whisper-cli FILE -m tiny.en`
     wall time in the same session, and the ratio
  e  memory: Python heap (tracemalloc) while --minutes of audio are fed in 30 s blocks
DER: time-weighted, 0.25 s collar, overlapped speech not scored, optimal speaker mapping
(whisper_cli.diarize.der). Reference turns of (a) and (c): the speech of each piece as Silero
VAD hears it on the piece alone (see tests/diarize/conversations.py).

  python benchmarks/bench_diarize.py [--parts a,b,c,d,e] [--compare-cli] [--minutes 30]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.diarize.conversations import EVAL_DIR, conversation, eval_present, stereo_call  # noqa: E402
from whisper_cli.diarize import cluster, speakers  # noqa: E402
from whisper_cli.diarize.channels import channel_turns  # noqa: E402
from whisper_cli.diarize.der import der  # noqa: E402
from whisper_cli.diarize.speakers import Diarizer, SpeakerCount, Turn, diarize  # noqa: E402

LONG = EVAL_DIR / "audio" / "en_longform_concat_all_en.flac"
SETS = [  # (speakers, seed, seconds)
    (["librivox", "ls1089"], 100, 60),
    (["ls1221", "ls1995"], 101, 60),
    (["ls1221", "librivox"], 10, 45),
    (["ls1272", "jfk", "ls2412"], 11, 45),
    (["ls251", "jfk", "ls1995"], 102, 60),
    (["ls1995", "ls3536", "ls251"], 103, 60),
    (["ls251", "ls1995", "ls1089", "ls1221"], 12, 45),
    (["jfk", "ls2412", "ls1221", "ls1272"], 104, 60),
    (["ls3536", "ls1221", "ls2412", "ls251"], 105, 60),
    (["ls3536", "ls1089", "librivox", "jfk", "ls1272"], 106, 60),
    (["ls1272", "ls2412", "ls251", "ls3536", "librivox"], 13, 90),
    (["ls1221", "ls3536", "ls1995", "ls251", "ls1272", "jfk"], 107, 60),
    (["ls1272", "ls2412", "ls251", "ls1995", "ls1221", "jfk"], 14, 120),
]


def part_a() -> None:
    print("(a) conversations of real speakers: DER with the count found / given")
    found_rates, given_rates, right = [], [], 0
    for names, seed, seconds in SETS:
        audio, reference = conversation(names, seconds, seed)
        found = diarize(audio)
        given = diarize(audio, SpeakerCount(exact=len(names)))
        n = len({t.speaker for t in found})
        a, b = der(reference, found).rate, der(reference, given).rate
        found_rates.append(a)
        given_rates.append(b)
        right += n == len(names)
        seconds = len(audio) / 16000
        print(f"  {len(names)} speakers {seconds:5.0f} s  found {n}  DER found {a:6.1%}  given {b:6.1%}")
    print(
        f"  mean DER: count found {np.mean(found_rates):.1%}, count given {np.mean(given_rates):.1%}; "
        f"count found right in {right}/{len(SETS)}"
    )


def _pyannote_sample() -> tuple[np.ndarray, list[Turn]]:
    wheel = os.environ.get("PYANNOTE_WHEEL")
    if not wheel:
        cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "whisper-cli-tests"
        wheel = str(cache / "pyannote_audio-4.0.7-py3-none-any.whl")
        if not Path(wheel).is_file():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--no-deps",
                    "pyannote-audio==4.0.7",
                    "-d",
                    cache,
                ],
                check=True,
            )
    with zipfile.ZipFile(wheel) as z, tempfile.TemporaryDirectory() as tmp:
        z.extract("pyannote/audio/sample/sample.wav", tmp)
        audio, rate = sf.read(Path(tmp) / "pyannote/audio/sample/sample.wav", dtype="float32")
        rttm = z.read("pyannote/audio/sample/sample.rttm").decode()
    assert rate == 16000 and audio.ndim == 1
    ids: dict[str, int] = {}
    reference = []
    for line in rttm.splitlines():
        f = line.split()
        start, length = float(f[3]), float(f[4])
        reference.append(Turn(start, start + length, ids.setdefault(f[7], len(ids))))
    return audio, reference


def part_b() -> None:
    print("(b) pyannote-audio 4.0.7 sample call (30 s, 2 speakers, some overlap)")
    audio, reference = _pyannote_sample()
    saved = (speakers.STEP, cluster.METHOD)
    try:
        for method in ("linkage", "spectral", "best"):
            for step in (75, 25):
                speakers.STEP, cluster.METHOD = step, method
                given = der(reference, diarize(audio, SpeakerCount(exact=2)))
                found_turns = diarize(audio)
                found = der(reference, found_turns)
                print(
                    f"  clustering {method:8} windows every {step / 100:.2f} s: "
                    f"DER given 2 {given.rate:6.1%} "
                    f"(confusion {given.confusion:.2f} s of {given.scored:.2f} s), "
                    f"found {len({t.speaker for t in found_turns})}: {found.rate:6.1%}"
                )
    finally:
        speakers.STEP, cluster.METHOD = saved


def part_c() -> None:
    print("(c) stereo calls, one speaker per channel, -20 dB bleed: channel_turns")
    rates = []
    for names, seed in ((("ls1221", "librivox"), 1), (("ls1272", "jfk"), 2), (("ls2412", "ls251"), 3)):
        left, right, reference = stereo_call(names, 60, seed)
        rate = der(reference, channel_turns(left, right)).rate
        rates.append(rate)
        print(f"  {names[0]} / {names[1]} {len(left) / 16000:.0f} s: DER {rate:.1%}")
    print(f"  mean DER {np.mean(rates):.1%}")


def part_d(compare_cli: bool) -> None:
    print("(d) speed on the 227.6 s long-form file")
    audio, _ = sf.read(LONG, dtype="float32")
    seconds = len(audio) / 16000
    Diarizer()  # weights and graph built once per process, as in a run
    cpu, wall = time.process_time(), time.perf_counter()
    diarizer = Diarizer()
    for start in range(0, len(audio), 16000 * 30):
        diarizer.feed(audio[start : start + 16000 * 30])
    turns = diarizer.finish()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"  Diarizer: wall {wall:.2f} s, CPU {cpu:.2f} s, {seconds / wall:.0f}x real time "
        f"({wall / seconds * 1000:.1f} ms per audio second), {len({t.speaker for t in turns})} speakers found"
    )
    if compare_cli:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(["whisper-cli", str(LONG), "-m", "tiny.en"], check=True, stdout=subprocess.DEVNULL)
        cli = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cli_cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        print(
            f"  whisper-cli FILE -m tiny.en: wall {cli:.2f} s, CPU {cli_cpu:.2f} s; "
            f"the Diarizer adds {wall / cli:.1%} of its wall time, {cpu / cli_cpu:.1%} of its CPU time"
        )


def part_e(minutes: float) -> None:
    print(f"(e) memory while {minutes:.0f} min of speech are fed in 30 s blocks")
    audio, _ = sf.read(LONG, dtype="float32")
    block = 16000 * 30
    total = int(minutes * 60 * 16000)
    tracemalloc.start()
    diarizer = Diarizer()
    base = tracemalloc.get_traced_memory()[0]
    fed = 0
    while fed < total:
        at = fed % (len(audio) - block)
        diarizer.feed(audio[at : at + block])
        fed += block
    held = tracemalloc.get_traced_memory()[0] - base
    turns = diarizer.finish()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    windows = len(diarizer._front.positions)
    print(
        f"  held before finish {held / 1e6:.1f} MB ({windows} windows), "
        f"peak incl. finish {peak / 1e6:.1f} MB, "
        f"{len(turns)} turns; the embeddings kept grow by {windows * 512e-6 / (fed / 16000 / 3600):.1f} MB "
        "per hour of speech (the rest is bounded by the block size)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", default="a,b,c,d,e")
    parser.add_argument(
        "--compare-cli", action="store_true", help="also time whisper-cli -m tiny.en (part d)"
    )
    parser.add_argument("--minutes", type=float, default=30.0, help="audio fed in part e")
    args = parser.parse_args()
    if not eval_present():
        print(f"{EVAL_DIR} is not present: nothing to measure", file=sys.stderr)
        return 1
    parts = set(args.parts.split(","))
    for name, run in (("a", part_a), ("b", part_b), ("c", part_c)):
        if name in parts:
            run()
    if "d" in parts:
        part_d(args.compare_cli)
    if "e" in parts:
        part_e(args.minutes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
