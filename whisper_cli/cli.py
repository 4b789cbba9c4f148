"""The command line: argv → checked settings → runner; outcomes → exit codes.

Everything is validated before the model loads, so a usage error is instant.
Heavy modules (numpy, faster_whisper) are imported only once a run starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from whisper_cli import __version__, completion, signals, streams
from whisper_cli.errors import ExitCode, ModelLoadError, UsageError, WhisperCliError
from whisper_cli.model import COMPUTE_TYPES, DEVICES, MODEL_SIZES
from whisper_cli.models_cli import models_app
from whisper_cli.transcript import Task

if TYPE_CHECKING:
    from whisper_cli.settings import RunSettings

# Rich, the writers and the settings are imported inside the commands: `--help`,
# `--version` and usage errors must answer fast (benchmarks/bench_speed.py, start-up).

log = logging.getLogger("whisper_cli")

COMMANDS = ("transcribe", "models")

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    help="Transcribe speech in audio and video files with Whisper (faster-whisper).",
)

Device = Enum("Device", {d: d for d in DEVICES}, type=str)  # type: ignore[misc]
ComputeType = Enum("ComputeType", {c: c for c in COMPUTE_TYPES}, type=str)  # type: ignore[misc]

MODEL_HELP = (
    "Model size (" + ", ".join(MODEL_SIZES) + ") or a CTranslate2 model folder. "
    "`whisper-cli models` lists what is available offline."
)
LAYOUT = "Subtitle layout (srt, vtt)"
DECODING = "Decoding"
OUTPUT = "Output"
INPUT = "Input"
MODEL = "Model and hardware"
LIVE = "Live streams"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"whisper-cli {__version__}")
        raise typer.Exit()


@app.command(
    "transcribe",
    epilog="Other command: `whisper-cli models` lists the models. "
    "Shell completion (bash, zsh, fish): `whisper-cli --install-completion`.",
)
def transcribe_command(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            help="Audio/video files, folders or glob patterns; - reads audio from stdin.",
            show_default=False,
        ),
    ] = None,
    model: Annotated[
        str, typer.Option("--model", "-m", envvar="WHISPER_CLI_MODEL", help=MODEL_HELP, rich_help_panel=MODEL)
    ] = "small",
    device: Annotated[Device, typer.Option(help="Where to run the model.", rich_help_panel=MODEL)] = "auto",  # type: ignore[valid-type,assignment]
    compute_type: Annotated[
        ComputeType,  # type: ignore[valid-type]
        typer.Option(
            help="Weight/compute precision; default: int8 on CPU, float16 on CUDA.", rich_help_panel=MODEL
        ),
    ] = "default",  # type: ignore[assignment]
    cpu_threads: Annotated[
        int,
        typer.Option(
            min=0, help="CPU threads per worker; 0 chooses for this machine.", rich_help_panel=MODEL
        ),
    ] = 0,
    workers: Annotated[
        int,
        typer.Option(
            min=0,
            help="Decoders run at once (files in parallel, long files cut into parts); "
            "0: one per core on CPU, 1 on CUDA.",
            rich_help_panel=MODEL,
        ),
    ] = 0,
    batch_size: Annotated[
        int,
        typer.Option(
            min=0,
            help="Batched decoding, N at once: a file's speech chunks, or short files (up to 30 s) "
            "together; 0: sequential.",
            rich_help_panel=MODEL,
        ),
    ] = 0,
    ray: Annotated[
        str | None,
        typer.Option(
            "--ray",
            metavar="ADDRESS",
            help="Transcribe on a Ray cluster (the [ray] extra): local (one for this run), auto "
            "(the cluster joined here) or HOST:PORT; --workers: actors, 0 as many as fit.",
            rich_help_panel=MODEL,
            show_default=False,
        ),
    ] = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            "-l",
            help="Spoken language code (en, de, ko, …); default: detect.",
            rich_help_panel=DECODING,
        ),
    ] = None,
    task: Annotated[
        Task, typer.Option(help="Transcribe, or translate into English.", rich_help_panel=DECODING)
    ] = Task.transcribe,
    beam_size: Annotated[int, typer.Option(min=1, help="Beam search width.", rich_help_panel=DECODING)] = 5,
    temperature: Annotated[
        float,
        typer.Option(
            min=0.0,
            max=1.0,
            help="First sampling temperature; raised by 0.2 on fallback up to 1.0.",
            rich_help_panel=DECODING,
        ),
    ] = 0.0,
    initial_prompt: Annotated[
        str | None,
        typer.Option(help="Text to prime the first window (names, spelling).", rich_help_panel=DECODING),
    ] = None,
    vad: Annotated[
        bool,
        typer.Option(
            "--vad/--no-vad",
            help="Skip non-speech (keeps silence from turning into words).",
            rich_help_panel=DECODING,
        ),
    ] = True,
    level: Annotated[
        bool,
        typer.Option(
            "--level/--no-level",
            help="Bring every stretch of speech to one loudness first (quiet speakers are not dropped).",
            rich_help_panel=DECODING,
        ),
    ] = True,
    word_timestamps: Annotated[
        bool,
        typer.Option(
            "--word-timestamps",
            help="Time every word (json, jsonl, tsv --tsv-words, subtitles).",
            rich_help_panel=DECODING,
        ),
    ] = False,
    output_format: Annotated[
        list[str] | None,
        typer.Option(
            "--output-format",
            "-f",
            help="txt, srt, vtt, tsv, json, jsonl or all; repeat or comma-separate for several.",
            rich_help_panel=OUTPUT,
            show_default="txt",
        ),
    ] = None,
    output_dir: Annotated[
        Path | None,
        typer.Option(
            "--output-dir",
            "-o",
            help="Write DIR/<name>.<fmt>, mirroring the input tree.",
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    overwrite: Annotated[
        bool,
        typer.Option(
            "--overwrite",
            help="Redo inputs whose outputs already exist and are up to date.",
            rich_help_panel=OUTPUT,
        ),
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            help="Write a JSON record of the run (per input: status, outputs, error).", rich_help_panel=OUTPUT
        ),
    ] = None,
    recursive: Annotated[
        bool, typer.Option("--recursive", "-r", help="Descend into subfolders.", rich_help_panel=INPUT)
    ] = False,
    from_file: Annotated[
        str | None,
        typer.Option(
            help="Read input paths from this file, one per line (- for stdin).", rich_help_panel=INPUT
        ),
    ] = None,
    max_line_width: Annotated[
        int | None, typer.Option(min=1, help="Characters per line.", rich_help_panel=LAYOUT)
    ] = None,
    max_line_count: Annotated[
        int | None, typer.Option(min=1, help="Lines per cue.", rich_help_panel=LAYOUT)
    ] = None,
    max_words_per_line: Annotated[
        int | None, typer.Option(min=1, help="Words per line.", rich_help_panel=LAYOUT)
    ] = None,
    max_cue_duration: Annotated[
        float | None, typer.Option(min=0.1, help="Longest cue, seconds.", rich_help_panel=LAYOUT)
    ] = None,
    min_cue_duration: Annotated[
        float | None, typer.Option(min=0.0, help="Shortest cue, seconds.", rich_help_panel=LAYOUT)
    ] = None,
    highlight_words: Annotated[
        bool,
        typer.Option(
            "--highlight-words", help="Karaoke cues: underline the word being spoken.", rich_help_panel=LAYOUT
        ),
    ] = False,
    tsv_words: Annotated[
        bool, typer.Option("--tsv-words", help="TSV: one row per word.", rich_help_panel=OUTPUT)
    ] = False,
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="Transcribe stdin (-) as it arrives, for streams that do not end; text is committed "
            "within seconds and never taken back.",
            rich_help_panel=LIVE,
        ),
    ] = False,
    raw_format: Annotated[
        str | None,
        typer.Option(help="--live stdin is headerless PCM: s16le, s32le, f32le or u8.", rich_help_panel=LIVE),
    ] = None,
    raw_rate: Annotated[
        int | None,
        typer.Option(
            min=1000, help="Sample rate of --raw-format PCM [default: 16000].", rich_help_panel=LIVE
        ),
    ] = None,
    raw_channels: Annotated[
        int | None,
        typer.Option(min=1, max=64, help="Channels of --raw-format PCM [default: 1].", rich_help_panel=LIVE),
    ] = None,
    mic: Annotated[
        bool,
        typer.Option(
            "--mic", help="Transcribe the microphone live (needs the [mic] extra).", rich_help_panel=LIVE
        ),
    ] = False,
    mic_device: Annotated[
        str | None,
        typer.Option(help="Input device for --mic: its number or part of its name.", rich_help_panel=LIVE),
    ] = None,
    list_mics: Annotated[
        bool,
        typer.Option("--list-mics", help="List the input devices for --mic, and exit.", rich_help_panel=LIVE),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on stderr but errors.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Say what is being done (model, language, timings).")
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Debug logs, and tracebacks for errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
    ] = False,
) -> None:
    """Transcribe speech in audio and video files.

    With one input and no -o, the transcript streams to stdout as it is decoded;
    otherwise each input gets <name>.<fmt> files, written atomically.
    """
    from whisper_cli.console import setup_logging
    from whisper_cli.settings import build_settings

    setup_logging(verbose=verbose, debug=debug, quiet=quiet)
    if list_mics:
        raise typer.Exit(_list_mics(debug))
    try:
        settings = build_settings(locals())
    except UsageError as exc:
        _fail(str(exc), ExitCode.USAGE)
    raise typer.Exit(_execute(settings))


def _list_mics(debug: bool) -> int:
    from whisper_cli.mic import input_devices

    try:
        devices = input_devices()
    except WhisperCliError as exc:
        _fail(str(exc), ExitCode.FAILED, debug)
    for device in devices:
        typer.echo(device.describe())
    return int(ExitCode.OK)


def _execute(settings: RunSettings) -> int:
    from whisper_cli.session import run_session  # numpy and friends: only once a run starts

    try:
        return run_session(settings)
    except UsageError as exc:
        _fail(str(exc), ExitCode.USAGE, settings.debug)
    except ModelLoadError as exc:
        _fail(str(exc), ExitCode.MODEL, settings.debug)
    except WhisperCliError as exc:
        _fail(str(exc), ExitCode.FAILED, settings.debug)


# `whisper-cli models` lists them; its sub-commands download, path and remove: models_cli.py.
app.add_typer(
    models_app,
    name="models",
    help="List the models (size on disk, where they are); `download`, `path`, `remove` manage them.",
)


def _fail(message: str, code: ExitCode, debug: bool = False) -> NoReturn:
    from whisper_cli.console import error_line

    if debug:
        log.exception("error")
    error_line(message)
    raise typer.Exit(int(code))


def main() -> None:
    """Console-script entry point: ``whisper-cli FILE…`` means ``whisper-cli transcribe FILE…``.

    Typer's standalone mode maps a broken pipe to a quiet exit 1 and usage errors to 2;
    stop signals are the signals module's (installed by the entry point), and a run they
    stop ends with 130 (129 for SIGHUP).
    """
    signals.install()  # done by the entry point already; again for callers of this function
    streams.guard()
    if completion.requested(sys.argv[1:]):  # a shell asking, or --install/--show-completion
        _exit_now(completion.run(app, COMMANDS))
    argv = sys.argv[1:]
    name = argv.pop(0) if argv and argv[0] in COMMANDS else "transcribe"
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a file size limit: an error, not a kill
    # The command is run directly, not through the group: the group's own option parsing
    # costs a pydantic import (Typer 0.29 coerces every parsed value through a TypeAdapter),
    # which was a third of `--help`'s time.
    command = typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]
    try:
        command.main(args=argv, prog_name="whisper-cli" if name == "transcribe" else f"whisper-cli {name}")
    except SystemExit as exc:
        _exit_now(exc.code)
    _exit_now(0)


def _exit_now(code: object) -> NoReturn:
    """End the process once its work is done, skipping the interpreter's teardown.

    Every output is committed or discarded by now and the report written; what is left is
    freeing the model and joining the part decoders, 0.2-0.3 s on ../shared/eval's
    long-form file (and after Ctrl-C, waiting for a part still being decoded). The
    standard streams are flushed first; SystemExit's conventions hold (None is 0, a
    message is printed and exits 1).
    """
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    stopped_by = signals.received()
    if stopped_by is not None and code in (None, 0, int(ExitCode.INTERRUPTED)):
        code = int(signals.exit_code(stopped_by))  # a signal that came while nothing could stop
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing can reach it
            stream.flush()
    logging.shutdown()
    os._exit(code or 0)
