"""The run's progress on stderr: files done of all, audio done of its total, speed and ETA from audio."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
)
from rich.text import Text

from whisper_cli.console.base import err_console, error_line, warning_line


class _AudioColumn(ProgressColumn):
    """Audio done / total as h:mm:ss; '≥' before a total that leaves out files of unknown length."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text(f"{_clock(task.completed)}/? audio", style="green")
        bound = "≥" if task.fields.get("lower_bound") else ""
        return Text(f"{_clock(task.completed)}/{bound}{_clock(task.total)} audio", style="green")


class _SpeedColumn(ProgressColumn):
    """Audio seconds done per wall second since the task started, as '× real time'."""

    def render(self, task: Task) -> Text:
        speed = _speed(task)
        return Text(f"{speed:5.1f}× real time" if speed else "", style="cyan")


class _EtaColumn(ProgressColumn):
    """Audio still to do over the speed so far; '≥' when the total is a lower bound."""

    def render(self, task: Task) -> Text:
        speed = _speed(task)
        if not speed or task.total is None:
            return Text("", style="yellow")
        bound = "≥" if task.fields.get("lower_bound") else ""
        return Text(f"ETA {bound}{_clock(max(task.total - task.completed, 0.0) / speed)}", style="yellow")


def _speed(task: Task) -> float:
    """Audio seconds per wall second; 0.0 until there is something to divide."""
    elapsed = task.elapsed
    return task.completed / elapsed if elapsed and task.completed > 0 else 0.0


def _clock(seconds: float) -> str:
    # always h:mm:ss: "0:43" could be read as minutes or seconds, and widths stay put
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"


@dataclass(slots=True)
class _Tally:
    """A batch's totals: files ended of all, audio done of the audio known to do.

    Running sums, so that 10,000 lengths arriving one by one cost no more than 10,000 additions.
    A file that ends counts what it got through: all of it when it succeeded, less (or
    nothing) when it failed, which then leaves the total too.
    """

    files: int
    ended: int = 0
    known: int = 0  # files of known length, ended ones included
    finished: float = 0.0  # audio seconds the ended files got through
    pending: float = 0.0  # known lengths of the files not yet ended
    running: float = 0.0  # how far the started, unended files have got
    lengths: dict[str, float] = field(default_factory=dict)
    positions: dict[str, float] = field(default_factory=dict)
    gone: set[str] = field(default_factory=set)

    def expect(self, key: str, seconds: float | None) -> None:
        """``key`` holds ``seconds`` of audio, by its header (None: it does not say)."""
        if seconds is None or key in self.lengths or key in self.gone:
            return  # a started file's decoded length is the better figure
        self._length(key, seconds)

    def start(self, key: str, seconds: float) -> None:
        """``key`` starts; ``seconds`` is its decoded length."""
        self._length(key, seconds)
        self.positions[key] = 0.0

    def advance(self, key: str, seconds: float) -> None:
        """``key`` is done up to ``seconds`` (never less than it was)."""
        if key in self.positions and seconds > self.positions[key]:
            self.running += seconds - self.positions[key]
            self.positions[key] = seconds

    def end(self, key: str) -> None:
        """``key`` is finished with, whatever became of it."""
        self.ended += 1
        self.gone.add(key)
        reached = self.positions.pop(key, 0.0)
        self.running -= reached
        self.finished += reached
        if key in self.lengths:
            self.pending -= self.lengths.pop(key)
        else:
            self.known += 1  # its length no longer matters: it adds what it reached, maybe nothing

    @property
    def done(self) -> float:
        """Audio seconds transcribed so far."""
        return max(self.finished + self.running, 0.0)

    @property
    def total(self) -> float | None:
        """Audio seconds to transcribe, as far as known; None while no length is known."""
        return max(self.finished + self.pending, 0.0) if self.known else None

    def _length(self, key: str, seconds: float) -> None:
        if key in self.lengths:
            self.pending -= self.lengths[key]
        else:
            self.known += 1
        self.lengths[key] = max(seconds, 0.0)
        self.pending += self.lengths[key]


