"""whisper-cli: fast, pipe-friendly speech transcription on faster-whisper."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "DecodeOptions",
    "Segment",
    "Task",
    "TranscribeFn",
    "TranscriptInfo",
    "Word",
    "__version__",
    "get_whisper",
    "load_audio",
]

from whisper_cli.transcript import DecodeOptions, Segment, Task, TranscribeFn, TranscriptInfo, Word

if TYPE_CHECKING:
    from whisper_cli.audio import load_audio
    from whisper_cli.model import get_whisper


def __getattr__(name: str) -> Any:
    # get_whisper and load_audio pull in numpy/faster_whisper: import them on first use.
    if name == "get_whisper":
        from whisper_cli.model import get_whisper

        return get_whisper
    if name == "load_audio":
        from whisper_cli.audio import load_audio

        return load_audio
    raise AttributeError(f"module 'whisper_cli' has no attribute {name!r}")
