"""Streaming long recordings in chunks cut at quiet moments."""

from __future__ import annotations

import numpy as np

from whisper_cli.core.transcript import DecodeOptions, Segment, TranscriptInfo
from whisper_cli.decode.chunked import chunks, transcribe_chunks
from whisper_cli.decode.parallel import SAMPLE_RATE


def _blocks(audio: np.ndarray, size: int):
    for i in range(0, len(audio), size):
        yield audio[i : i + size]


def test_chunks_cover_the_stream_exactly_and_cut_in_pauses():
    rng = np.random.default_rng(3)
    audio = (0.2 * rng.standard_normal(250 * SAMPLE_RATE)).astype(np.float32)
    for pause in (97, 203):  # one pause near each 100 s boundary
        audio[pause * SAMPLE_RATE : (pause + 1) * SAMPLE_RATE] = 0
    pieces = list(chunks(_blocks(audio, 12345), 100 * SAMPLE_RATE))
    assert [o for o, _ in pieces] == [sum(len(c) for _, c in pieces[:i]) for i in range(len(pieces))]
    assert np.array_equal(np.concatenate([c for _, c in pieces]), audio)
    cuts = [o / SAMPLE_RATE for o, _ in pieces[1:]]
    assert 97 <= cuts[0] <= 98 and 203 <= cuts[1] <= 204


def test_short_stream_is_one_chunk():
    audio = np.ones(5 * SAMPLE_RATE, np.float32)
    assert [(o, len(c)) for o, c in chunks(_blocks(audio, 1000), 100 * SAMPLE_RATE)] == [(0, len(audio))]


def test_segments_are_shifted_renumbered_and_language_carried():
    calls = []

    def fake(audio, options):
        calls.append((len(audio), options.language))
        n = len(audio) / SAMPLE_RATE
        segs = [Segment(id=i, start=t, end=t + 1, text=" x") for i, t in enumerate(np.arange(0, n - 1, 20.0))]
        return TranscriptInfo(options.language or "fr", 0.8, n), iter(segs)

    audio = np.zeros(130 * SAMPLE_RATE, np.float32)
    info, segments = transcribe_chunks(fake, _blocks(audio, 4096), DecodeOptions(), 130.0, chunk_seconds=50)
    segs = list(segments)
    assert info.language == "fr" and info.duration == 130.0
    assert [s.id for s in segs] == list(range(len(segs)))
    assert [s.start for s in segs] == sorted(s.start for s in segs) and segs[-1].start > 100
    assert [lang for _, lang in calls] == [None, "fr", "fr"]
    assert sum(n for n, _ in calls) == len(audio)


def test_empty_stream():
    def fake(audio, options):
        return TranscriptInfo("en", 1.0, 0.0), iter(())

    info, segments = transcribe_chunks(fake, iter(()), DecodeOptions(), 0.0)
    assert list(segments) == [] and info.duration == 0.0


def test_long_input_is_streamed_through_the_cli_with_the_real_model(
    cli, tiny_model_path, tmp_path, monkeypatch
):
    """With the thresholds lowered, a 150 s file takes the chunked path end to end."""
    import json

    import soundfile as sf

    from tests.conftest import SAMPLES, sample_text, wer

    monkeypatch.setattr("whisper_cli.batch.work.LONG_SECONDS", 60.0)
    monkeypatch.setattr("whisper_cli.decode.chunked.CHUNK_SECONDS", 55.0)
    chunk_calls = []
    from whisper_cli.batch import work

    real = work.transcribe_chunks
    monkeypatch.setattr(work, "transcribe_chunks", lambda *a, **k: chunk_calls.append(1) or real(*a, **k))
    audio, rate = sf.read(SAMPLES / "lecture.flac", dtype="float32")
    gap = np.zeros(rate, np.float32)
    long = tmp_path / "long.flac"
    sf.write(long, np.concatenate([audio, gap, audio, gap, audio]), rate)
    res = cli(str(long), "-m", tiny_model_path, "-f", "jsonl", "--workers", "1")
    assert res.exit_code == 0, res.stderr
    assert chunk_calls == [1]
    records = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["id"] for r in records] == list(range(len(records)))
    assert [r["start"] for r in records] == sorted(r["start"] for r in records) and records[-1]["end"] > 140
    assert wer(" ".join([sample_text("lecture")] * 3), " ".join(r["text"] for r in records)) <= 0.1
