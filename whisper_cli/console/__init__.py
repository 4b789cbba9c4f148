"""Everything a person reads: the stderr console, messages, progress bars and the live line.

Nothing here writes to stdout. Bars appear only when stderr is a terminal and the run
is not --quiet; transcript text is never passed through Rich markup. This package is
the only place that imports Rich (besides the Typer app): the run's progress
(progress.py), a model download's bar (download.py), messages (base.py), the live line here.
"""

from __future__ import annotations

from rich.console import Console
from rich.control import Control, ControlType
from rich.text import Text

from whisper_cli.console.base import (
    PROGRAM,
    err_console,
    error_line,
    format_duration,
    setup_logging,
    warning_line,
)


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


from whisper_cli.console.download import download_bar  # noqa: E402
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
