"""--diarize and the speaker counts, and the transcribe command's class, which lets --diarize stand alone.

Typer 0.29 parses with its own copy of click, which has no option whose value may be left
out. The command rewrites its arguments before parsing instead: ``--diarize`` followed by
``auto`` or ``channels`` becomes ``--diarize=auto`` / ``--diarize=channels``, and a
``--diarize`` followed by anything else (an input, another option, nothing) becomes
``--diarize=auto``. So ``whisper-cli --diarize talk.wav``, ``whisper-cli talk.wav --diarize``
and ``whisper-cli call.wav --diarize channels`` all mean what they say (a file named
``channels`` right after ``--diarize`` is written ``./channels``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

import typer

from whisper_cli.cli import command
from whisper_cli.diarize.options import MODES

SPEAKERS = "Speakers"
FLAG = "--diarize"

Diarize = Annotated[
    str | None,
    typer.Option(
        FLAG,
        metavar="[auto|channels]",
        help="Label who speaks (SPEAKER_1, SPEAKER_2, …) in every format. auto (also with no value): "
        "found by a speaker model, offline; channels: a stereo call, one speaker per channel.",
        rich_help_panel=SPEAKERS,
        show_default=False,
    ),
]

Speakers = Annotated[
    int | None,
    typer.Option(
        min=1, metavar="N", help="--diarize: exactly N speakers (default: found).", rich_help_panel=SPEAKERS
    ),
]

MinSpeakers = Annotated[
    int | None,
    typer.Option(min=1, metavar="N", help="--diarize: at least N speakers.", rich_help_panel=SPEAKERS),
]

MaxSpeakers = Annotated[
    int | None,
    typer.Option(min=1, metavar="N", help="--diarize: at most N speakers.", rich_help_panel=SPEAKERS),
]


def with_diarize_value(args: Sequence[str], takes_value: set[str]) -> list[str]:
    """``args`` with every bare ``--diarize`` given its value (see the module's docstring).

    ``takes_value``: the options whose next word is their value, whatever it says (so
    ``--initial-prompt --diarize`` stays a prompt); nothing after ``--`` is touched.
    """
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            out.extend(args[i:])
            break
        if arg == FLAG:
            following = args[i + 1] if i + 1 < len(args) else None
            if following in MODES:
                out.append(f"{FLAG}={following}")
                i += 2
            else:
                out.append(f"{FLAG}=auto")
                i += 1
            continue
        out.append(arg)
        if arg in takes_value and i + 1 < len(args):
            out.append(args[i + 1])
            i += 1
        i += 1
    return out


class TranscribeCommand(command.TranscribeCommand):
    """The transcribe command (grouped help, openai-whisper's spellings), whose ``--diarize``
    takes a value or stands alone."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        """Give a bare ``--diarize`` its value, then parse as the command does."""
        takes_value = {
            opt
            for param in self.params
            if param.param_type_name == "option" and not getattr(param, "is_flag", False)
            for opt in param.opts
        }
        return super().parse_args(ctx, with_diarize_value(args, takes_value))
