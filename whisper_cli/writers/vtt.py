"""WebVTT: a ``WEBVTT`` header, ``HH:MM:SS.mmm`` times, escaped cue text.

Karaoke highlighting uses WebVTT's own syntax, one cue per laid-out cue with a
timestamp tag before each later word (``Never <00:00:01.250>drink``); players style
the words already spoken with ``::cue(:past)``. A speaker (--diarize) is a voice span,
``<v SPEAKER_1>…``.
"""

from __future__ import annotations

from whisper_cli.writers.layout import Cue
from whisper_cli.writers.subtitles import SubtitleWriter, render
from whisper_cli.writers.timestamps import vtt_timestamp
from whisper_cli.writers.timing import word_marks

_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})


class VttWriter(SubtitleWriter):
    """WebVTT cues; karaoke highlighting is inline timestamp tags."""

    header = "WEBVTT\n\n"

    def write_cue(self, cue: Cue, *, highlight: bool) -> None:
        """Write one cue, with a timestamp tag before each word when highlighting."""
        marks = word_marks(cue) if highlight else [None] * len(cue.units)

        def decorate(index: int, body: str) -> str:
            mark = marks[index]
            tag = "" if mark is None else f"<{vtt_timestamp(mark / 1000)}>"
            return tag + escape(body)

        self.write_block(cue.start, cue.end, render(cue, decorate))

    def labelled(self, text: str, speaker: str) -> str:
        """The cue text in its speaker's voice span: ``<v SPEAKER_1>…``."""
        return f"<v {speaker}>{text}"

    def format_block(self, index: int, start: float, end: float, text: str) -> str:
        """One WebVTT cue and its blank line."""
        return f"{vtt_timestamp(start)} --> {vtt_timestamp(end)}\n{text}\n\n"


def escape(text: str) -> str:
    """Escape the characters WebVTT cue text reserves: ``&``, ``<`` and ``>``."""
    return text.translate(_ESCAPES)
