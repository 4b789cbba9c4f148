"""JSON Lines: one object per segment, written and flushed as each one arrives.

Every record names its input (``file``), so the records of a batch can share stdout;
with --diarize each record and word has a ``speaker``.
"""

from __future__ import annotations

from typing import Any, TextIO

from whisper_cli.core.transcript import Segment, TranscriptInfo
from whisper_cli.writers.base import WriterOptions
from whisper_cli.writers.json import dumps, number, seconds, word_dict


class JsonlWriter:
    """``{"file", "id", "start", "end", "text", …, "language"}`` per segment."""

    def __init__(self, file: TextIO, options: WriterOptions) -> None:
        self.file = file
        self.options = options
        self._language: str | None = None

    def start(self, info: TranscriptInfo) -> None:
        """Keep the language for every record."""
        self._language = info.language

    def write(self, segment: Segment) -> None:
        """Write the segment's record and flush; blank segments are dropped."""
        text = segment.text.strip()
        if not text:
            return
        record: dict[str, Any] = {
            "file": self.options.source,
            "id": segment.id,
            "start": seconds(segment.start),
            "end": seconds(segment.end),
            "text": text,
            **({"speaker": segment.speaker} if self.options.speakers else {}),
            "avg_logprob": number(segment.avg_logprob),
            "no_speech_prob": number(segment.no_speech_prob),
        }
        if segment.words is not None:
            record["words"] = [word_dict(word, speakers=self.options.speakers) for word in segment.words]
        record["language"] = self._language
        self.file.write(dumps(record) + "\n")
        self.file.flush()

    def finish(self) -> None:
        """Flush; every record is already written."""
        self.file.flush()
