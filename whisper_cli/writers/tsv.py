"""Tab-separated values: ``start``, ``end`` (integer milliseconds) and ``text``.

Integer milliseconds, as in openai-whisper, so no locale reads a decimal comma; tabs
and newlines in the text become spaces so that every row has three fields. With several
inputs on one stream (``-o -``) a first column, ``file``, names each row's input, and the
header is the stream's, written once (``NAMED_HEADER``), not each input's.
"""

from __future__ import annotations

from typing import TextIO

from whisper_cli.core.transcript import Segment, TranscriptInfo
from whisper_cli.writers.base import WriterOptions
from whisper_cli.writers.text import file_label, one_line
from whisper_cli.writers.timestamps import tsv_timestamp

HEADER = "start\tend\ttext\n"
NAMED_HEADER = "file\tstart\tend\ttext\n"


class TsvWriter:
    """One row per segment, or per word with ``tsv_words`` (segment rows without)."""

    def __init__(self, file: TextIO, options: WriterOptions) -> None:
        self.file = file
        self.options = options
        self._prefix = f"{file_label(options.source)}\t" if options.named else ""

    def start(self, info: TranscriptInfo) -> None:
        """Write the header row (unless the stream's header names the files)."""
        if not self.options.named:
            self.file.write(HEADER)
            self.file.flush()

    def write(self, segment: Segment) -> None:
        """Write the segment's rows and flush; blank segments and words are dropped."""
        if not segment.text.strip():
            return
        words = segment.words if self.options.tsv_words and segment.words else ()
        rows = [(w.start, w.end, text) for w in words if (text := one_line(w.word))]
        if not rows:
            rows = [(segment.start, segment.end, one_line(segment.text))]
        for start, end, text in rows:
            self.file.write(f"{self._prefix}{tsv_timestamp(start)}\t{tsv_timestamp(end)}\t{text}\n")
        self.file.flush()

    def finish(self) -> None:
        """Flush; every row is already written."""
        self.file.flush()
