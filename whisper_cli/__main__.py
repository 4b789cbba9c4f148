"""``python -m whisper_cli`` and the ``whisper-cli`` script.

Stop signals and the standard streams are made safe here, first of all (core/signals.py,
core/streams.py); ``--version`` is answered before Typer and the CLI module are imported.
"""

from __future__ import annotations

import os
import sys

from whisper_cli import early_signals
from whisper_cli.core import signals, streams


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
    # A Ctrl-C in the first milliseconds is recorded, not a traceback: from the package's
    # first line (whisper_cli/__init__.py) until here by its early handler, then by signals'.
    signals.install(early=early_signals())
    streams.guard()
    single_threaded_blas()
    try:
        if sys.argv[1:] == ["--version"]:
            from whisper_cli import __version__, program_name

            sys.stdout.write(f"{program_name()} {__version__}\n")
            sys.stdout.flush()
        else:
            from whisper_cli.cli.app import main as cli_main

            cli_main()  # ends the process itself
    except KeyboardInterrupt:  # stopped before the CLI could handle it (while importing)
        os._exit(int(signals.exit_code(signals.received())))
    except BrokenPipeError:
        os._exit(1)
    if signals.received() is not None:
        os._exit(int(signals.exit_code(signals.received())))


if __name__ == "__main__":
    main()
