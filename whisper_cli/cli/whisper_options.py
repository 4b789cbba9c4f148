"""Options openai-whisper users know: decoding passed to faster-whisper, --model-dir, --print-times."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from whisper_cli.cli.options import DECODING, MODEL, OUTPUT

Hotwords = Annotated[
    str | None,
    typer.Option(
        metavar="TEXT",
        help="Words to listen out for (names, jargon), given to every window, where "
        "--initial-prompt primes the first.",
        rich_help_panel=DECODING,
    ),
]

ConditionOnPreviousText = Annotated[
    bool,
    typer.Option(
        "--condition-on-previous-text/--no-condition-on-previous-text",
        help="Give each window the text before it (on by default; off: fewer repetition loops, "
        "less consistent spelling).",
        show_default=False,
        rich_help_panel=DECODING,
    ),
]

BestOf = Annotated[
    int,
    typer.Option(min=1, metavar="N", help="Candidates sampled when a temperature above 0 is tried.",
                 rich_help_panel=DECODING),
]  # fmt: skip

Patience = Annotated[
    float,
    typer.Option(min=0.01, metavar="X", help="Beam search patience; above 1 searches longer.",
                 rich_help_panel=DECODING),
]  # fmt: skip

LengthPenalty = Annotated[
    float,
    typer.Option(metavar="X", help="Exponent of the beam scores' length normalisation (1: none extra).",
                 rich_help_panel=DECODING),
]  # fmt: skip

NoSpeechThreshold = Annotated[
    float,
    typer.Option(
        min=0.0,
        max=1.0,
        metavar="P",
        help="A window whose no-speech probability is above P, with unlikely text, is skipped as silence.",
        rich_help_panel=DECODING,
    ),
]

HallucinationSilenceThreshold = Annotated[
    float | None,
    typer.Option(
        min=0.0,
        metavar="SECONDS",
        help="Skip silences longer than this next to a likely invented segment (turns on --word-timestamps).",
        rich_help_panel=DECODING,
        show_default=False,
    ),
]

SuppressTokens = Annotated[
    str,
    typer.Option(
        metavar="IDS",
        help="Comma-separated token ids never to write; -1: the model's set of symbols; '': none.",
        rich_help_panel=DECODING,
    ),
]

ModelDir = Annotated[
    Path | None,
    typer.Option(
        metavar="DIR",
        help="Where models are downloaded to and looked for (a Hugging Face cache folder, as "
        "whisper-ctranslate2's --model_dir); default: $HF_HUB_CACHE or ~/.cache/huggingface/hub.",
        rich_help_panel=MODEL,
        show_default=False,
    ),
]

PrintTimes = Annotated[
    bool,
    typer.Option(
        "--print-times",
        help="Show each segment on stderr as it is decoded, [00:00.000 --> 00:03.720] text, as "
        "openai-whisper's --verbose True does (with the file's name when there are several).",
        rich_help_panel=OUTPUT,
    ),
]
