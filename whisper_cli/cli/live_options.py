"""The options of live runs (--live, --mic and their PCM and device choices), declared once."""

from __future__ import annotations

from typing import Annotated

import typer

from whisper_cli.cli.options import LIVE

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
    typer.Option(
        metavar="<s16le|s32le|f32le|u8>", help="--live stdin is headerless PCM.", rich_help_panel=LIVE
    ),
]

RawRate = Annotated[
    int | None,
    typer.Option(
        min=1000, metavar="HZ", help="Sample rate of --raw-format PCM [default: 16000].", rich_help_panel=LIVE
    ),
]

RawChannels = Annotated[
    int | None,
    typer.Option(
        min=1, max=64, metavar="N", help="Channels of --raw-format PCM [default: 1].", rich_help_panel=LIVE
    ),
]

Mic = Annotated[
    bool,
    typer.Option(
        "--mic", help="Transcribe the microphone live (needs the [mic] extra).", rich_help_panel=LIVE
    ),
]

MicDevice = Annotated[
    str | None,
    typer.Option(
        metavar="DEVICE", help="Input device for --mic: its number or part of its name.", rich_help_panel=LIVE
    ),
]

ListMics = Annotated[
    bool,
    typer.Option("--list-mics", help="List the input devices for --mic, and exit.", rich_help_panel=LIVE),
]
