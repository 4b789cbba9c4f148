"""Stop signals (Ctrl-C, SIGTERM, SIGHUP): caught from the first instant, raised where a run can stop cleanly.

The handler is installed before anything else is imported, so a signal in the first
milliseconds never prints a traceback. Until the run can write its report (the report's
path is checked), a signal is only recorded; from then on it raises KeyboardInterrupt in
the main thread, where the runner discards the partial outputs and the session writes
the summary and the report. A second signal while the run stops is ignored, so it
cannot cut short that cleanup. Signals that were ignored when the process started
(``nohup``, a background job's SIGINT) stay ignored.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

from whisper_cli.core.errors import ExitCode

STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)

_received: int | None = None  # the first stop signal of this run
_armed = False  # raise at once, or only record


def _handler(signum: int, frame: FrameType | None) -> None:
    global _received
    if _received is not None:
        return  # already stopping: a second Ctrl-C must not cut the cleanup short
    _received = signum
    if _armed:
        raise KeyboardInterrupt


def install(early: list[int] | None = None) -> None:
    """Catch the stop signals (main thread only); signals ignored at start stay ignored.

    ``early``: stop signals the package's first lines recorded before this module was
    imported (``whisper_cli.early_signals()``); the first of them counts as received.
    """
    global _received
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, _handler)
    if _received is None and early:
        _received = early[0]


def installed() -> bool:
    """Whether this process's stop signals go through this module (the CLI's entry point)."""
    return any(signal.getsignal(s) is _handler for s in STOP_SIGNALS)


@contextmanager
def armed() -> Iterator[None]:
    """Within: a stop signal raises KeyboardInterrupt at once, and one recorded before entering too."""
    global _armed
    previous, _armed = _armed, True
    try:
        if _received is not None:
            raise KeyboardInterrupt
        yield
    finally:
        _armed = previous


@contextmanager
def armed_for(condition: bool) -> Iterator[None]:
    """``armed()`` when ``condition`` holds, else nothing."""
    if condition:
        with armed():
            yield
    else:
        yield


def received() -> int | None:
    """The stop signal received so far, if any."""
    return _received


def name(signum: int | None) -> str:
    """``SIGINT`` for 2 …; ``SIGINT`` also for None (a KeyboardInterrupt raised without a signal)."""
    return signal.Signals(signum).name if signum is not None else "SIGINT"


def exit_code(signum: int | None) -> ExitCode:
    """The exit status of a run stopped by ``signum``: 129 for SIGHUP, else 130."""
    if signum is not None and signum == getattr(signal, "SIGHUP", None):
        return ExitCode.HANGUP
    return ExitCode.INTERRUPTED


def reset() -> None:
    """Forget the signal received (a new run in the same process: tests, the Python API)."""
    global _received
    _received = None
