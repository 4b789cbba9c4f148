"""The fix to faster-whisper's decoding loop: a window whose tokens end at its start is passed over."""

from __future__ import annotations

from faster_whisper import WhisperModel
from faster_whisper.tokenizer import Tokenizer

from whisper_cli.decode.engine import whisper_model_class


def test_a_window_that_ends_where_it_began_is_passed_over(tiny_model_path):
    model = whisper_model_class()(tiny_model_path, device="cpu", compute_type="int8", cpu_threads=1)
    tokenizer = Tokenizer(model.hf_tokenizer, False, task="transcribe", language="en")
    zero = tokenizer.timestamp_begin
    text = tokenizer.encode(" the the the")
    for tokens in ([zero, zero], [zero, zero, *text]):  # the second: cut short by max_new_tokens
        split = {
            "tokenizer": tokenizer,
            "tokens": tokens,
            "time_offset": 0.0,
            "segment_size": 1200,
            "segment_duration": 12.0,
            "seek": 300,
        }
        _, upstream, _ = WhisperModel._split_segments_by_timestamps(model, **split)
        assert upstream == 300  # faster-whisper would decode this window again, for ever
        _, seek, _ = model._split_segments_by_timestamps(**split)
        assert seek == 1500
    # a window that ends in a later timestamp seeks there, as before
    ends_at_two_seconds = [zero, *text, zero + 100, zero + 100, *text]
    _, seek, _ = model._split_segments_by_timestamps(**(split | {"tokens": ends_at_two_seconds}))
    assert seek == 300 + 200
