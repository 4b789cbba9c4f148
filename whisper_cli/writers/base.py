"""The writer protocol and the options every writer receives."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, TextIO

from whisper_cli.core.transcript import Segment, TranscriptInfo


@dataclass(frozen=True, slots=True)
class WriterOptions:
    """Format settings; writers never read CLI settings directly."""

    max_line_width: int | None = None  # characters per subtitle line
    max_line_count: int | None = None  # lines per subtitle cue
    max_words_per_line: int | None = None
    max_cue_duration: float | None = None  # seconds
    min_cue_duration: float | None = None  # seconds
    highlight_words: bool = False  # karaoke cues (needs word timestamps)
    tsv_words: bool = False  # one TSV row per word instead of per segment
    speakers: bool = False  # --diarize: json, jsonl and tsv carry a speaker field even when none is known
    source: str = ""  # the input's name, for formats whose records name their file (jsonl)
    named: bool = False  # several inputs share one stream (-o -): txt and tsv lines name their file too
    sentences: bool = False  # txt (--live): a line per sentence, its words written as they come


class Writer(Protocol):
    """Turns a stream of segments into one document on a text stream.

    ``start`` gets the info known before decoding, ``write`` each segment as it is
    decoded (and must flush, so pipes see it at once), ``finish`` closes the document.
    Writers never open files, read CLI settings or import rich.
    """

    def __init__(self, file: TextIO, options: WriterOptions) -> None: ...

    def start(self, info: TranscriptInfo) -> None: ...

    def write(self, segment: Segment) -> None: ...

    def finish(self) -> None: ...
