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

if TYPE_CHECKING:
    from whisper_cli.audio.load import load_audio
    from whisper_cli.core.transcript import DecodeOptions, Segment, Task, TranscribeFn, TranscriptInfo, Word
    from whisper_cli.decode.whisper import get_whisper

# Where each public name lives. Imported on first use: get_whisper and load_audio pull in
# numpy and faster_whisper, and even the dataclasses of transcript.py cost the entry point
# 10 ms before it can catch a Ctrl-C (__main__.py installs the handlers first of all).
_LAZY = {
    "get_whisper": "whisper_cli.decode.whisper",
    "load_audio": "whisper_cli.audio.load",
    **dict.fromkeys(
        ("DecodeOptions", "Segment", "Task", "TranscribeFn", "TranscriptInfo", "Word"),
        "whisper_cli.core.transcript",
    ),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'whisper_cli' has no attribute {name!r}")
