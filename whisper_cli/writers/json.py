"""JSON: one document in the shape of openai-whisper's ``--output_format json``.

The only format that buffers: the document is written at ``finish``. Times are
rounded to milliseconds; non-ASCII text is written as UTF-8, not ``\\u`` escapes.
With --diarize, each segment and word has a ``speaker`` and the document a ``speakers``
list; openai-whisper's own writers still read it (they ignore the extra keys).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, TextIO

from whisper_cli.core.transcript import Segment, TranscriptInfo, Word
from whisper_cli.writers.base import WriterOptions


def seconds(value: float) -> float:
    """A time for JSON: seconds rounded to whole milliseconds."""
    return round(float(value), 3)


def number(value: float) -> float | None:
    """A float for JSON; NaN and infinities (not valid JSON) become null."""
    value = float(value)
    return value if math.isfinite(value) else None


def dumps(value: Any) -> str:
    """JSON on one line, UTF-8 as is, but U+2028/U+2029 escaped (some readers end lines there)
    and so are lone surrogates (a file name that is not UTF-8, ``\\udce9`` as in --report)."""
    text = json.dumps(value, ensure_ascii=False)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


_SURROGATE = re.compile("[\ud800-\udfff]")


def word_dict(word: Word, *, speakers: bool = False) -> dict[str, Any]:
    """One word as openai-whisper writes it; with ``speakers``, its ``speaker`` too."""
    record: dict[str, Any] = {
        "start": seconds(word.start),
        "end": seconds(word.end),
        "word": word.word,
        "probability": number(word.probability),
    }
    if speakers:
        record["speaker"] = word.speaker
    return record


def segment_dict(segment: Segment, *, speakers: bool = False) -> dict[str, Any]:
    """One segment with openai-whisper's field names; ``words`` only when present; with
    ``speakers`` (--diarize), its ``speaker`` and each word's."""
    record: dict[str, Any] = {
        "id": segment.id,
        "seek": segment.seek,
        "start": seconds(segment.start),
        "end": seconds(segment.end),
        "text": segment.text,
        "tokens": list(segment.tokens),
        "temperature": number(segment.temperature),
        "avg_logprob": number(segment.avg_logprob),
        "compression_ratio": number(segment.compression_ratio),
        "no_speech_prob": number(segment.no_speech_prob),
    }
    if speakers:
        record["speaker"] = segment.speaker
    if segment.words is not None:
        record["words"] = [word_dict(word, speakers=speakers) for word in segment.words]
    return record


class JsonWriter:
    """Collects segments and writes ``{"text", "segments", "language", …}`` at the end."""

    def __init__(self, file: TextIO, options: WriterOptions) -> None:
        self.file = file
        self.options = options
        self._info: TranscriptInfo | None = None
        self._segments: list[Segment] = []

    def start(self, info: TranscriptInfo) -> None:
        """Keep the info for the document's language fields."""
        self._info = info

    def write(self, segment: Segment) -> None:
        """Keep the segment (blank ones are dropped; ids are kept as they are)."""
        if segment.text.strip():
            self._segments.append(segment)

    def finish(self) -> None:
        """Write the whole document on one line and flush."""
        info = self._info
        speakers = self.options.speakers
        document: dict[str, Any] = {
            "text": "".join(segment.text for segment in self._segments),
            "segments": [segment_dict(segment, speakers=speakers) for segment in self._segments],
            "language": info.language if info else None,
            "language_probability": number(info.language_probability) if info else None,
            "duration": seconds(info.duration) if info else None,
        }
        if speakers:  # in order of first appearance
            document["speakers"] = list(dict.fromkeys(s.speaker for s in self._segments if s.speaker))
        self.file.write(dumps(document) + "\n")
        self.file.flush()
