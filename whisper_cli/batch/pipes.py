"""FIFO and device inputs: each read by a thread of its own once written to, so none holds up the others."""

from __future__ import annotations

import os
import stat
import threading
import time
from collections.abc import Callable

from whisper_cli.audio.load import STDIN, load_audio
from whisper_cli.batch.jobs import Job
from whisper_cli.core.errors import AudioError

# Seconds a FIFO that nobody writes to is still waited for once every other input is done.
# It is waited for while they run, however long: its writer may start after whisper-cli.
WRITER_WAIT = 10.0


def reads_apart(source: str) -> bool:
    """Whether ``source`` is a FIFO or a device: opening it may wait for a writer."""
    if source == STDIN:
        return False
    try:
        mode = os.stat(source).st_mode
    except (OSError, ValueError):
        return False  # the decoder says why it cannot be read, in its turn
    return not (stat.S_ISREG(mode) or stat.S_ISDIR(mode))


class Pipes:
    """The FIFO and device inputs of a run, each read by a thread of its own.

    The other inputs are counted down as they finish; once none is left, a FIFO that still
    has no writer is given up WRITER_WAIT seconds later, with one line saying so.
    """

    def __init__(self, todo: list[tuple[int, Job]], stop: threading.Event) -> None:
        self.apart = {index for index, job in todo if reads_apart(job.input.source)}
        self._others = len(todo) - len(self.apart)
        self._alone = self._others == 0
        self._idle_since = time.monotonic() if self._alone else None
        self._stop = stop
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def start(self, index: int, job: Job, put: Callable[[object], bool]) -> None:
        """Read input ``index`` in a thread; ``put`` hands over (index, job, its audio or AudioError)."""
        thread = threading.Thread(target=self._read, args=(index, job, put), daemon=True)
        thread.start()
        self._threads.append(thread)

    def finished(self, index: int) -> None:
        """Input ``index`` has its outcome."""
        if index in self.apart:
            return
        with self._lock:
            self._others -= 1
            if self._others == 0:
                self._idle_since = time.monotonic()

    def join(self) -> None:
        """Wait until every reader has handed its input over, or the run stops."""
        for thread in self._threads:
            while thread.is_alive() and not self._stop.is_set():
                thread.join(0.2)

    def _read(self, index: int, job: Job, put: Callable[[object], bool]) -> None:
        try:
            item: object = load_audio(job.input.source, give_up=lambda: self._give_up(job.input.source))
        except AudioError as exc:
            item = exc
        except Exception as exc:  # an unexpected decoder bug fails this input only
            item = AudioError(job.input.name, f"cannot decode audio ({type(exc).__name__}: {exc})")
        put((index, job, item))

    def _give_up(self, source: str) -> str | None:
        """Why to stop waiting for a writer, or None to go on."""
        if self._stop.is_set():
            return "the run stopped"
        since = self._idle_since
        if since is None or time.monotonic() - since < WRITER_WAIT:
            return None
        kind = "FIFO" if _is_fifo(source) else "device"
        waited = f"{WRITER_WAIT:g} s"
        if not self._alone:
            waited = f"while the other inputs ran, and {waited} more"
        return f"no program wrote to this {kind} (waited {waited})"


def _is_fifo(source: str) -> bool:
    try:
        return stat.S_ISFIFO(os.stat(source).st_mode)
    except OSError:
        return False
