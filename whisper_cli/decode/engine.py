"""faster-whisper's WhisperModel, with the one fix to its decoding loop that we depend on."""

from __future__ import annotations

import functools
from typing import Any


@functools.cache
def whisper_model_class() -> type:
    """A WhisperModel whose decoding loop always moves on (faster_whisper is imported here)."""
    from faster_whisper import WhisperModel

    class SteadyWhisperModel(WhisperModel):  # type: ignore[misc]
        """WhisperModel whose seek always advances past a window it has decoded.

        After each 30 s window faster-whisper seeks to the window's last timestamp token
        when the text does not end in a lone timestamp. When that timestamp is the
        window's first (tokens ``<|0.00|><|0.00|>``, or text cut short by
        ``max_new_tokens`` after ``<|0.00|><|0.00|>``), the seek stays where it was,
        the same window is decoded again with the same result, and the loop never ends:
        a live test hung 20 minutes on a 12 s window of samples/lecture.flac. openai-whisper
        has the same arithmetic. Here a window that gets no further is passed over as a
        window ending in a lone timestamp is: its text (if any) is kept, the seek moves
        to the window's end.

        Text decoded without timestamp tokens (``without_timestamps``, live's one-pass
        windows) is done with its window too: the engine would seek to its last word's end
        instead, and when that end rounds to the window's start the same window is decoded
        again forever (a live run hung on lecture.flac at 3x real time, 79 passes).
        """

        def _split_segments_by_timestamps(self, *args: Any, **kwargs: Any) -> Any:
            segments, seek, single_ending = super()._split_segments_by_timestamps(*args, **kwargs)
            before, size = kwargs.get("seek"), kwargs.get("segment_size")
            if before is not None and size and seek <= before:
                seek = before + size
            tokens, tokenizer = kwargs.get("tokens"), kwargs.get("tokenizer")
            stamped = tokenizer is None or any(token >= tokenizer.timestamp_begin for token in tokens or ())
            if tokens is not None and not stamped and before is not None and size:
                return segments, before + size, True  # no timestamps: nothing to seek back to
            return segments, seek, single_ending

    return SteadyWhisperModel
