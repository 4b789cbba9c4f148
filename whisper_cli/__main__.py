"""``python -m whisper_cli`` and the ``whisper-cli`` script.

``--version`` is answered here, before Typer and the CLI module are imported.
"""

from __future__ import annotations

import signal
import sys


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> None:
    """Entry point: the version at once, anything else through the Typer app."""
    # SIGTERM stops like Ctrl-C from the first instant, not only once Typer is imported.
    signal.signal(signal.SIGTERM, _stop)
    if sys.argv[1:] == ["--version"]:
        from whisper_cli import __version__

        sys.stdout.write(f"whisper-cli {__version__}\n")
        return
    from whisper_cli.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
