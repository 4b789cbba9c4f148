"""The transcribe command's options, declared once: each a typed alias the command's signature uses."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from whisper_cli import __version__, program_name
from whisper_cli.cli import command
from whisper_cli.core.transcript import Task
from whisper_cli.decode.hardware import COMPUTE_TYPES, DEVICES

DeviceName = Enum("DeviceName", {d: d for d in DEVICES}, type=str)  # type: ignore[misc]

MODEL_HELP = (
    "A size (tiny, base, small, medium, large-v3, turbo, distil-*; .en: English-only) or a "
    "CTranslate2 model folder; `whisper-cli models` lists them and what is here."
)
# The --help panels (cli/command.py draws them, in command.PANELS order).
INPUT, OUTPUT, MODEL, DECODING, LAYOUT, BATCH, LIVE, CLUSTER = command.PANELS
# One word for "choose for this machine": auto. The compute type's "default" is still taken.
COMPUTE_CHOICES = tuple(c for c in COMPUTE_TYPES if c != "default")


def _compute_type(value: str) -> str:
    if value == "default":
        return "auto"
    if value not in COMPUTE_CHOICES:
        raise typer.BadParameter(f"{value!r} is not one of {', '.join(COMPUTE_CHOICES)}.")
    return value


def _version(value: bool) -> None:
    if value:
        typer.echo(f"{program_name()} {__version__}")
        raise typer.Exit()


Inputs = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="INPUT",
        help="Audio/video files, folders or glob patterns; - reads audio from stdin.",
        show_default=False,
        rich_help_panel=INPUT,
    ),
]

Model = Annotated[
    str,
    typer.Option(
        "--model", "-m", metavar="NAME", envvar="WHISPER_CLI_MODEL", help=MODEL_HELP, rich_help_panel=MODEL
    ),
]

DeviceOption = Annotated[
    DeviceName,
    typer.Option(help="Where to run the model; auto: CUDA when there is a GPU.", rich_help_panel=MODEL),
]

ComputeTypeOption = Annotated[
    str,
    typer.Option(
        parser=_compute_type,
        metavar="<" + "|".join(COMPUTE_CHOICES) + ">",
        autocompletion=lambda: list(COMPUTE_CHOICES),
        help="Weight/compute precision; auto: int8 on CPU, float16 on CUDA.",
        rich_help_panel=MODEL,
    ),
]

CpuThreads = Annotated[
    int,
    typer.Option(
        min=0, metavar="N", help="CPU threads per worker; 0 chooses for this machine.", rich_help_panel=MODEL
    ),
]

Workers = Annotated[
    int,
    typer.Option(
        min=0,
        metavar="N",
        help="Decoders run at once (files in parallel, long files cut into parts); "
        "0: one per core on CPU, 1 on CUDA.",
        rich_help_panel=BATCH,
    ),
]

BatchSize = Annotated[
    int,
    typer.Option(
        min=0,
        metavar="N",
        help="Batched decoding, N at once: a file's speech chunks, or short files (up to 30 s) "
        "together; 0: sequential.",
        rich_help_panel=BATCH,
    ),
]

Ray = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="Transcribe on a Ray cluster (the [ray] extra): local (one for this run), auto "
        "(the cluster joined here) or HOST:PORT; --workers: actors, 0 as many as fit.",
        rich_help_panel=CLUSTER,
        show_default=False,
    ),
]

RayTokenFile = Annotated[
    Path | None,
    typer.Option(
        "--ray-token-file",
        metavar="FILE",
        help="The --ray cluster's authentication token, when it wants one and it is not in "
        "~/.ray/auth_token or RAY_AUTH_TOKEN.",
        rich_help_panel=CLUSTER,
        show_default=False,
    ),
]

Language = Annotated[
    str | None,
    typer.Option(
        "--language",
        "-l",
        metavar="LANG",
        help="Spoken language: a code (en, de, ko, …) or its English name (English, German); "
        "default: detect.",
        rich_help_panel=DECODING,
    ),
]

TaskOption = Annotated[
    Task, typer.Option(help="Transcribe, or translate into English.", rich_help_panel=DECODING)
]

BeamSize = Annotated[
    int | None,
    typer.Option(
        min=1,
        metavar="N",
        help="Beam search width (a live run's drafts: 2 unless given).  [default: 5]",
        show_default=False,
        rich_help_panel=DECODING,
    ),
]

Temperature = Annotated[
    float,
    typer.Option(
        min=0.0,
        max=1.0,
        metavar="T",
        help="First sampling temperature; raised by 0.2 on fallback up to 1.0.",
        rich_help_panel=DECODING,
    ),
]

InitialPrompt = Annotated[
    str | None,
    typer.Option(
        metavar="TEXT", help="Text to prime the first window (names, spelling).", rich_help_panel=DECODING
    ),
]

Vad = Annotated[
    bool,
    typer.Option(
        "--vad/--no-vad",
        help="Skip non-speech (keeps silence from turning into words); on by default.",
        show_default=False,
        rich_help_panel=DECODING,
    ),
]

Level = Annotated[
    bool,
    typer.Option(
        "--level/--no-level",
        help="Bring every stretch of speech to one loudness first (quiet speakers are not dropped); "
        "on by default.",
        show_default=False,
        rich_help_panel=DECODING,
    ),
]

WordTimestamps = Annotated[
    bool,
    typer.Option(
        "--word-timestamps",
        help="Time every word (json, jsonl, tsv --tsv-words, subtitles).",
        rich_help_panel=DECODING,
    ),
]

OutputFormat = Annotated[
    list[str] | None,
    typer.Option(
        "--output-format",
        "-f",
        metavar="FORMAT",
        help="txt (the default), srt, vtt, tsv, json, jsonl or all; repeat or comma-separate for several.",
        rich_help_panel=OUTPUT,
        show_default=False,
    ),
]

OutputDir = Annotated[
    Path | None,
    typer.Option(
        "--output-dir",
        "-o",
        metavar="DIR",
        help="Write DIR/<name>.<format>, mirroring the input tree.",
        rich_help_panel=OUTPUT,
    ),
]

Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Redo every input, replacing what is at the outputs' names, even files you wrote "
        "yourself (without it, those are kept and the transcript goes to talk.wav.txt).",
        rich_help_panel=BATCH,
    ),
]

Report = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE",
        help="Write a JSON record of the run (per input: status, outputs, error); - for stdout.",
        rich_help_panel=BATCH,
    ),
]

Recursive = Annotated[
    bool, typer.Option("--recursive", "-r", help="Descend into subfolders.", rich_help_panel=INPUT)
]

FromFile = Annotated[
    str | None,
    typer.Option(
        metavar="FILE",
        help="Read input paths from this file, one per line (- for stdin).",
        rich_help_panel=INPUT,
    ),
]

MaxLineWidth = Annotated[
    int | None, typer.Option(min=1, metavar="N", help="Characters per line.", rich_help_panel=LAYOUT)
]

MaxLineCount = Annotated[
    int | None, typer.Option(min=1, metavar="N", help="Lines per cue.", rich_help_panel=LAYOUT)
]

MaxWordsPerLine = Annotated[
    int | None, typer.Option(min=1, metavar="N", help="Words per line.", rich_help_panel=LAYOUT)
]

MaxCueDuration = Annotated[
    float | None, typer.Option(min=0.1, metavar="SECONDS", help="Longest cue.", rich_help_panel=LAYOUT)
]

MinCueDuration = Annotated[
    float | None, typer.Option(min=0.0, metavar="SECONDS", help="Shortest cue.", rich_help_panel=LAYOUT)
]

HighlightWords = Annotated[
    bool,
    typer.Option(
        "--highlight-words", help="Karaoke cues: underline the word being spoken.", rich_help_panel=LAYOUT
    ),
]

TsvWords = Annotated[bool, typer.Option("--tsv-words", help="TSV: one row per word.", rich_help_panel=OUTPUT)]

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on stderr but errors.")]

Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Say what is being done (model, language, timings).")
]

Debug = Annotated[bool, typer.Option("--debug", help="Debug logs, and tracebacks for errors.")]

Version = Annotated[
    bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
]
