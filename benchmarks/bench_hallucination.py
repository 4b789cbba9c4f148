"""Words invented on non-speech, and loops on long files, before and after whisper_cli.decode.guards.

Non-speech signals are synthesized (silence, noise, hum, tones, beeps, music-like chords
and melody, sung vowels, reversed speech) and transcribed by the real model under three
settings, each by the bare engine ("before") and through ``guards.guard`` ("after"):

    vad          the CLI's default (Silero VAD on, temperature fallback 0.0…1.0)
    no-vad       --no-vad (fallback still on)
    no-vad T=0   --no-vad with a single temperature: no fallback, the loop-prone case

Speech checks that the guards take nothing real away: samples/ (WER before/after), the
stock phrases spoken by espeak-ng when it is installed, and the long-form file of
../shared/eval when present (loops: segments that are one phrase over and over).

    python benchmarks/bench_hallucination.py            # 60 s per signal
    python benchmarks/bench_hallucination.py --seconds 30 --settings no-vad
"""

from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import normalise, sample_text, wer  # noqa: E402
from whisper_cli.audio.load import SAMPLE_RATE as SR  # noqa: E402
from whisper_cli.audio.load import load_audio  # noqa: E402
from whisper_cli.core.transcript import DecodeOptions  # noqa: E402
from whisper_cli.decode.guards import MAX_REPEATS, guard, repeated_ngram  # noqa: E402

SETTINGS = {
    "vad": DecodeOptions(language="en"),
    "no-vad": DecodeOptions(language="en", vad=False),
    "no-vad T=0": DecodeOptions(language="en", vad=False, temperature=(0.0,)),
}
STOCK_PHRASES = ("Thank you.", "Thanks for watching!", "You.", "Bye.", "So.", "Please subscribe.")
EVAL = ROOT.parent / "shared" / "eval" / "audio" / "en_longform_concat_all_en.flac"


# --- signals -------------------------------------------------------------------------------------


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def _t(seconds: float) -> np.ndarray:
    return np.arange(int(seconds * SR)) / SR


def _db(x: np.ndarray, db: float) -> np.ndarray:
    return (x / (np.abs(x).max() or 1) * 10 ** (db / 20)).astype(np.float32)


def white(seconds: float, db: float) -> np.ndarray:
    return _db(_rng(0).standard_normal(int(seconds * SR)), db)


def pink(seconds: float) -> np.ndarray:
    spectrum = np.fft.rfft(_rng(1).standard_normal(int(seconds * SR)))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    return _db(np.fft.irfft(spectrum, int(seconds * SR)), -20)


def hum(seconds: float) -> np.ndarray:
    t = _t(seconds)
    return _db(sum(np.sin(2 * np.pi * 50 * h * t) / h for h in range(1, 6)), -25)


def tone(seconds: float) -> np.ndarray:
    return _db(np.sin(2 * np.pi * 440 * _t(seconds)), -12)


def beeps(seconds: float) -> np.ndarray:
    rng, out, i = _rng(2), np.zeros(int(seconds * SR), np.float32), 0
    while i < len(out):
        n = int(rng.uniform(0.1, 0.4) * SR)
        f = rng.choice([697, 770, 852, 941, 1209, 1336, 1477])
        out[i : i + n] = (0.3 * np.sin(2 * np.pi * f * np.arange(n) / SR))[: len(out) - i]
        i += n + int(rng.uniform(0.1, 0.5) * SR)
    return out


