#!/usr/bin/env python3
"""Language identification and per-language error rates: whisper-cli against the bare engine.

Every item of ../shared/eval/manifest.jsonl (short clips and long-form) is transcribed
with the language left to the model, in one run, by three processes taken in turn:

  engine       faster_whisper.WhisperModel(cpu_threads=<cores>).transcribe(path, beam_size=5),
               the engine's defaults otherwise: it identifies the language on the first 30 s
  whisper-cli  get_whisper(model), the path the CLI takes, with the CLI's defaults
               (DecodeOptions(): VAD, levelling, guards; one decoder per core, two files at
               a time)
  engine, BLAS on <cores> threads   the engine again, numpy's BLAS left multi-threaded

The first two run as the whisper-cli entry point runs, with OPENBLAS_NUM_THREADS=1, so that
they differ in what they do and not in rounding: numpy's BLAS computes the mel features,
and on more threads it sums in another order. The third shows what that rounding alone
does to the engine's figures: the noise floor of any comparison on this set.

Prints language-identification accuracy (n correct / n) with the items each got wrong,
and each language's error rate: WER, or CER for zh/ja/ko (no spaces between words),
pooled over the language's items, after normalising as bench_speed.py does (lower case,
hyphens to spaces, apostrophes and other punctuation dropped; for CER, spaces too).
English long-form items are a row of their own (they repeat the short items' speech).

    python benchmarks/bench_language.py [--model base] [--records FILE]

--records writes every item's results (language, probability, text; both sides) as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT.parent / "shared" / "eval"
CORES = len(os.sched_getaffinity(0))
BLAS_THREADS = {"engine": 1, "whisper-cli": 1, "engine-blas": CORES}  # OPENBLAS_NUM_THREADS per side
SIDES = tuple(BLAS_THREADS)
TITLES = {"engine": "engine", "whisper-cli": "whisper-cli", "engine-blas": f"engine, BLAS on {CORES} threads"}
CHARACTER_LANGUAGES = frozenset({"zh", "ja", "ko"})  # scored by CER


def normalise(text: str) -> str:
    """Lower case, hyphens to spaces, apostrophes and other punctuation dropped (bench_speed.py's)."""
    text = text.lower().replace("-", " ").replace("'", "").replace("’", "")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def error_rate(language: str, refs: list[str], hyps: list[str]) -> float:
    """Pooled WER in % (CER for zh/ja/ko) of ``hyps`` against ``refs``."""
    import jiwer

    refs, hyps = [normalise(r) for r in refs], [normalise(h) for h in hyps]
    if language in CHARACTER_LANGUAGES:
        refs, hyps = [r.replace(" ", "") for r in refs], [h.replace(" ", "") or "-" for h in hyps]
        return 100 * float(jiwer.cer(refs, hyps))
    return 100 * float(jiwer.wer(refs, [h or "<empty>" for h in hyps]))


# --- one side, in its own process: a JSON line per item on stdout --------------------------------


def run_engine(model_path: str, items: list[dict]) -> None:
    from faster_whisper import WhisperModel

    model = WhisperModel(model_path, device="cpu", compute_type="int8", cpu_threads=CORES)
    for item in items:
        segments, info = model.transcribe(str(EVAL / item["audio"]), beam_size=5)
        text = "".join(s.text for s in segments)
        _emit(item["id"], info.language, info.language_probability, text)


def run_cli(model: str, items: list[dict]) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from whisper_cli.audio.load import load_audio
    from whisper_cli.core.transcript import DecodeOptions
    from whisper_cli.decode.hardware import default_workers
    from whisper_cli.decode.whisper import get_whisper

    workers = default_workers("cpu")
    transcribe = get_whisper(model, compute_type="int8", device="cpu", workers=workers, download=False)

    def one(item: dict) -> tuple[str, str, float, str]:
        info, segments = transcribe(load_audio(str(EVAL / item["audio"])), DecodeOptions())
        return item["id"], info.language, info.language_probability, "".join(s.text for s in segments)

    with ThreadPoolExecutor(workers) as pool:  # files side by side, as the CLI's runner decodes them
        for found in pool.map(one, items):
            _emit(*found)


def _emit(item_id: str, language: str, probability: float, text: str) -> None:
    record = {"id": item_id, "language": language, "probability": float(probability), "text": text}
    print(json.dumps(record, ensure_ascii=False), flush=True)


# --- the parent: runs both sides, prints the tables -----------------------------------------------


def side(name: str, model: str, model_path: str) -> tuple[dict[str, dict], float]:
    """Run one side in a child process: its records by item id, and its wall time."""
    start = time.perf_counter()
    cmd = [sys.executable, __file__, "--side", name, "--model", model, "--model-path", model_path]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": str(BLAS_THREADS[name])}
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"{name} failed:\n{proc.stderr[-3000:]}")
    records = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    return {r["id"]: r for r in records}, time.perf_counter() - start


