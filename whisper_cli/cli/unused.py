"""Options given that change nothing in this run: one warning line each, before any work."""

from __future__ import annotations

import logging
from dataclasses import fields

from whisper_cli.settings import RunSettings
from whisper_cli.writers import WriterOptions

log = logging.getLogger(__name__)

# The writer options that shape some formats only, and those formats.
_SHAPES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(
        (
            "max_line_width",
            "max_line_count",
            "max_words_per_line",
            "max_cue_duration",
            "min_cue_duration",
            "highlight_words",
        ),
        ("srt", "vtt"),
    ),
    "tsv_words": ("tsv",),
}


def unused_options(settings: RunSettings) -> list[str]:
    """What to say of each option given that does nothing with these settings."""
    defaults = WriterOptions()
    notes = []
    formats = ",".join(settings.formats)
    for field in fields(WriterOptions):
        shaped = _SHAPES.get(field.name)
        given = getattr(settings.writer, field.name) != getattr(defaults, field.name)
        if shaped and given and not set(shaped) & set(settings.formats):
            option = "--" + field.name.replace("_", "-")
            notes.append(f"{option} does nothing with -f {formats}: it shapes {' and '.join(shaped)} only")
    if settings.overwrite and settings.stream:
        notes.append("--overwrite does nothing with -o -: nothing is written to disk")
    return notes


def warn_unused(settings: RunSettings) -> None:
    """Log a warning for each option given that does nothing in this run."""
    for note in unused_options(settings):
        log.warning("%s", note)
