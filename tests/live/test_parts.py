"""The live pipeline's parts on their own: the bounded buffer, the reader thread, the hypothesis line."""

from __future__ import annotations

import io
import threading
from dataclasses import replace

import numpy as np
import pytest
from rich.console import Console

from whisper_cli.console import HypothesisLine
from whisper_cli.core.errors import AudioError
from whisper_cli.live.buffer import AudioBuffer, fill


def block(n: int, value: float = 0.0) -> np.ndarray:
    return np.full(n, value, np.float32)


def test_the_buffer_keeps_at_most_its_limit_dropping_the_oldest_and_counting():
    buffer = AudioBuffer(limit=1000)
    for k in range(10):
        buffer.append(block(300, k))
    assert buffer.end == 3000 and buffer.end - buffer.base <= 1000
    assert buffer.dropped == buffer.base == 2100
    assert buffer.read(2900, 3000)[0] == 9.0
    assert len(buffer.read(0, 2100)) == 0  # dropped: gone, not invented


def test_reads_span_blocks_and_release_frees_whole_blocks_only():
    buffer = AudioBuffer(limit=10_000)
    for k in range(4):
        buffer.append(block(100, k))
    assert buffer.read(50, 250).tolist() == [0.0] * 50 + [1.0] * 100 + [2.0] * 50
    buffer.release(150)
    assert buffer.base == 100 and buffer.read(100, 101).tolist() == [1.0]


def test_the_reader_never_waits_for_the_decoder_and_reports_how_the_stream_ended():
    buffer = AudioBuffer(limit=500)

    def broken():
        yield block(400)
        yield block(400)
        raise AudioError("<stdin>", "cannot read (I/O error)")

    thread = threading.Thread(target=fill, args=(buffer, broken()))
    thread.start()
    thread.join(timeout=5)  # nobody reads: the reader still gets to the end
    assert not thread.is_alive() and buffer.closed
    assert isinstance(buffer.error, AudioError) and buffer.dropped == 400
    assert buffer.wait(10**9, timeout=0.01) == (800, True)


def test_a_closed_buffer_takes_no_more_audio():
    buffer = AudioBuffer(limit=1000)
    buffer.append(block(10))
    buffer.close()
    buffer.append(block(10))
    assert buffer.end == 10


def _line(terminal: bool) -> tuple[HypothesisLine, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=terminal, width=40, color_system=None)
    return HypothesisLine(console=console), out


def test_the_hypothesis_line_is_redrawn_in_place_and_cleared_on_a_terminal():
    line, out = _line(terminal=True)
    line.show("the cat [sat] on")
    line.clear()
    written = out.getvalue()
    assert "the cat [sat] on" in written  # no markup eaten
    assert "\x1b[2K" in written and "\n" not in written  # erased in place, never a new line


def test_the_hypothesis_line_shows_the_tail_of_a_long_text():
    line, out = _line(terminal=True)
    line.show("word " * 30 + "latest")
    assert out.getvalue().rstrip().endswith("latest") and "…" in out.getvalue()


def test_no_hypothesis_line_when_stderr_is_not_a_terminal_or_quiet():
    line, out = _line(terminal=False)
    line.show("hidden")
    assert out.getvalue() == ""
    quiet = HypothesisLine(quiet=True, console=Console(file=io.StringIO(), force_terminal=True))
    assert not quiet.enabled


def test_a_decode_writes_no_more_tokens_than_its_budget(tiny_transcribe):
    """The live cap on tokens reaches the real engine: a loop cannot run to the model's limit."""
    from tests.conftest import SAMPLES
    from whisper_cli.audio.load import load_audio
    from whisper_cli.core.transcript import DecodeOptions
    from whisper_cli.live.run import MAX_NEW_TOKENS, token_budget

    audio = load_audio(str(SAMPLES / "lecture.flac"))[: 12 * 16000]
    options = DecodeOptions(language="en", vad=False, level=False, temperature=(0.0,))
    _, free = tiny_transcribe(audio, options)
    _, capped = tiny_transcribe(audio, replace(options, max_new_tokens=6))
    free_tokens = sum(len(s.tokens) for s in free)
    assert free_tokens > 6
    assert sum(len(s.tokens) for s in capped) <= 6
    assert token_budget(0.5) < token_budget(12.0) <= MAX_NEW_TOKENS == token_budget(3600.0)


def test_a_slow_decoder_waits_for_more_audio_between_decodes():
    from whisper_cli.core.transcript import DecodeOptions
    from whisper_cli.live.run import DUTY, MIN_STEP, LiveDecoder

    decoder = LiveDecoder(None, DecodeOptions(), AudioBuffer(16000), None)  # type: ignore[arg-type]
    assert decoder.step() == MIN_STEP  # nothing decoded yet
    decoder.took.extend([0.1, 0.2, 0.1])
    assert decoder.step() == MIN_STEP  # fast: every half second
    decoder.took.extend([1.4, 1.4, 9.0, 1.4])  # slow, with one stray window
    assert decoder.step() == pytest.approx(1.4 / DUTY)  # busy at most DUTY of the time


def test_a_reader_that_runs_out_of_memory_says_so_in_words():
    buffer = AudioBuffer(limit=1000)

    def starving():
        yield block(10)
        raise MemoryError  # its message is empty

    fill(buffer, starving())
    assert isinstance(buffer.error, AudioError) and buffer.end == 10
    assert "memory" in buffer.error.cause and "()" not in str(buffer.error), buffer.error
