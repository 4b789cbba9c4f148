"""Long recordings cut at quiet moments and decoded in parallel parts."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import SAMPLES, sample_text, wer
from whisper_cli.core.transcript import DecodeOptions, Segment, TranscriptInfo, Word
from whisper_cli.decode.parallel import (
    SAMPLE_RATE,
    cut_points,
    in_parts,
    part_count,
    part_spans,
    part_weights,
    shift,
)
from whisper_cli.decode.whisper import _in_english


def test_part_count_one_per_part_length_and_none_under_half_a_minute():
    assert part_count(59 * SAMPLE_RATE) == 1
    assert part_count(60 * SAMPLE_RATE) == 2
    assert part_count(100 * SAMPLE_RATE) == 3  # 2.5 parts' worth, rounded up
    assert part_count(119 * SAMPLE_RATE) == 3
    assert part_count(228 * SAMPLE_RATE) == 6
    assert part_count(600 * SAMPLE_RATE) == 15  # a ten-minute chunk of a streamed recording


def test_cuts_fall_in_the_quiet_gap_near_the_middle():
    rng = np.random.default_rng(0)
    audio = (0.3 * rng.standard_normal(200 * SAMPLE_RATE)).astype(np.float32)
    gap = slice(int(103 * SAMPLE_RATE), int(104 * SAMPLE_RATE))  # 3 s after the even split
    audio[gap] = 0.0
    (cut,) = cut_points(audio, 2)
    assert gap.start <= cut <= gap.stop


def test_shift_moves_segment_and_words():
    seg = Segment(
        id=3, start=1.0, end=2.0, text=" a b", seek=100, words=(Word(1.0, 1.4, " a"), Word(1.5, 2.0, " b"))
    )
    moved = shift(seg, 60.0, 7, 6000)
    assert (moved.id, moved.start, moved.end, moved.seek) == (7, 61.0, 62.0, 6100)
    assert [(w.start, w.end) for w in moved.words] == [(61.0, 61.4), (61.5, 62.0)]
    assert seg.start == 1.0  # the input is not modified


def _fake(calls):
    """A transcribe function that reports each call's length and language."""

    def transcribe(audio, options):
        calls.append((len(audio), options.language))
        seconds = len(audio) / SAMPLE_RATE
        segs = [
            Segment(id=i, start=t, end=t + 5, text=f" at {t:.0f}")
            for i, t in enumerate(np.arange(0, seconds - 5, 10))
        ]
        return TranscriptInfo(options.language or "en", 0.9, seconds), iter(segs)

    return transcribe


def test_parts_stream_in_order_with_shifted_times_and_one_language():
    calls = []
    audio = np.zeros(150 * SAMPLE_RATE, np.float32)
    with ThreadPoolExecutor(2) as pool:
        info, segments = in_parts(_fake(calls), pool)(audio, DecodeOptions())
        segs = list(segments)
    assert info.duration == 150
    assert [s.id for s in segs] == list(range(len(segs)))
    starts = [s.start for s in segs]
    assert starts == sorted(starts) and starts[-1] > 100
    assert len(calls) == part_count(len(audio)) == 4 and sum(n for n, _ in calls) == len(audio)
    assert calls[0][1] is None
    assert all(lang == "en" for _, lang in calls[1:])  # later parts use the first part's language


