"""The records of a run: each job (an input, where its outputs go), what became of it, the result."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path

from whisper_cli.batch.inputs import Input
from whisper_cli.core.errors import WhisperCliError


class Status(str, Enum):
    """What became of one input."""

    done = "done"
    skipped = "skipped"  # outputs whisper-cli wrote, unchanged, from this input with these settings
    failed = "failed"
    interrupted = "interrupted"  # was being transcribed when the run stopped
    pending = "pending"  # not reached before the run stopped


@dataclass(frozen=True, slots=True)
class Job:
    """One input and where its outputs go (``targets`` None: the one format to stdout).

    ``targets`` are the planned names; the runner's ``decide`` may move an output off a
    name that a file whisper-cli did not write holds (resume.py).
    """

    input: Input
    formats: tuple[str, ...]
    targets: dict[str, Path] | None


@dataclass(frozen=True, slots=True)
class Outcome:
    """The record of one input, as the summary and the --report file show it."""

    input: Input
    status: Status
    outputs: tuple[str, ...] = ()
    duration: float | None = None  # audio seconds
    language: str | None = None
    error: str | None = None
    seconds: float = 0.0  # wall time spent on it
    reason: str | None = None  # why it was transcribed (new, settings changed, …); None when it was not
    node: str | None = None  # the Ray node that transcribed it (--ray); None on this machine
    speakers: int | None = None  # speakers labelled in its transcript (--diarize); None without


@dataclass(slots=True)
class BatchResult:
    """All outcomes, in input order, and the run's wall time."""

    outcomes: list[Outcome] = field(default_factory=list)
    wall: float = 0.0
    interrupted: bool = False
    stopped_by: str | None = None  # SIGINT, SIGTERM, SIGHUP, "stdout closed", "model not loaded"
    fatal: WhisperCliError | None = None  # what stopped the whole run (a model that cannot load)

    def count(self, status: Status) -> int:
        """How many inputs ended with ``status``."""
        return sum(1 for o in self.outcomes if o.status is status)

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio transcribed in this run."""
        return sum(o.duration or 0.0 for o in self.outcomes if o.status is Status.done)
