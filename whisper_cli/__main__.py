"""``python -m whisper_cli`` and the ``whisper-cli`` script.

``--version`` is answered here, before Typer and the CLI module are imported.
"""

from __future__ import annotations

import os
import signal
import sys


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def single_threaded_blas() -> None:
    """Give numpy's BLAS one thread unless the user chose otherwise (before numpy loads).

    numpy's only matrix products here are small (faster-whisper's mel filterbank, a few
    milliseconds per 30 s window); with a thread per core, OpenBLAS's helper threads spin
    after each one, taking CPU from the decoders: 2.5 % of all samples in `perf record`
    of a default run, 4 % more CPU time in all (README, Performance).
    """
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def main() -> None:
    """Entry point: the version at once, anything else through the Typer app."""
    # SIGTERM stops like Ctrl-C from the first instant, not only once Typer is imported.
    signal.signal(signal.SIGTERM, _stop)
    single_threaded_blas()
    if sys.argv[1:] == ["--version"]:
        from whisper_cli import __version__

        sys.stdout.write(f"whisper-cli {__version__}\n")
        return
    from whisper_cli.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
