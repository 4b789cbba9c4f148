"""The transcribe command's click class: ``--help`` in groups, and openai-whisper's spellings taken.

Typer draws help panels only through Rich (``rich_markup_mode`` set), which costs
``--help`` the Rich import; the panels are written here with click's plain formatter.
Typer vendors its own click, so parameters are told apart by ``param_type_name``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from typer.core import TyperCommand

# The panels, in the order --help shows them; options with none are under "Options".
PANELS = ("Input", "Output", "Model", "Decoding", "Subtitles", "Batch", "Live", "Cluster")

# openai-whisper's and whisper-ctranslate2's names that are not ours with `_` made `-`.
RENAMED = {
    "--vad_filter": "--vad",  # whisper-ctranslate2
    "--model_directory": "--model",  # whisper-ctranslate2: a CTranslate2 model folder
}
VERBOSE = "--print-times"  # openai-whisper's `--verbose True`: its timed lines (ours: -v is logs)
_BOOLEANS = {"true": True, "false": False}


class TranscribeCommand(TyperCommand):
    """A TyperCommand whose help groups options by panel and whose parser takes underscore spellings."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, respell(args, self.params))

    def format_options(self, ctx: Any, formatter: Any) -> None:
        groups: dict[str, list[tuple[str, str]]] = {name: [] for name in PANELS}
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if param.param_type_name == "argument" and record is not None:  # no type after the name
                record = (f"{param.metavar or param.name}{'...' * (param.nargs != 1)}", record[1])
            if record is not None:
                groups.setdefault(getattr(param, "rich_help_panel", None) or "Options", []).append(record)
        for name, records in groups.items():
            if records:
                with formatter.section(name):
                    formatter.write_dl(records)


def respell(args: list[str], params: Iterable[Any]) -> list[str]:
    """``args`` with openai-whisper's spellings made ours: ``--output_format`` is ``--output-format``,
    ``--word_timestamps True`` is ``--word-timestamps``, ``--condition_on_previous_text False``
    is ``--no-condition-on-previous-text``. A value of an option, and anything after ``--``, is
    left as it is; an unknown spelling too (click says so)."""
    options: dict[str, Any] = {}
    for param in params:
        if param.param_type_name == "option":
            options.update((name, param) for name in (*param.opts, *param.secondary_opts))
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            return out + args[i - 1 :]
        name, equals, value = arg.partition("=")
        if name == "--verbose" and (equals or (i < len(args) and args[i].lower() in _BOOLEANS)):
            value, i = (value, i) if equals else (args[i], i + 1)
            if value.lower() not in _BOOLEANS:
                out.append(arg)
            elif _BOOLEANS[value.lower()]:
                out.append(VERBOSE)
            continue
        ours = RENAMED.get(name) or name.replace("_", "-") if name.startswith("--") and "_" in name else name
        option = options.get(ours)
        if option is None or not option.is_flag:
            out.append(arg if option is None or ours == name else ours + equals + value)
            if option is not None and not equals and i < len(args):
                out.append(args[i])  # its value, as it is
                i += 1
            continue
        if ours == name:
            out.append(arg)
            continue
        if not equals and i < len(args) and args[i].lower() in _BOOLEANS:
            value, i = args[i], i + 1
        if not value:
            out.append(ours)
        elif value.lower() not in _BOOLEANS:
            out.append(arg)  # click says what is wrong with it
        elif _BOOLEANS[value.lower()]:
            out.append(ours)
        elif ours in option.opts and option.secondary_opts:
            out.append(option.secondary_opts[0])  # --vad_filter False: --no-vad
        elif ours in option.secondary_opts:
            out.append(option.opts[0])
        # else: a lone flag set to False is its default: nothing to add
    return out
