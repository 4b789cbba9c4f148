"""``whisper-cli models``: the models with their sizes on disk; download, locate and remove them."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial
from typing import Annotated, NoReturn, TypeVar

import typer

from whisper_cli.core import signals
from whisper_cli.core.errors import ExitCode, ModelLoadError, OutputError, WhisperCliError

# Rich, the downloader and the cache are imported inside the commands: `models --help` stays fast.

models_app = typer.Typer(
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)

DEFAULT_MODEL = "small"  # the transcribe command's -m default (cli/app.py)
NAMES_HELP = "Model sizes (tiny, base, small, …; `whisper-cli models` lists them)."
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on stderr but errors.")]
Debug = Annotated[bool, typer.Option("--debug", help="Debug logs, and tracebacks for errors.")]
T = TypeVar("T")


@models_app.callback(invoke_without_command=True)
def list_command(ctx: typer.Context) -> None:
    """List model sizes, their size on disk and where they are (on stdout).

    A model with a size on disk is available offline; the default (-m, $WHISPER_CLI_MODEL)
    is marked.
    """
    if ctx.invoked_subcommand is not None:
        return
    from whisper_cli.models.hubcache import format_size
    from whisper_cli.models.resolve import MODEL_SIZES, stored_models

    stored = {m.name: m for m in stored_models()}
    width = max(len(n) for n in MODEL_SIZES)
    default = os.environ.get("WHISPER_CLI_MODEL") or DEFAULT_MODEL  # as the transcribe command reads it
    for name in MODEL_SIZES:
        model = stored.get(name)
        size = format_size(model.size) if model else ""
        where = model.where if model else "download on first use"
        mark = "  (default)" if name == default else ""
        typer.echo(f"{name:<{width}}  {size:>8}  {where}{mark}")


@models_app.command("download")
def download_command(
    names: Annotated[list[str], typer.Argument(help=NAMES_HELP, show_default=False)],
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Download models now, for a machine that will be offline later (HF_ENDPOINT: the Hub to use)."""
    from whisper_cli.console import setup_logging
    from whisper_cli.models.resolve import fetch_model

    setup_logging(verbose=False, debug=debug, quiet=quiet)
    _check_names(names, debug)
    try:
        with signals.armed():  # a Ctrl-C stops the download at once; the next one resumes it
            for name in names:
                resolved = _model_step(partial(fetch_model, name), debug)
                how = "downloaded" if resolved.source == "download" else f"already here ({resolved.source})"
                _say(f"model {name}: {how}: {resolved.path}", quiet)
    except KeyboardInterrupt:
        raise typer.Exit(int(signals.exit_code(signals.received()))) from None


@models_app.command("path")
def path_command(name: Annotated[str, typer.Argument(help="A model size.", show_default=False)]) -> None:
    """Print the folder of a model on this machine, for scripts (exit 3 if it is not here)."""
    from whisper_cli.models.resolve import resolve_model

    typer.echo(str(_model_step(partial(resolve_model, name, download=False), False).path))


@models_app.command("remove")
def remove_command(
    names: Annotated[list[str], typer.Argument(help=NAMES_HELP, show_default=False)],
    quiet: Quiet = False,
    debug: Debug = False,
) -> None:
    """Delete downloaded models from the cache, saying how much space that freed.

    A model that cannot be removed (a read-only cache) is one error line; the others are
    still removed, and the exit status is 1.
    """
    from whisper_cli.models.hubcache import format_size
    from whisper_cli.models.resolve import remove_model

    _check_names(names, debug)
    failed = False
    for name in names:
        try:
            freed, left = remove_model(name)
        except OutputError as exc:
            _error(exc, debug)
            failed = True
            continue
        done = f"removed, {format_size(freed)} freed" if freed else "not downloaded, nothing to remove"
        _say(f"model {name}: {done}" + (f"; it stays in {left}" if left else ""), quiet)
    if failed:
        raise typer.Exit(int(ExitCode.FAILED))


def _check_names(names: list[str], debug: bool) -> None:
    """Every name a size, before anything is fetched or removed."""
    from whisper_cli.models.resolve import MODEL_SIZES

    unknown = [n for n in names if n not in MODEL_SIZES]
    if unknown:
        _fail(ModelLoadError(f"unknown model {unknown[0]!r}: use a size ({', '.join(MODEL_SIZES)})"), debug)


def _model_step(step: Callable[[], T], debug: bool) -> T:
    """``step()``, with a ModelLoadError as one line and exit 3."""
    try:
        return step()
    except ModelLoadError as exc:
        _fail(exc, debug)


def _fail(exc: ModelLoadError, debug: bool) -> NoReturn:
    _error(exc, debug)
    raise typer.Exit(int(ExitCode.MODEL))


def _error(exc: WhisperCliError, debug: bool) -> None:
    import logging

    from whisper_cli.console import error_line

    if debug:
        logging.getLogger("whisper_cli").error("error", exc_info=exc)
    error_line(str(exc))


def _say(message: str, quiet: bool) -> None:
    """A result line on stderr (stdout carries only the listing and paths), unless --quiet."""
    if not quiet:
        from rich.text import Text

        from whisper_cli.console import err_console

        err_console.print(Text(message), soft_wrap=True)
