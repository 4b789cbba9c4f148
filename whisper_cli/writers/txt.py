"""Plain text: one line per segment."""

from __future__ import annotations

from typing import TextIO

from whisper_cli.core.transcript import Segment, TranscriptInfo
from whisper_cli.writers.base import WriterOptions
from whisper_cli.writers.text import one_line


class TxtWriter:
    """One line per segment, whitespace collapsed; blank segments are dropped."""

    def __init__(self, file: TextIO, options: WriterOptions) -> None:
        self.file = file
        self.options = options

    def start(self, info: TranscriptInfo) -> None:
        """Nothing precedes the text."""

    def write(self, segment: Segment) -> None:
        """Write the segment's text as one line and flush."""
        text = one_line(segment.text)
        if text:
            self.file.write(text + "\n")
            self.file.flush()

    def finish(self) -> None:
        """Flush; every line is already written."""
        self.file.flush()