def chords(seconds: float) -> np.ndarray:
    """Chords with harmonics and decay, a bass note and a noise-burst drum on every beat."""
    rng, n = _rng(3), int(seconds * SR)
    out, beat, roots = np.zeros(n), int(0.6 * SR), (220, 174.6, 261.6, 196)
    for b, i in enumerate(range(0, n, beat)):
        root, d = roots[(b // 4) % 4], min(2 * beat, n - i)
        t = np.arange(d) / SR
        note = sum(np.sin(2 * np.pi * root * r * h * t) / h for r in (1, 1.25, 1.5) for h in range(1, 5))
        out[i : i + d] += 0.05 * np.exp(-3 * t) * note + 0.15 * np.sin(np.pi * root * t) * np.exp(-5 * t)
        k = min(int(0.08 * SR), n - i)
        out[i : i + k] += 0.2 * rng.standard_normal(k) * np.exp(-40 * np.arange(k) / SR)
    return _db(out, -6)


def melody(seconds: float) -> np.ndarray:
    rng, n, i = _rng(4), int(seconds * SR), 0
    out, scale = np.zeros(n), (261.6, 293.7, 329.6, 349.2, 392, 440, 493.9, 523.3)
    while i < n:
        d = min(int(rng.choice([0.25, 0.5, 0.75]) * SR), n - i)
        t, f = np.arange(d) / SR, rng.choice(scale)
        out[i : i + d] = sum(np.sin(2 * np.pi * f * h * t) * 0.6**h for h in range(1, 6)) * np.exp(-2 * t)
        i += d
    return _db(out, -10)


def vowels(seconds: float) -> np.ndarray:
    """Sung vowels: a glottal pulse train through three formant resonators."""
    from scipy.signal import lfilter

    formants = ((730, 1090, 2440), (270, 2290, 3010), (300, 870, 2240), (530, 1840, 2480))
    rng, n, i, out = _rng(5), int(seconds * SR), 0, np.zeros(int(seconds * SR))
    while i < n:
        d = min(int(rng.uniform(0.3, 0.9) * SR), n - i)
        phase = np.cumsum(np.full(d, rng.uniform(110, 260) / SR))
        y = (np.diff(np.floor(phase), prepend=0) > 0).astype(float)
        for fc in formants[rng.integers(len(formants))]:
            r, th = np.exp(-np.pi * 80 / SR), 2 * np.pi * fc / SR
            y = lfilter([1 - r], [1, -2 * r * np.cos(th), r * r], y)
        out[i : i + d] = y * np.minimum(1, np.arange(d) / 800) * np.minimum(1, (d - np.arange(d)) / 800)
        i += d + int(rng.uniform(0, 0.3) * SR)
    return _db(out, -8)


def reversed_speech(seconds: float) -> np.ndarray:
    speech = load_audio(ROOT / "samples" / "lecture.flac")[::-1]
    return np.tile(speech, int(np.ceil(seconds * SR / len(speech))))[: int(seconds * SR)].copy()


SIGNALS: dict[str, Callable[[float], np.ndarray]] = {
    "silence": lambda s: np.zeros(int(s * SR), np.float32),
    "white noise -30 dB": lambda s: white(s, -30),
    "white noise -15 dB": lambda s: white(s, -15),
    "pink noise": pink,
    "hum 50 Hz": hum,
    "tone 440 Hz": tone,
    "DTMF beeps": beeps,
    "chords + drum": chords,
    "melody": melody,
    "sung vowels": vowels,
    "reversed speech": reversed_speech,
}


# --- measuring -----------------------------------------------------------------------------------


def words(segments) -> tuple[int, int, str]:
    """(words, looped segments, text) of a segment stream.

    Looped: one phrase over and over inside the segment, or the same text as the
    MAX_REPEATS segments before it.
    """
    segs = list(segments)
    text = " ".join(s.text.strip() for s in segs)
    keys = [normalise(s.text) for s in segs]
    looped = sum(
        repeated_ngram(s.text) or (i >= MAX_REPEATS and len(set(keys[i - MAX_REPEATS : i + 1])) == 1)
        for i, s in enumerate(segs)
    )
    return len(normalise(text).split()), looped, text


def non_speech(before_fn, after_fn, seconds: float, settings: list[str]) -> None:
    print(f"\n## Non-speech: words invented per minute ({seconds:g} s of each signal)\n")
    print(f"| signal | {' | '.join(f'{s} before | {s} after' for s in settings)} |")
    print("|---" * (1 + 2 * len(settings)) + "|")
    totals = {s: [0, 0, 0, 0] for s in settings}  # words before, after, loops before, after
    examples: dict[str, str] = {}
    for name, make in SIGNALS.items():
        audio, cells = make(seconds), []
        for setting in settings:
            options = SETTINGS[setting]
            before, loops_before, text = words(before_fn(audio, options)[1])
            after, loops_after, _ = words(after_fn(audio, options)[1])
            total = totals[setting]
            total[0], total[1] = total[0] + before, total[1] + after
            total[2], total[3] = total[2] + loops_before, total[3] + loops_after
            cells += [f"{before * 60 / seconds:.1f}", f"{after * 60 / seconds:.1f}"]
            if before and name not in examples:
                examples[name] = f"{setting}: {text[:70]}"
        print(f"| {name} | {' | '.join(cells)} |", flush=True)
    minutes = len(SIGNALS) * seconds / 60
    cells = [f"**{t[0] / minutes:.1f}** | **{t[1] / minutes:.1f}**" for t in totals.values()]
    print(f"| **all ({minutes:g} min)** | {' | '.join(cells)} |")
    for setting, (_, _, loops_before, loops_after) in totals.items():
        print(f"\n{setting}: looped segments {loops_before} before, {loops_after} after", end="")
    print("\n\nWhat was invented (before):")
    for name, text in examples.items():
        print(f"- {name} ({text!r})")


def speech(before_fn, after_fn) -> None:
    options = SETTINGS["vad"]
    print("\n## Speech: what the guards keep\n")
    print("| input | words before | words after | WER before | WER after |")
    print("|---|---|---|---|---|")
    for name in ("hello.wav", "weather.mp3", "lecture.flac"):
        audio = load_audio(ROOT / "samples" / name)
        before, _, raw = words(before_fn(audio, options)[1])
        after, _, kept = words(after_fn(audio, options)[1])
        ref = sample_text(name)
        print(f"| {name} | {before} | {after} | {wer(ref, raw):.3f} | {wer(ref, kept):.3f} |", flush=True)
    for phrase, audio in spoken_phrases():
        for setting in ("vad", "no-vad"):
            before, _, raw = words(before_fn(audio, SETTINGS[setting])[1])
            after, _, kept = words(after_fn(audio, SETTINGS[setting])[1])
            row = f"espeak-ng {phrase!r} ({setting}) | {before} | {after} | {raw!r} | {kept!r}"
            print(f"| {row} |", flush=True)


def spoken_phrases() -> list[tuple[str, np.ndarray]]:
    if shutil.which("espeak-ng") is None:
        print("| (espeak-ng not installed: spoken stock phrases skipped) | | | | |")
        return []
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, phrase in enumerate(STOCK_PHRASES):
            path = Path(tmp) / f"{i}.wav"
            subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(path), phrase], check=True)
            pad = np.zeros(SR, np.float32)
            out.append((phrase, np.concatenate([pad, load_audio(path), 3 * pad])))
    return out


