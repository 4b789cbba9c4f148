"""Plain text: one line per segment; with several inputs on one stream, each line starts with its file.

``-o -`` puts every input's text on stdout; then a line is ``FILE:TEXT``, as ``grep -H``
prints its matches, so that lines of inputs decoded at once can be told apart.
"""

from __future__ import annotations

from typing import TextIO

from whisper_cli.core.transcript import Segment, TranscriptInfo
from whisper_cli.writers.base import WriterOptions
from whisper_cli.writers.text import file_label, one_line


class TxtWriter:
    """One line per segment, whitespace collapsed; blank segments are dropped."""

    def __init__(self, file: TextIO, options: WriterOptions) -> None:
        self.file = file
        self.options = options
        self._prefix = f"{file_label(options.source)}:" if options.named else ""

    def start(self, info: TranscriptInfo) -> None:
        """Nothing precedes the text."""

    def write(self, segment: Segment) -> None:
        """Write the segment's text as one line and flush."""
        text = one_line(segment.text)
        if text:
            self.file.write(f"{self._prefix}{text}\n")
            self.file.flush()

    def finish(self) -> None:
        """Flush; every line is already written."""
        self.file.flush()
