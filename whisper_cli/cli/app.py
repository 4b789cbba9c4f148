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
from typing import TYPE_CHECKING, NoReturn

import typer

from whisper_cli import program_name as program
from whisper_cli.cli import completion, live_options, options, whisper_options
from whisper_cli.cli import speakers as speaker_options
from whisper_cli.cli.models import DEFAULT_MODEL, models_app
from whisper_cli.core import signals, streams
from whisper_cli.core.errors import ExitCode, ModelLoadError, UsageError, WhisperCliError
from whisper_cli.core.transcript import Task

if TYPE_CHECKING:
    from whisper_cli.settings import RunSettings

# Rich, the writers and the settings are imported inside the commands: `--help`,
# `--version` and usage errors must answer fast (benchmarks/bench_speed.py, start-up).

log = logging.getLogger("whisper_cli")

COMMANDS = ("transcribe", "models")

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings=CONTEXT,
    help="Transcribe speech in audio and video files with Whisper (faster-whisper).",
)


EXAMPLES = """\b
Examples:
  whisper-cli talk.mp3                           the transcript on stdout
  whisper-cli talk.mp3 -f srt -o subs/           subs/talk.srt
  whisper-cli calls/ -r -f jsonl -o out/ --report run.json
  whisper-cli interview.wav -l German --task translate --print-times
  whisper-cli models                             the models, and which are here

Other command: `whisper-cli models` (download, path, remove). Shell completion (bash,
zsh, fish): `whisper-cli --install-completion`."""


@app.command(
    "transcribe",
    cls=speaker_options.TranscribeCommand,
    context_settings=CONTEXT,
    epilog=EXAMPLES,
)
def transcribe_command(
    inputs: options.Inputs = None,
    recursive: options.Recursive = False,
    from_file: options.FromFile = None,
    output_format: options.OutputFormat = None,
    output_dir: options.OutputDir = None,
    print_times: whisper_options.PrintTimes = False,
    tsv_words: options.TsvWords = False,
    model: options.Model = DEFAULT_MODEL,
    model_dir: whisper_options.ModelDir = None,
    device: options.DeviceOption = "auto",  # type: ignore[valid-type,assignment]
    compute_type: options.ComputeTypeOption = "auto",
    cpu_threads: options.CpuThreads = 0,
    language: options.Language = None,
    task: options.TaskOption = Task.transcribe,
    beam_size: options.BeamSize = None,
    best_of: whisper_options.BestOf = 5,
    patience: whisper_options.Patience = 1.0,
    length_penalty: whisper_options.LengthPenalty = 1.0,
    temperature: options.Temperature = 0.0,
    initial_prompt: options.InitialPrompt = None,
    hotwords: whisper_options.Hotwords = None,
    condition_on_previous_text: whisper_options.ConditionOnPreviousText = True,
    no_speech_threshold: whisper_options.NoSpeechThreshold = 0.6,
    hallucination_silence_threshold: whisper_options.HallucinationSilenceThreshold = None,
    suppress_tokens: whisper_options.SuppressTokens = "-1",
    vad: options.Vad = True,
    level: options.Level = True,
    word_timestamps: options.WordTimestamps = False,
    max_line_width: options.MaxLineWidth = None,
    max_line_count: options.MaxLineCount = None,
    max_words_per_line: options.MaxWordsPerLine = None,
    max_cue_duration: options.MaxCueDuration = None,
    min_cue_duration: options.MinCueDuration = None,
    highlight_words: options.HighlightWords = False,
    diarize: speaker_options.Diarize = None,
    speakers: speaker_options.Speakers = None,
    min_speakers: speaker_options.MinSpeakers = None,
    max_speakers: speaker_options.MaxSpeakers = None,
    overwrite: options.Overwrite = False,
    report: options.Report = None,
    workers: options.Workers = 0,
    batch_size: options.BatchSize = 0,
    live: live_options.Live = False,
    raw_format: live_options.RawFormat = None,
    raw_rate: live_options.RawRate = None,
    raw_channels: live_options.RawChannels = None,
    mic: live_options.Mic = False,
    mic_device: live_options.MicDevice = None,
    list_mics: live_options.ListMics = False,
    ray: options.Ray = None,
    ray_token_file: options.RayTokenFile = None,
    quiet: options.Quiet = False,
    verbose: options.Verbose = False,
    debug: options.Debug = False,
    version: options.Version = False,
) -> None:
    """Transcribe speech in audio and video files.

    With one input and no -o, the transcript streams to stdout as it is decoded;
    otherwise each input gets <name>.<fmt> files, written atomically.
    """
    from whisper_cli.console import setup_logging
    from whisper_cli.settings import build_settings

    setup_logging(verbose=verbose, debug=debug, quiet=quiet)
    if model_dir is not None:  # whisper-ctranslate2's --model_dir: the folder models are fetched to
        os.environ["HF_HUB_CACHE"] = str(model_dir.expanduser())
    if list_mics:
        raise typer.Exit(_list_mics(debug))
    try:
        settings = build_settings(locals())
    except UsageError as exc:
        _fail(str(exc), ExitCode.USAGE)
    raise typer.Exit(_execute(settings))


def _list_mics(debug: bool) -> int:
    from whisper_cli.live.mic import input_devices

    try:
        devices = input_devices()
    except WhisperCliError as exc:
        _fail(str(exc), ExitCode.FAILED, debug)
    for device in devices:
        typer.echo(device.describe())
    return int(ExitCode.OK)


def _execute(settings: RunSettings) -> int:
    from whisper_cli.cli.session import run_session  # numpy and friends: only once a run starts

    try:
        return run_session(settings)
    except UsageError as exc:
        _fail(str(exc), ExitCode.USAGE, settings.debug)
    except ModelLoadError as exc:
        _fail(str(exc), ExitCode.MODEL, settings.debug)
    except WhisperCliError as exc:
        _fail(str(exc), ExitCode.FAILED, settings.debug)


# `whisper-cli models` lists them; its sub-commands download, path and remove: cli/models.py.
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
        command.main(args=argv, prog_name=program() if name == "transcribe" else f"{program()} {name}")
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
