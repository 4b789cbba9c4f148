"""SubRip (SRT): numbered cues, ``HH:MM:SS,mmm`` times, a blank line after each cue.

SRT has no speaker markup: a speaker (--diarize) starts the cue text, ``SPEAKER_1: …``, as
the text shown, the way subtitles for the hard of hearing name a speaker.
"""

from __future__ import annotations

from whisper_cli.writers.subtitles import SubtitleWriter
from whisper_cli.writers.timestamps import srt_timestamp


class SrtWriter(SubtitleWriter):
    """SRT cues numbered from 1; karaoke highlighting is one cue per word span."""

    def format_block(self, index: int, start: float, end: float, text: str) -> str:
        """One numbered SRT cue and its blank line."""
        return f"{index}\n{srt_timestamp(start)} --> {srt_timestamp(end)}\n{text}\n\n"
