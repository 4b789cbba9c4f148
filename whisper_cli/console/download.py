"""A model download's bar on stderr: bytes, speed and time left, for a person watching."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from whisper_cli.console.base import err_console


class Bar(Protocol):
    """What a download advances as bytes arrive."""

    def advance(self, nbytes: int) -> None: ...


class _NoBar:
    def advance(self, nbytes: int) -> None:
        pass


@dataclass(frozen=True, slots=True)
class _RichBar:
    progress: Any
    task: Any

    def advance(self, nbytes: int) -> None:
        self.progress.advance(self.task, nbytes)


@contextmanager
def download_bar(name: str, total: int, *, shown: bool = True) -> Iterator[Bar]:
    """A bar for downloading model ``name`` (``total`` bytes) when stderr is a terminal and
    ``shown`` (false under --quiet); otherwise one that shows nothing."""
    if not (shown and err_console.is_terminal):
        yield _NoBar()
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        redirect_stdout=False,  # a transcript on stdout must stay on stdout
        redirect_stderr=False,
    )
    with progress:
        task = progress.add_task(f"model {name}", total=total)
        try:
            yield _RichBar(progress, task)
        finally:
            # Inside the run's own bar (a nested Live) Rich keeps drawing our last frame until
            # that bar refreshes: an empty frame is the last one, so the bar is gone at once.
            progress.remove_task(task)
            progress.refresh()
