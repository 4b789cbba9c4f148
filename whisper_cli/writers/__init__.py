"""Output formats: a registry of writers, each turning segments into one document."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

from whisper_cli.writers.base import Writer, WriterOptions
from whisper_cli.writers.json import JsonWriter
from whisper_cli.writers.jsonl import JsonlWriter
from whisper_cli.writers.srt import SrtWriter
from whisper_cli.writers.tsv import TsvWriter
from whisper_cli.writers.txt import TxtWriter
from whisper_cli.writers.vtt import VttWriter

__all__ = [
    "FORMATS",
    "WRITERS",
    "Writer",
    "WriterOptions",
    "expand_formats",
    "make_writer",
]

WRITERS: dict[str, type[Writer]] = {
    "txt": TxtWriter,
    "srt": SrtWriter,
    "vtt": VttWriter,
    "tsv": TsvWriter,
    "json": JsonWriter,
    "jsonl": JsonlWriter,
}
FORMATS: tuple[str, ...] = tuple(WRITERS)


def make_writer(fmt: str, file: TextIO, options: WriterOptions) -> Writer:
    """A writer for format ``fmt`` (a key of ``WRITERS``) on ``file``."""
    try:
        writer_class = WRITERS[fmt]
    except KeyError:
        raise ValueError(_unknown(fmt)) from None
    return writer_class(file, options)


def expand_formats(names: Iterable[str]) -> tuple[str, ...]:
    """Format names, comma lists and ``all`` → distinct formats in order of mention."""
    formats: list[str] = []
    for name in names:
        for part in name.split(","):
            fmt = part.strip().lower()
            if not fmt:
                continue
            if fmt != "all" and fmt not in WRITERS:
                raise ValueError(_unknown(part.strip()))
            for each in FORMATS if fmt == "all" else (fmt,):
                if each not in formats:
                    formats.append(each)
    if not formats:
        raise ValueError("no output format given")
    return tuple(formats)


def _unknown(name: str) -> str:
    return f"unknown output format {name!r} (choose from {', '.join(FORMATS)}, all)"
