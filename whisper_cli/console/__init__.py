"""Everything a person reads: the stderr console, messages, progress bars and the live line.

Nothing here writes to stdout. Bars appear only when stderr is a terminal and the run
is not --quiet; transcript text is never passed through Rich markup. This package is
the only place that imports Rich (besides the Typer app): the run's progress
(progress.py), a model download's bar (download.py), the live hypothesis line here.
"""

from __future__ import annotations

import logging

from rich.console import Console
from rich.control import Control, ControlType
from rich.logging import RichHandler
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


class HypothesisLine:
    """Live text not yet committed, on one stderr line redrawn in place; terminals only.

    It is cleared before committed text goes to stdout, which may be the same terminal,
    and drawn again after; the tail is shown when it is wider than the terminal.
    """

    def __init__(self, *, quiet: bool = False, console: Console | None = None) -> None:
        self.console = console or err_console
        self.enabled = not quiet and self.console.is_terminal
        self._shown = False

    def show(self, text: str) -> None:
        """Replace the line with ``text`` (no markup); an empty text clears it."""
        if not self.enabled:
            return
        self.clear()
        text = " ".join(text.split())
        if text:
            width = max(self.console.width - 2, 8)
            shown = text if len(text) <= width else "…" + text[-(width - 1) :]
            self.console.print(Text(shown, style="dim italic"), end="", soft_wrap=True)
            self.console.file.flush()
            self._shown = True

    def clear(self) -> None:
        """Erase the line (before stdout writes to the terminal)."""
        if self.enabled and self._shown:
            self.console.control(Control.move_to_column(0), Control((ControlType.ERASE_IN_LINE, 2)))
            self.console.file.flush()
            self._shown = False


from whisper_cli.console.download import download_bar  # noqa: E402  (they use err_console above)
from whisper_cli.console.progress import Reporter  # noqa: E402

__all__ = [
    "PROGRAM",
    "HypothesisLine",
    "Reporter",
    "download_bar",
    "err_console",
    "error_line",
    "format_duration",
    "setup_logging",
    "warning_line",
]
