"""What SRT and VTT share: layout, timing state across segments, streaming output."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, TextIO

from whisper_cli.core.transcript import Segment, TranscriptInfo
from whisper_cli.writers.base import WriterOptions
from whisper_cli.writers.layout import Cue, layout_segment
from whisper_cli.writers.text import no_arrow
from whisper_cli.writers.timing import karaoke_spans, place_cues
from whisper_cli.writers.units import has_words


def render(cue: Cue, decorate: Callable[[int, str], str]) -> str:
    """The cue text with each unit's text (no leading space) passed through ``decorate``."""
    lines: list[str] = []
    index = 0
    for line in cue.lines:
        parts: list[str] = []
        for unit in line:
            body = unit.text.lstrip()
            space = " " if parts and unit.text[:1] == " " else ""
            parts.append(space + decorate(index, body))
            index += 1
        lines.append("".join(parts))
    return "\n".join(lines)


class SubtitleWriter:
    """Lays each segment out into cues and writes them at once; subclasses format them.

    Like openai-whisper's ``SubtitlesWriter``, SRT and VTT differ only in the header
    and in how a cue block looks. Cues never overlap and never run backwards, across
    segments too, because the end of the last cue written is kept. ``highlight_words``
    gives karaoke cues: by default one cue per word span, the word in ``<u>…</u>``.
    A labelled segment's cues each carry its speaker (``labelled``); a segment is one
    speaker's, so no cue spans two.
    """

    header: ClassVar[str] = ""

    def __init__(self, file: TextIO, options: WriterOptions) -> None:
        self.file = file
        self.options = options
        self._last_end = 0.0
        self._count = 0
        self._speaker: str | None = None  # of the segment being written

    def start(self, info: TranscriptInfo) -> None:
        """Write the header, if the format has one."""
        if self.header:
            self.file.write(self.header)
            self.file.flush()

    def write(self, segment: Segment) -> None:
        """Write the segment's cues and flush; blank segments write nothing."""
        if not segment.text.strip():
            return
        cues = place_cues(
            layout_segment(segment, self.options),
            not_before=self._last_end,
            min_duration=self.options.min_cue_duration,
        )
        if not cues:
            return
        self._last_end = cues[-1].end
        self._speaker = segment.speaker
        highlight = self.options.highlight_words and has_words(segment)
        for cue in cues:
            self.write_cue(cue, highlight=highlight)
        self.file.flush()

    def finish(self) -> None:
        """Flush; every cue is already written."""
        self.file.flush()

    def write_cue(self, cue: Cue, *, highlight: bool) -> None:
        """Write one laid-out cue: plain, or one cue per word span with it underlined."""
        if not highlight:
            self.write_block(cue.start, cue.end, cue.text)
            return
        for start, end, current in karaoke_spans(cue):
            self.write_block(start / 1000, end / 1000, render(cue, _underline(current)))

    def write_block(self, start: float, end: float, text: str) -> None:
        """Write one numbered cue block."""
        self._count += 1
        text = no_arrow(text)
        if self._speaker is not None:
            text = self.labelled(text, self._speaker)
        self.file.write(self.format_block(self._count, start, end, text))

    def labelled(self, text: str, speaker: str) -> str:
        """The cue text with its speaker's label: ``SPEAKER_1: …`` (VTT uses a voice tag)."""
        return f"{speaker}: {text}"

    def format_block(self, index: int, start: float, end: float, text: str) -> str:
        """One cue block, ending with its blank line."""
        raise NotImplementedError


def _underline(current: int | None) -> Callable[[int, str], str]:
    """A ``render`` decoration that underlines unit ``current`` (None: no unit)."""

    def decorate(index: int, body: str) -> str:
        return f"<u>{body}</u>" if index == current else body

    return decorate
