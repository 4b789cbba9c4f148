"""Everything a person reads: the stderr console, progress bars, messages and the summary.

Nothing here writes to stdout. Bars appear only when stderr is a terminal and the run
is not --quiet; transcript text is never passed through Rich markup.
"""

from __future__ import annotations

import logging
import threading
import time
from types import TracebackType

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

PROGRAM = "whisper-cli"

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def setup_logging(*, verbose: bool, debug: bool, quiet: bool) -> None:
    """Route our logs and faster_whisper's to stderr.

    Ours at INFO (model chosen, language detected) with -v or when a person watches
    stderr, else WARNING; faster_whisper's at INFO only with -v; DEBUG with --debug.
    """
    interactive = err_console.is_terminal
    ours = logging.DEBUG if debug else logging.INFO if verbose or interactive else logging.WARNING
    engine = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    if quiet:
        ours = engine = logging.ERROR
    handler: logging.Handler
    if interactive:
        handler = RichHandler(console=err_console, show_time=debug, show_path=debug, markup=False)
        handler.setFormatter(logging.Formatter("%(message)s"))
    else:  # a log file or pipe: one plain line per message, never wrapped
        handler = logging.StreamHandler()  # resolves sys.stderr at each write
        handler.setFormatter(logging.Formatter(f"{PROGRAM}: %(levelname)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("whisper_cli").setLevel(ours)
    logging.getLogger("faster_whisper").setLevel(engine)


def error_line(message: str) -> None:
    """Print ``whisper-cli: error: <message>`` as one line on stderr, with no markup."""
    text = message.replace("\n", " ").rstrip()  # leading spaces may be a file name's
    err_console.print(Text(f"{PROGRAM}: error: {text}", style="red"), soft_wrap=True)


def warning_line(message: str) -> None:
    """Print ``whisper-cli: warning: <message>`` on stderr."""
    err_console.print(Text(f"{PROGRAM}: warning: {message}", style="yellow"), soft_wrap=True)


def format_duration(seconds: float) -> str:
    """A short human duration: 42.0 s, 3 min 05 s, 2 h 07 min."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, secs = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class _SpeedColumn(ProgressColumn):
    """Audio seconds per wall second, as '× real time'."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        if elapsed <= 0 or not task.completed:
            return Text("", style="cyan")
        return Text(f"{task.completed / elapsed:5.1f}× real time", style="cyan")


class _AudioColumn(ProgressColumn):
    """Audio done / total as m:ss."""

    def render(self, task: Task) -> Text:
        total = task.total or 0.0
        return Text(f"{_clock(task.completed)}/{_clock(total)}", style="green")


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class Reporter:
    """Progress and per-file messages for a run; safe to call from worker threads."""

    def __init__(self, *, quiet: bool = False, console: Console | None = None) -> None:
        self.console = console or err_console
        self.quiet = quiet
        self._lock = threading.Lock()
        self._progress: Progress | None = None
        self._overall: TaskID | None = None
        self._files: dict[str, TaskID] = {}
        self._started = time.monotonic()
        if not quiet and self.console.is_terminal:
            self._progress = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                _AudioColumn(),
                _SpeedColumn(),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
                redirect_stdout=False,  # transcript text on stdout must stay on stdout
                redirect_stderr=False,
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
        """Show the overall bar (files done of ``files``) when there is more than one file."""
        if self._progress is not None and files > 1:
            self._overall = self._progress.add_task(f"{files} files", total=files)

    def start_file(self, key: str, name: str, duration: float) -> None:
        """Show a bar for one file, in audio seconds."""
        if self._progress is not None:
            with self._lock:
                self._files[key] = self._progress.add_task(_short(name), total=max(duration, 0.01))

    def advance(self, key: str, seconds: float) -> None:
        """The file ``key`` is decoded up to ``seconds`` of its audio."""
        if self._progress is not None and key in self._files:
            self._progress.update(self._files[key], completed=seconds)

    def end_file(self, key: str) -> None:
        """Remove the file's bar and count it on the overall bar."""
        if self._progress is None:
            return
        with self._lock:
            task = self._files.pop(key, None)
            if task is not None:
                self._progress.remove_task(task)
            if self._overall is not None:
                self._progress.advance(self._overall)

    def failed(self, message: str) -> None:
        """One error line for a failed input, as it happens (shown even with --quiet)."""
        with self._lock:
            error_line(message)

    def warning(self, message: str) -> None:
        """One warning line, as it happens (unless --quiet)."""
        if not self.quiet:
            with self._lock:
                warning_line(message)

    def info(self, message: str) -> None:
        """A note for the person at the terminal, unless --quiet."""
        if not self.quiet:
            with self._lock:
                self.console.print(Text(message), soft_wrap=True)


def _short(name: str, width: int = 32) -> str:
    return name if len(name) <= width else "…" + name[-(width - 1) :]