def long_form(before_fn, after_fn) -> None:
    print("\n## Long files: loops at the end (looped: a phrase over and over, or a 4th identical segment)\n")
    lecture = load_audio(ROOT / "samples" / "lecture.flac")
    inputs = {"lecture + 60 s reversed speech": np.concatenate([lecture, reversed_speech(60)])}
    if EVAL.is_file():
        inputs["shared/eval long-form (228 s)"] = load_audio(EVAL)
    print("| input | setting | words before | words after | looped segments before | after |")
    print("|---|---|---|---|---|---|")
    for name, audio in inputs.items():
        for setting in ("no-vad", "no-vad T=0"):
            options = SETTINGS[setting]
            before, loops_before, _ = words(before_fn(audio, options)[1])
            after, loops_after, _ = words(after_fn(audio, options)[1])
            print(f"| {name} | {setting} | {before} | {after} | {loops_before} | {loops_after} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="length of each non-speech signal")
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--model", default="tiny.en")
    parser.add_argument("--cpu-threads", type=int, default=0)
    parser.add_argument(
        "--level", action=argparse.BooleanOptionalAction, default=True, help="loudness levelling, as the CLI"
    )
    parser.add_argument("--skip", nargs="*", default=[], choices=["non-speech", "speech", "long"])
    args = parser.parse_args()

    from whisper_cli.decode.adapter import make_transcribe
    from whisper_cli.decode.whisper import ModelSpec, load_model

    logging.getLogger("whisper_cli").setLevel(logging.ERROR)  # the guards' notes would cut the tables
    # The bare engine: get_whisper() wraps it in the guards (and loudness levelling) itself.
    engine = make_transcribe(load_model(ModelSpec(args.model, "cpu", "int8", args.cpu_threads, 1)))
    before, after = engine, guard(engine)
    if args.level:  # as get_whisper does: levelled(guard(engine))
        from whisper_cli.decode.loudness import levelled

        before, after = levelled(engine), levelled(guard(engine))
    started = time.monotonic()
    print(f"# Hallucination guards, {args.model}, int8 on CPU, levelling {'on' if args.level else 'off'}")
    if "non-speech" not in args.skip:
        non_speech(before, after, args.seconds, args.settings)
    if "speech" not in args.skip:
        speech(before, after)
    if "long" not in args.skip:
        long_form(before, after)
    print(f"\n({time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
