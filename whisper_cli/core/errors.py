"""Exit codes and the exceptions that map onto them."""

from __future__ import annotations

from enum import IntEnum, unique
from typing import ClassVar


@unique
class ExitCode(IntEnum):
    """The process exit statuses; each has a test."""

    OK = 0  # every input transcribed (an empty transcript of silence counts)
    FAILED = 1  # some inputs failed, the rest were done; also a broken pipe
    USAGE = 2  # bad option or combination, missing path, no audio found, output collision
    MODEL = 3  # the model could not be loaded; nothing was transcribed
    HANGUP = 129  # SIGHUP: the terminal went away (128 + SIGHUP)
    INTERRUPTED = 130  # Ctrl-C or SIGTERM (128 + SIGINT)


class WhisperCliError(Exception):
    """An expected failure: shown as one line, never as a traceback."""

    exit_code: ClassVar[ExitCode] = ExitCode.FAILED  # the status of a run it ends


class AudioError(WhisperCliError):
    """An input could not be read or decoded."""

    def __init__(self, path: str, cause: str) -> None:
        super().__init__(f"{path}: {cause}")
        self.path = path
        self.cause = cause


class ModelLoadError(WhisperCliError):
    """The model is unknown, unavailable offline, or cannot run on the device."""

    exit_code: ClassVar[ExitCode] = ExitCode.MODEL


class OutputError(WhisperCliError):
    """An output file could not be written."""


class UsageError(WhisperCliError):
    """A bad combination of inputs or options, found before any model loads."""

    exit_code: ClassVar[ExitCode] = ExitCode.USAGE


def first_line(exc: BaseException) -> str:
    """An exception's message cut to its first line, for one-line errors (its type when it has none)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
