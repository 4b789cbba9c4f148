"""The stderr console itself: logging set-up and the one-line error and warning messages."""

from __future__ import annotations

import logging
import os
import sys

from rich.console import Console
from rich.logging import RichHandler
from rich.text import Text

# whisper-cli, or whisper-ct2-cli when run by that name (whisper_cli.program_name's rule;
# console imports nothing of ours, so it is said again here)
PROGRAM = "whisper-ct2-cli" if os.path.basename(sys.argv[0]) == "whisper-ct2-cli" else "whisper-cli"

err_console = Console(stderr=True, highlight=False, soft_wrap=True)


def setup_logging(*, verbose: bool, debug: bool, quiet: bool) -> None:
    """Route our logs and faster_whisper's to stderr.

    Ours at INFO (model chosen, language detected, files written) with -v, else WARNING:
    by default stderr carries progress, warnings and errors only, on a terminal too;
    faster_whisper's at INFO only with -v; DEBUG with --debug.
    """
    interactive = err_console.is_terminal
    ours = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
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
