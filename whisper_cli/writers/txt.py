"""Plain text: one line per segment; with several inputs on one stream, each line starts with its
file; with speakers (--diarize), one line per turn, ``SPEAKER_1: …``; live, one line per sentence.

``-o -`` puts every input's text on stdout; then a line is ``FILE:TEXT``, as ``grep -H``
prints its matches, so that lines of inputs decoded at once can be told apart (and a
labelled line is ``FILE:SPEAKER_1: TEXT``, one per segment: a line is never left open
where another input's may come).
"""

from __future__ import annotations

import re
from typing import TextIO

from whisper_cli.core.transcript import Segment, TranscriptInfo
from whisper_cli.writers.base import WriterOptions
from whisper_cli.writers.text import file_label, one_line

SENTENCE_ENDS = (".", "?", "!", "…", "。", "？", "！")
# A sentence ends inside a segment at ". " before a capital, unless the word is a short
# capitalised abbreviation ("Mr. Quilter", "St. Louis").
_INSIDE = re.compile(r"(?<=[.?!…])\s+(?=[A-Z])")
_ABBREVIATION = re.compile(r"(?:^|\s)[A-Z][a-z]{0,2}\.$")
LONGEST_LINE = 120  # characters: a live line without a sentence end is ended at the next segment past this


class TxtWriter:
    """One line per segment, whitespace collapsed; blank segments are dropped.

    Labelled segments (--diarize) are joined into one line per speaker turn, which starts
    with the label; the line is written as each segment comes and ended at the next
    change of speaker (or at the end). Live (``sentences``), segments are a few words
    each, committed as they are heard: they are joined into one line per sentence,
    written as they come and ended after a segment that ends a sentence (or one that
    takes the line past LONGEST_LINE characters), so a file or a ``grep`` gets sentences,
    not "before / printing / every book was", and a terminal still sees every word at once.
    """

    def __init__(self, file: TextIO, options: WriterOptions) -> None:
        self.file = file
        self.options = options
        self._prefix = f"{file_label(options.source)}:" if options.named else ""
        self._speaker: str | None = None  # of the line left open, if any
        self._open = 0  # characters of a live line left open

    def start(self, info: TranscriptInfo) -> None:
        """Nothing precedes the text."""

    def write(self, segment: Segment) -> None:
        """Write the segment's text as one line and flush."""
        text = one_line(segment.text)
        if not text:
            return
        if segment.speaker is None and self.options.sentences:
            self._sentence(text)
        elif segment.speaker is None:
            self._end_line()
            self.file.write(f"{self._prefix}{text}\n")
        elif self.options.named:  # other inputs' lines may come between: whole lines only
            self.file.write(f"{self._prefix}{segment.speaker}: {text}\n")
        elif segment.speaker == self._speaker:
            self.file.write(" " + text)  # the same speaker goes on
        else:
            self._end_line()
            self.file.write(f"{segment.speaker}: {text}")
            self._speaker = segment.speaker
        self.file.flush()

    def _sentence(self, text: str) -> None:
        for part in _sentences(text):
            self.file.write(f" {part}" if self._open else f"{self._prefix}{part}")
            self._open += len(part) + 1
            if part.endswith(SENTENCE_ENDS) or self._open > LONGEST_LINE:
                self.file.write("\n")
                self._open = 0

    def finish(self) -> None:
        """End the open line, if any, and flush; every line is already written."""
        self._end_line()
        self.file.flush()

    def _end_line(self) -> None:
        if self._open:
            self.file.write("\n")
            self._open = 0
        if self._speaker is not None:
            self.file.write("\n")
            self._speaker = None


def ends_sentence(word: str) -> bool:
    """Whether a word ends a sentence: "end." but not "Mr." or "St."."""
    word = word.rstrip()
    return word.endswith(SENTENCE_ENDS) and not _ABBREVIATION.search(word)


def _sentences(text: str) -> list[str]:
    """``text`` cut after each sentence that ends inside it."""
    parts, at = [], 0
    for match in _INSIDE.finditer(text):
        if not _ABBREVIATION.search(text[at : match.start()]):
            parts.append(text[at : match.start()])
            at = match.end()
    return [*parts, text[at:]]
