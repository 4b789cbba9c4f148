"""The transcribe command's options, declared once: each a typed alias the command's signature uses."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from whisper_cli import __version__
from whisper_cli.core.transcript import Task
from whisper_cli.decode.hardware import COMPUTE_TYPES, DEVICES
from whisper_cli.models.resolve import MODEL_SIZES

DeviceName = Enum("DeviceName", {d: d for d in DEVICES}, type=str)  # type: ignore[misc]
ComputeTypeName = Enum("ComputeTypeName", {c: c for c in COMPUTE_TYPES}, type=str)  # type: ignore[misc]

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


Inputs = Annotated[
    list[str] | None,
    typer.Argument(
        help="Audio/video files, folders or glob patterns; - reads audio from stdin.",
        show_default=False,
    ),
]

Model = Annotated[
    str, typer.Option("--model", "-m", envvar="WHISPER_CLI_MODEL", help=MODEL_HELP, rich_help_panel=MODEL)
]

DeviceOption = Annotated[DeviceName, typer.Option(help="Where to run the model.", rich_help_panel=MODEL)]

ComputeTypeOption = Annotated[
    ComputeTypeName,  # type: ignore[valid-type]
    typer.Option(
        help="Weight/compute precision; default: int8 on CPU, float16 on CUDA.", rich_help_panel=MODEL
    ),
]

CpuThreads = Annotated[
    int,
    typer.Option(min=0, help="CPU threads per worker; 0 chooses for this machine.", rich_help_panel=MODEL),
]

Workers = Annotated[
    int,
    typer.Option(
        min=0,
        help="Decoders run at once (files in parallel, long files cut into parts); "
        "0: one per core on CPU, 1 on CUDA.",
        rich_help_panel=MODEL,
    ),
]

BatchSize = Annotated[
    int,
    typer.Option(
        min=0,
        help="Batched decoding, N at once: a file's speech chunks, or short files (up to 30 s) "
        "together; 0: sequential.",
        rich_help_panel=MODEL,
    ),
]

Ray = Annotated[
    str | None,
    typer.Option(
        "--ray",
        metavar="ADDRESS",
        help="Transcribe on a Ray cluster (the [ray] extra): local (one for this run), auto "
        "(the cluster joined here) or HOST:PORT; --workers: actors, 0 as many as fit.",
        rich_help_panel=MODEL,
        show_default=False,
    ),
]

Language = Annotated[
    str | None,
    typer.Option(
        "--language",
        "-l",
        help="Spoken language code (en, de, ko, …); default: detect.",
        rich_help_panel=DECODING,
    ),
]

TaskOption = Annotated[
    Task, typer.Option(help="Transcribe, or translate into English.", rich_help_panel=DECODING)
]

BeamSize = Annotated[int, typer.Option(min=1, help="Beam search width.", rich_help_panel=DECODING)]

Temperature = Annotated[
    float,
    typer.Option(
        min=0.0,
        max=1.0,
        help="First sampling temperature; raised by 0.2 on fallback up to 1.0.",
        rich_help_panel=DECODING,
    ),
]

InitialPrompt = Annotated[
    str | None,
    typer.Option(help="Text to prime the first window (names, spelling).", rich_help_panel=DECODING),
]

Vad = Annotated[
    bool,
    typer.Option(
        "--vad/--no-vad",
        help="Skip non-speech (keeps silence from turning into words).",
        rich_help_panel=DECODING,
    ),
]

Level = Annotated[
    bool,
    typer.Option(
        "--level/--no-level",
        help="Bring every stretch of speech to one loudness first (quiet speakers are not dropped).",
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
        help="txt, srt, vtt, tsv, json, jsonl or all; repeat or comma-separate for several.",
        rich_help_panel=OUTPUT,
        show_default="txt",
    ),
]

OutputDir = Annotated[
    Path | None,
    typer.Option(
        "--output-dir",
        "-o",
        help="Write DIR/<name>.<fmt>, mirroring the input tree.",
        rich_help_panel=OUTPUT,
    ),
]

Overwrite = Annotated[
    bool,
    typer.Option(
        "--overwrite",
        help="Redo inputs whose outputs already exist and are up to date.",
        rich_help_panel=OUTPUT,
    ),
]

Report = Annotated[
    Path | None,
    typer.Option(
        help="Write a JSON record of the run (per input: status, outputs, error).", rich_help_panel=OUTPUT
    ),
]

Recursive = Annotated[
    bool, typer.Option("--recursive", "-r", help="Descend into subfolders.", rich_help_panel=INPUT)
]

FromFile = Annotated[
    str | None,
    typer.Option(help="Read input paths from this file, one per line (- for stdin).", rich_help_panel=INPUT),
]

MaxLineWidth = Annotated[int | None, typer.Option(min=1, help="Characters per line.", rich_help_panel=LAYOUT)]

MaxLineCount = Annotated[int | None, typer.Option(min=1, help="Lines per cue.", rich_help_panel=LAYOUT)]

MaxWordsPerLine = Annotated[int | None, typer.Option(min=1, help="Words per line.", rich_help_panel=LAYOUT)]

MaxCueDuration = Annotated[
    float | None, typer.Option(min=0.1, help="Longest cue, seconds.", rich_help_panel=LAYOUT)
]

MinCueDuration = Annotated[
    float | None, typer.Option(min=0.0, help="Shortest cue, seconds.", rich_help_panel=LAYOUT)
]

HighlightWords = Annotated[
    bool,
    typer.Option(
        "--highlight-words", help="Karaoke cues: underline the word being spoken.", rich_help_panel=LAYOUT
    ),
]

TsvWords = Annotated[bool, typer.Option("--tsv-words", help="TSV: one row per word.", rich_help_panel=OUTPUT)]

Live = Annotated[
    bool,
    typer.Option(
        "--live",
        help="Transcribe stdin (-) as it arrives, for streams that do not end; text is committed "
        "within seconds and never taken back.",
        rich_help_panel=LIVE,
    ),
]

RawFormat = Annotated[
    str | None,
    typer.Option(help="--live stdin is headerless PCM: s16le, s32le, f32le or u8.", rich_help_panel=LIVE),
]

RawRate = Annotated[
    int | None,
    typer.Option(min=1000, help="Sample rate of --raw-format PCM [default: 16000].", rich_help_panel=LIVE),
]

RawChannels = Annotated[
    int | None,
    typer.Option(min=1, max=64, help="Channels of --raw-format PCM [default: 1].", rich_help_panel=LIVE),
]

Mic = Annotated[
    bool,
    typer.Option(
        "--mic", help="Transcribe the microphone live (needs the [mic] extra).", rich_help_panel=LIVE
    ),
]

MicDevice = Annotated[
    str | None,
    typer.Option(help="Input device for --mic: its number or part of its name.", rich_help_panel=LIVE),
]

ListMics = Annotated[
    bool,
    typer.Option("--list-mics", help="List the input devices for --mic, and exit.", rich_help_panel=LIVE),
]

Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on stderr but errors.")]

Verbose = Annotated[
    bool, typer.Option("--verbose", "-v", help="Say what is being done (model, language, timings).")
]

Debug = Annotated[bool, typer.Option("--debug", help="Debug logs, and tracebacks for errors.")]

Version = Annotated[
    bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit.")
]
