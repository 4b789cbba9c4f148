"""What live mode prints: committed segments on stdout in the chosen format, the hypothesis on stderr."""

from __future__ import annotations

import sys
from dataclasses import replace

from whisper_cli.console import HypothesisLine
from whisper_cli.core.transcript import Segment, TranscriptInfo, Word
from whisper_cli.settings import RunSettings
from whisper_cli.writers import Writer, WriterOptions, make_writer


class LiveOutput:
    """Committed segments to stdout through the format's writer; the hypothesis to stderr."""

    def __init__(self, settings: RunSettings, name: str) -> None:
        options: WriterOptions = replace(settings.writer, source=name, sentences=True)
        self.writer: Writer = make_writer(settings.formats[0], sys.stdout, options)
        self.words = settings.decode.word_timestamps
        self.line = HypothesisLine(quiet=settings.quiet)
        self.count = 0
        self._started = False

    def commit(self, segments: tuple[Segment, ...], language: str | None) -> None:
        """Print each segment once, numbered in order of the stream."""
        if not segments:
            return
        self.line.clear()
        self._start(language)
        for segment in segments:
            self.writer.write(replace(segment, id=self.count, words=segment.words if self.words else None))
            self.count += 1

    def pending(self, words: tuple[Word, ...]) -> None:
        """Show the words not committed yet (on a terminal's stderr only)."""
        self.line.show("".join(w.word for w in words))

    def finish(self, language: str | None) -> None:
        """End the document (json is written here) and clear the hypothesis line."""
        self.line.clear()
        self._start(language)
        self.writer.finish()

    def _start(self, language: str | None) -> None:
        if not self._started:
            self.writer.start(TranscriptInfo(language or "", 1.0, 0.0))
            self._started = True
