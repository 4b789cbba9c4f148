"""Live transcription measured through a real pipe: word latency, WER against offline, duplicates, load.

A feeder writes a WAV stream (header with unknown length, then 16-bit PCM in 20 ms
pieces) into ``python -m whisper_cli - --live -f jsonl --word-timestamps`` at a fixed
multiple of real time, logging when each piece went into the pipe; a reader stamps each
line of stdout as it arrives. For each committed word, latency is the time from when the
end of the word's audio (its end time in the stream) was written to when its line was
read. ``--start``/``--end`` feed only that stretch of the file; the offline run it is
compared with is of the same stretch (cut to a temporary WAV); WER against the reference
is printed only when the whole file is fed. ``--loops N`` feeds the stretch N times back
to back and prints a table per pass: median, p95 and max word latency, and the lag at the
end: the time from the pass's last sample being written to the line carrying the pass's
last word being read (negative when that word's line came before the pass's audio ended,
i.e. the output had caught up). ``--runs N`` repeats the whole measurement with a fresh
process each time. Duplicated sentences: word 6-grams the live transcript holds more often
than the offline one (see live_measure.duplicates); target 0. ``--loads 0,1,2`` runs
each load level in turn: N busy processes at normal priority (one busy core, both busy),
started just before feeding and killed right after; the CPU they got is printed.
``--keep DIR`` saves each run's stdout lines with the time each was read (``seen_s``, from
the first write), to replay a run that printed something twice.

    flock /tmp/whisper-bench.lock python benchmarks/bench_live.py --speed 1 --loops 3
    flock /tmp/whisper-bench.lock python benchmarks/bench_live.py --start 140 --end 200 --runs 3
    flock /tmp/whisper-bench.lock python benchmarks/bench_live.py --start 140 --end 170 --loads 0,1,2
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from live_measure import (
    RATE,
    busy_cores,
    duplicated_passages,
    duplicates,
    loadavg,
    run_live,
    wer,
    written_at,
)

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"
LONGFORM = EVAL / "audio" / "en_longform_concat_all_en.flac"


def offline_text(pcm: np.ndarray, model: str) -> str:
    """The offline transcript of exactly the fed stretch (written to a temporary WAV)."""
    import soundfile

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "stretch.wav"
        soundfile.write(wav, pcm, RATE, subtype="PCM_16")
        res = subprocess.run(
            [sys.executable, "-m", "whisper_cli", str(wav), "-m", model],
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


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def pass_figures(result: dict, loops: int, one_pass: float, offline: str) -> list[dict]:
    """Per pass: words, median/p95/max latency, lag at the end, WER against offline, duplicates."""
    rows = []
    for k in range(loops):
        words = [w for w in result["words"] if k * one_pass <= w.end < (k + 1) * one_pass]
        lat = [w.latency for w in words]
        text = "".join(w.text for w in words)
        end_written = written_at(result["log"], round((k + 1) * one_pass * RATE))
        rows.append(
            {
                "pass": k + 1,
                "words": len(words),
                "median": med(lat),
                "p95": pct(lat, 95),
                "max": max(lat, default=float("nan")),
                "lag": max((w.seen for w in words), default=float("nan")) - end_written,
                "wer": f"{wer(offline, text):.1f}",
                "dup": duplicates(text, offline),
            }
        )
    return rows


PASS_HEADER = ["pass", "words", "median s", "p95 s", "max s", "lag at end s", "WER vs offline %"]
PASS_HEADER.append("dup 6-grams (passages)")
SUMMARY_HEADER = ["load", "run", *PASS_HEADER[2:6], "WER vs offline %", "WER vs ref %", PASS_HEADER[-1]]


def cell(value) -> str:
    """Seconds with 2 decimals, (n-grams, passages) as "n (m)", the rest as they are."""
    if isinstance(value, tuple):
        return f"{value[0]} ({value[1]})"
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def table(header: list[str], rows: list[list[str]]) -> None:
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---:" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


def measure(pcm, args, offline: str, reference: str | None, load: int, run: int) -> dict:
    """One run: a fresh live process under ``load`` busy processes; prints its figures."""
    one_pass = len(pcm) / RATE
    before = loadavg()
    with busy_cores(load) as gen:
        result = run_live(np.tile(pcm, args.loops), args.speed, args.model)
    after = loadavg()
    words = result["words"]
    lat = [w.latency for w in words]
    first = "".join(w.text for w in words if w.end < one_pass)
    text = "".join(w.text for w in words)
    audio, cpu = result["audio_s"], result["cpu_s"]
    # Each pass against the offline run (a recognition error the live run makes in every
    # pass is no duplicate, but against the offline text said N times it would count).
    dup = duplicates(text, offline) if args.loops == 1 else (0, 0)
    print(f"load {load} busy process(es); load average before {before}, after {after}", end="")
    if load:
        print(f"; generator got {gen['cpu_s']:.0f} CPU s in {gen['wall_s']:.0f} s", end="")
        print(f" = {100 * gen['share']:.0f} % of a core each", end="")
    print(f"\nspeed {args.speed:g}× real time, {args.loops} pass(es) of {one_pass:.1f} s", end="")
    print(f" = {audio:.0f} s audio")
    print(f"  exit {result['exit']}; first line after {result['first_line_s']:.2f} s", end="")
    print(f"; tail after the pipe closed {result['tail_s']:.2f} s")
    print(f"  words {len(lat)}: latency median {med(lat):.2f} s, p95 {pct(lat, 95):.2f} s", end="")
    rows = pass_figures(result, args.loops, one_pass, offline)
    if args.loops > 1:
        dup = (sum(r["dup"][0] for r in rows), sum(r["dup"][1] for r in rows))
    print(f", max {max(lat, default=float('nan')):.2f} s; lag at the end {rows[-1]['lag']:.2f} s")
    if args.loops > 1:
        keys = ["pass", "words", "median", "p95", "max", "lag", "wer", "dup"]
        table(PASS_HEADER, [[cell(r[key]) for key in keys] for r in rows])
    wer_off = wer(offline, first)
    print(f"  WER (first pass) against the offline run of the same stretch: {wer_off:.1f} %")
    if reference:
        wer_ref = wer(reference, first)
        print(f"  WER against the reference: live {wer_ref:.1f} %, offline {wer(reference, offline):.1f} %")
    print(f"  duplicated 6-grams: {dup[0]} (passages: {dup[1]})" + " (sum of the passes)" * (args.loops > 1))
    for passage in duplicated_passages(text, offline) if args.loops == 1 else ():
        print(f"    printed once too often: {passage!r}")
    if args.keep:
        kept = args.keep / f"live-load{load}-run{run}.jsonl"
        with kept.open("w") as f:
            for seen, record in result["lines"]:
                f.write(json.dumps({"seen_s": round(seen, 3), **record}) + "\n")
        print(f"  stdout lines kept in {kept}")
    if result["rss"]:
        rss = result["rss"]
        print(f"  RSS MiB every 5 s: first {rss[0]:.0f}, max {max(rss):.0f}, last {rss[-1]:.0f}")
    print(f"  CPU {cpu:.0f} s for {audio:.0f} s of audio: {cpu / audio:.2f} CPU s per audio s")
    if result["stderr"]:
        print("  stderr (last lines): " + " | ".join(result["stderr"]))
    return {
        "load": load,
        "median": med(lat),
        "p95": pct(lat, 95),
        "max": max(lat, default=float("nan")),
        "lag": rows[-1]["lag"],
        "wer_off": f"{wer_off:.1f}",
        "wer_ref": f"{wer_ref:.1f}" if reference else "–",
        "dup": dup,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = LONGFORM if LONGFORM.is_file() else ROOT / "samples" / "lecture.flac"
    parser.add_argument("--file", type=Path, default=default)
    parser.add_argument("--start", type=float, default=0.0, help="feed from here (seconds)")
    parser.add_argument("--end", type=float, default=None, help="feed up to here (seconds)")
    parser.add_argument("--speed", type=float, default=1.0, help="× real time")
    parser.add_argument("--loops", type=int, default=1, help="passes of the stretch, back to back")
    parser.add_argument("--runs", type=int, default=1, help="whole measurements, a fresh process each")
    parser.add_argument("--load", type=int, default=None, help="busy processes while feeding (0, 1, 2)")
    parser.add_argument("--loads", default="0", help="load levels to run in turn, e.g. 0,1,2")
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--keep", type=Path, help="folder for each run's stdout lines (jsonl, seen_s added)")
    args = parser.parse_args()
    loads = [args.load] if args.load is not None else [int(x) for x in args.loads.split(",")]
    if min(loads) < 0 or args.runs < 1 or args.loops < 1:
        parser.error("--load/--loads must be ≥ 0, --runs and --loops ≥ 1")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(ROOT))
    from whisper_cli.audio.load import load_audio

    audio = load_audio(str(args.file))
    whole = len(audio) / RATE
    end = whole if args.end is None else min(args.end, whole)
    if not 0 <= args.start < end:
        parser.error(f"--start {args.start:g} --end {end:g}: empty stretch (file is {whole:.1f} s)")
    pcm = (np.clip(audio[round(args.start * RATE) : round(end * RATE)], -1, 1) * 32767).astype("<i2")
    whole_file = args.start == 0 and end == whole
    print(f"file {args.file.name} {args.start:g}-{end:g} s of {whole:.1f} s, model {args.model}")
    steal_before = _steal()
    offline = offline_text(pcm, args.model)
    reference = reference_text(args.file) if whole_file else None
    summary = []
    for load in loads:
        for run in range(1, args.runs + 1):
            print(f"\n## load {load}, run {run} of {args.runs}")
            summary.append((run, measure(pcm, args, offline, reference, load, run)))
    steal = _steal() - steal_before
    print(f"\nCPU steal during the runs: {100 * steal[1] / max(steal[0], 1):.1f} % of CPU time")
    if len(summary) > 1:
        print("\nSummary (latency in s over the whole run; lag at the end of the last pass):\n")
        keys = ["load", "run", "median", "p95", "max", "lag", "wer_off", "wer_ref", "dup"]
        table(SUMMARY_HEADER, [[cell({**s, "run": run}[key]) for key in keys] for run, s in summary])
        dup_runs = sum(1 for _, s in summary if s["dup"][0])
        print(f"\nruns with duplicated 6-grams: {dup_runs} of {len(summary)}")


def _steal() -> np.ndarray:
    """(total jiffies, steal jiffies) from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return np.array([sum(fields), fields[7]])


if __name__ == "__main__":
    main()