class Reporter:
    """Progress and per-file messages for a run; safe to call from worker threads.

    With several files, the first line counts files ended of all and audio done of the
    total; each file being transcribed has a line of its own, from start_file to end_file.
    """

    def __init__(
        self,
        *,
        quiet: bool = False,
        console: Console | None = None,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.console = console or err_console
        self.quiet = quiet
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._overall: TaskID | None = None
        self._tally: _Tally | None = None
        self._files: dict[str, TaskID] = {}
        self._at: dict[str, float] = {}  # how far each file's line is: it never moves back
        if not quiet and self.console.is_terminal:
            self._progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                _AudioColumn(),
                _SpeedColumn(),
                _EtaColumn(),
                console=self.console,
                transient=True,
                redirect_stdout=False,  # transcript text on stdout must stay on stdout
                redirect_stderr=False,
                get_time=clock,
            )

    def __enter__(self) -> Reporter:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, typ: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def start_batch(self, files: int) -> None:
        """Show the overall line when there is more than one file."""
        if self._progress is not None and files > 1:
            self._tally = _Tally(files)
            # its clock starts with the first file: loading the model is no part of the speed
            self._overall = self._progress.add_task(f"0/{files} files", total=None, start=False)
            self._show_tally()

    @property
    def wants_lengths(self) -> bool:
        """Whether the overall line would show the inputs' lengths, given with ``expect``."""
        return self._tally is not None

    def expect(self, key: str, seconds: float | None) -> None:
        """The file ``key`` holds ``seconds`` of audio, from its header (None: unknown)."""
        if self._tally is not None:
            with self._lock:
                self._tally.expect(key, seconds)
                self._show_tally()

    def start_file(self, key: str, name: str, duration: float) -> None:
        """Show a line for one file, in audio seconds; ``duration`` is its decoded length.
        A file shown already (a --ray recording whose parts came back first) keeps its line."""
        if self._progress is None:
            return
        with self._lock:
            if key in self._files:
                self._progress.update(self._files[key], total=max(duration, 0.01))
                return
            self._files[key] = self._progress.add_task(_short(name), total=max(duration, 0.01))
            if self._tally is not None and self._overall is not None:
                self._tally.start(key, duration)
                self._progress.start_task(self._overall)  # no-op once started
                self._show_tally()

    def advance(self, key: str, seconds: float) -> None:
        """The file ``key`` is transcribed up to ``seconds`` of its audio."""
        if self._progress is None:
            return
        with self._lock:
            if key in self._files and seconds > self._at.get(key, 0.0):
                self._at[key] = seconds
                self._progress.update(self._files[key], completed=seconds)
            if self._tally is not None:
                self._tally.advance(key, seconds)
                self._show_tally()

    def end_file(self, key: str) -> None:
        """Remove the file's line (if it had one) and count it on the overall line."""
        if self._progress is None:
            return
        with self._lock:
            task = self._files.pop(key, None)
            self._at.pop(key, None)
            if task is not None:
                self._progress.remove_task(task)
            if self._tally is not None:
                self._tally.end(key)
                self._show_tally()

    def _show_tally(self) -> None:
        tally = self._tally
        if self._progress is None or self._overall is None or tally is None:
            return
        self._progress.update(
            self._overall,
            description=f"{tally.ended}/{tally.files} files",
            completed=tally.done,
            total=tally.total,  # None (unknown yet) leaves it as it was: None
            lower_bound=tally.known < tally.files,
        )

    def failed(self, message: str) -> None:
        """One error line for a failed input, as it happens (shown even with --quiet)."""
        with self._lock:
            error_line(message)

    def warning(self, message: str) -> None:
        """One warning line, as it happens (unless --quiet)."""
        if not self.quiet:
            with self._lock:
                warning_line(message)

    def line(self, text: str) -> None:
        """A line the user asked for (--print-times), above the bar; shown even with --quiet."""
        with self._lock:
            self.console.print(Text(text), soft_wrap=True)

    def info(self, message: str) -> None:
        """A note for the person at the terminal, unless --quiet."""
        if not self.quiet:
            with self._lock:
                self.console.print(Text(message), soft_wrap=True)


def _short(name: str, width: int = 32) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1) :]
