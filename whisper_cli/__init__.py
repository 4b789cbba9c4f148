"""whisper-cli: fast, pipe-friendly speech transcription on faster-whisper."""

from __future__ import annotations

import sys

_early_signals: list[int] = []  # stop signals that came before core/signals.py took over (the CLI only)


def _record_early_signal(signum: int, frame: object) -> None:
    _early_signals.append(signum)


# The CLI's stop signals are recorded from here on, before anything else is imported (the
# interpreter's own _signal module is loaded already), and with no call of ours before
# (a signal is handled between any two of them); __main__ hands them to core/signals.py.
# The CLI is `whisper-cli` or `whisper-ct2-cli` (its scripts' names) or `python -m
# whisper_cli` (argv[0] is "-m" while the package is imported); a program that imports
# whisper_cli keeps its handlers.
_script = sys.argv[0].replace("\\", "/").rsplit("/", 1)[-1] if sys.argv else ""
_flags = getattr(sys, "orig_argv", [])
_as_module = _script == "-m" and "-m" in _flags and _flags[_flags.index("-m") + 1 :][:1] == ["whisper_cli"]
if _as_module or _script.startswith(("whisper-cli", "whisper-ct2-cli")):
    import _signal

    for _name in ("SIGINT", "SIGTERM", "SIGHUP"):
        _signum = getattr(_signal, _name, None)
        if _signum is not None and _signal.getsignal(_signum) is not _signal.SIG_IGN:
            _signal.signal(_signum, _record_early_signal)


def early_signals() -> list[int]:
    """The stop signals received before ``core.signals.install`` (none unless this is the CLI): the
    list itself, so one that comes while install runs is still in it when install reads it."""
    return _early_signals


from typing import TYPE_CHECKING, Any  # noqa: E402

__version__ = "0.1.0"


def program_name() -> str:
    """The command's name as run: whisper-cli, or whisper-ct2-cli (the second entry point, for
    machines where whisper.cpp's binary, also called whisper-cli, comes first on PATH)."""
    import os

    return "whisper-ct2-cli" if os.path.basename(sys.argv[0]) == "whisper-ct2-cli" else "whisper-cli"


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