def test_the_parts_are_the_same_whatever_the_pool_size():
    """How many decoders share the parts changes when they are decoded, not where the cuts fall."""
    rng = np.random.default_rng(2)
    audio = (0.3 * rng.standard_normal(217 * SAMPLE_RATE)).astype(np.float32)
    for quiet in (37, 81, 95, 150, 172):  # pauses near, but not at, the even cuts
        audio[quiet * SAMPLE_RATE : quiet * SAMPLE_RATE + SAMPLE_RATE // 2] *= 0.01
    seen = {}
    for threads in (1, 2, 3):
        calls = []
        with ThreadPoolExecutor(threads) as pool:
            list(in_parts(_fake(calls), pool)(audio, DecodeOptions(language="en"))[1])
        seen[threads] = sorted(n for n, _ in calls)
    spans = part_spans(audio)
    assert len(spans) == 5 and seen[1] == seen[2] == seen[3] == sorted(b - a for a, b in spans)


def test_an_english_only_model_decodes_every_part_in_english_at_once():
    """The later parts need not wait for the first to find the language."""
    calls = []
    audio = np.zeros(150 * SAMPLE_RATE, np.float32)
    with ThreadPoolExecutor(2) as pool:
        info, segments = _in_english(in_parts(_fake(calls), pool))(audio, DecodeOptions())
        list(segments)
        _in_english(_fake(calls))(audio[: 10 * SAMPLE_RATE], DecodeOptions(language="fr"))
    assert info.language == "en"
    assert [lang for _, lang in calls] == ["en"] * 4 + ["fr"]  # an explicit language is passed on


def test_short_audio_and_batched_decoding_are_not_split():
    calls = []
    with ThreadPoolExecutor(2) as pool:
        fn = in_parts(_fake(calls), pool)
        list(fn(np.zeros(50 * SAMPLE_RATE, np.float32), DecodeOptions())[1])
        list(fn(np.zeros(300 * SAMPLE_RATE, np.float32), DecodeOptions(batch_size=8))[1])
    assert len(calls) == 2


def test_closing_the_stream_early_stops_later_parts():
    started, release = threading.Event(), threading.Event()
    yielded = []

    def slow(audio, options):
        def gen():
            for i in range(1000):
                started.set()
                release.wait(1)
                yielded.append(i)
                yield Segment(id=i, start=i, end=i + 0.5, text=" x")

        return TranscriptInfo("en", 1.0, len(audio) / SAMPLE_RATE), gen()

    with ThreadPoolExecutor(2) as pool:
        _, segments = in_parts(slow, pool)(np.zeros(200 * SAMPLE_RATE, np.float32), DecodeOptions())
        next(segments)
        started.wait(5)
        segments.close()
        release.set()
    assert len(yielded) < 1000


@pytest.mark.slow
def test_real_model_in_parts_matches_sequential_accuracy(tiny_model_path):
    from whisper_cli.decode.whisper import get_whisper

    audio, rate = sf.read(SAMPLES / "lecture.flac", dtype="float32")
    long = np.concatenate([audio, np.zeros(rate, np.float32), audio, np.zeros(rate, np.float32), audio])
    reference = " ".join([sample_text("lecture")] * 3)
    parallel = get_whisper(tiny_model_path, compute_type="int8", device="cpu", cpu_threads=1, workers=2)
    info, segments = parallel(long, DecodeOptions(language="en", word_timestamps=True))
    segs = list(segments)
    assert info.duration == pytest.approx(len(long) / rate)
    assert wer(reference, " ".join(s.text for s in segs)) <= 0.1
    assert [s.id for s in segs] == list(range(len(segs)))
    ends = [w.end for s in segs for w in s.words]
    assert ends == sorted(ends) and ends[-1] > 140


def test_a_failing_part_raises_in_the_stream_instead_of_hanging():
    calls = []
    lock = threading.Lock()

    def flaky(audio, options):
        with lock:
            calls.append(len(audio))
            if len(calls) == 2:
                raise RuntimeError("decoder failed")
        return TranscriptInfo("en", 1.0, len(audio) / SAMPLE_RATE), iter(
            [Segment(id=0, start=0.0, end=1.0, text=" ok")]
        )

    with ThreadPoolExecutor(2) as pool:
        _, segments = in_parts(flaky, pool)(np.zeros(100 * SAMPLE_RATE, np.float32), DecodeOptions())
        with pytest.raises(RuntimeError, match="decoder failed"):
            list(segments)
    assert len(calls) == 3


def test_later_parts_are_shorter_when_decoders_take_several():
    assert part_weights(2) == [1.0, 1.0]
    weights = part_weights(6)
    assert weights[0] == 2 * weights[-1] and weights == sorted(weights, reverse=True)
    audio = (0.3 * np.random.default_rng(1).standard_normal(240 * SAMPLE_RATE)).astype(np.float32)
    bounds = [0, *cut_points(audio, 6, weights), len(audio)]
    lengths = [(b - a) / SAMPLE_RATE for a, b in pairwise(bounds)]
    assert lengths[0] > 45 and lengths[-1] < 30 and sum(lengths) == 240


def _long_recording(path):
    """217 s of the samples' speech: long enough to be cut into up to seven parts."""
    lecture, rate = sf.read(SAMPLES / "lecture.flac", dtype="float32")
    hello, _ = sf.read(SAMPLES / "hello.wav", dtype="float32")
    gap = np.zeros(rate // 2, np.float32)
    pieces = [lecture, gap, hello, gap, lecture, gap, lecture, gap, hello, gap, lecture]
    sf.write(path, np.concatenate(pieces), rate)
    return path


@pytest.mark.slow
def test_the_text_is_the_same_whatever_the_workers_and_threads(tmp_path):
    """Cut points come from the audio alone: --workers and --cpu-threads change the speed only,
    so a transcript does not depend on the machine's cores (they are not in the ledger's fingerprint)."""
    from tests.conftest import run_cli

    long = _long_recording(tmp_path / "long.flac")
    inputs = [str(long), str(SAMPLES / "lecture.flac")]
    outputs = {}
    for workers, threads in (("1", "2"), ("3", "1"), ("2", "2")):
        out = tmp_path / f"w{workers}t{threads}"
        res = run_cli(
            *inputs,
            "-m",
            "tiny.en",
            "-f",
            "txt,srt",
            "-o",
            str(out),
            "--workers",
            workers,
            "--cpu-threads",
            threads,
        )
        assert res.returncode == 0, res.stderr.decode()
        outputs[workers, threads] = {
            p.name: p.read_bytes() for p in out.iterdir() if not p.name.startswith(".")
        }
    first = outputs["1", "2"]
    assert sorted(first) == ["lecture.srt", "lecture.txt", "long.srt", "long.txt"]
    lecture, hello = sample_text("lecture"), sample_text("hello")
    reference = " ".join([lecture, hello, lecture, lecture, hello, lecture])
    assert wer(reference, first["long.txt"].decode()) <= 0.1
    for config, files in outputs.items():
        assert files == first, f"--workers {config[0]} --cpu-threads {config[1]} wrote other text"