def row_key(item: dict) -> str:
    return f"{item['language']} (long-form)" if item["subset"] == "longform" else item["language"]


def print_identification(items: list[dict], results: dict[str, dict[str, dict]]) -> None:
    print("\n## language identification (n correct / n)")
    print("| | " + " | ".join(TITLES[n] for n in SIDES) + " |")
    print("| --- | --- | --- | --- |")
    scores = []
    for name in SIDES:
        correct = sum(results[name][i["id"]]["language"] == i["language"] for i in items)
        scores.append(f"{correct} / {len(items)}")
    print("| identified | " + " | ".join(scores) + " |")
    for name in SIDES:
        for item in items:
            got = results[name][item["id"]]
            if got["language"] != item["language"]:
                print(
                    f"{TITLES[name]}: {item['id']} is {item['language']}, identified as "
                    f"{got['language']} ({got['probability']:.2f})"
                )


def print_error_rates(items: list[dict], results: dict[str, dict[str, dict]]) -> None:
    print("\n## error rate per language (%; WER, CER for zh/ja/ko; pooled over the items)")
    titles = " | ".join(TITLES[n] for n in SIDES)
    print(f"| language | items | audio s | metric | {titles} | whisper-cli - engine |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    rows: dict[str, list[dict]] = {}
    for item in items:
        rows.setdefault(row_key(item), []).append(item)
    for key, group in rows.items():
        language = group[0]["language"]
        refs = [i["text"] for i in group]
        rates = {n: error_rate(language, refs, [results[n][i["id"]]["text"] for i in group]) for n in SIDES}
        metric = "CER" if language in CHARACTER_LANGUAGES else "WER"
        audio = sum(i["duration_s"] for i in group)
        cells = " | ".join(f"{rates[n]:.1f}" for n in SIDES)
        difference = rates["whisper-cli"] - rates["engine"]
        print(f"| {key} | {len(group)} | {audio:.1f} | {metric} | {cells} | {difference:+.1f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="base")
    parser.add_argument("--records", type=Path, help="write every item's results here (JSON)")
    parser.add_argument("--side", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--model-path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (EVAL / "manifest.jsonl").is_file():
        print(f"{EVAL} is not present: this benchmark needs its audio; skipped.")
        return
    items = [json.loads(line) for line in (EVAL / "manifest.jsonl").open(encoding="utf-8")]
    if args.side in ("engine", "engine-blas"):
        return run_engine(args.model_path, items)
    if args.side == "whisper-cli":
        return run_cli(args.model, items)
    sys.path.insert(0, str(ROOT))
    from whisper_cli.models.resolve import resolve_model

    model_path = str(resolve_model(args.model, download=False).path)
    print(f"# language identification: model {args.model}, int8, beam 5, language detected")
    print(f"machine: {CORES} cores, {os.uname().machine}, Python {sys.version.split()[0]}")
    audio = sum(i["duration_s"] for i in items)
    print(f"items: {len(items)} ({audio:.1f} s of audio) from {EVAL.name}/manifest.jsonl")
    results, walls = {}, {}
    for name in SIDES:
        results[name], walls[name] = side(name, args.model, model_path)
    missing = [f"{n}: {i['id']}" for n in SIDES for i in items if i["id"] not in results[n]]
    if missing:
        raise SystemExit(f"no result for {', '.join(missing)}")
    print("wall s (process, model load included): " + ", ".join(f"{TITLES[n]} {walls[n]:.0f}" for n in SIDES))
    print_identification(items, results)
    print_error_rates(items, results)
    if args.records:
        args.records.write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
