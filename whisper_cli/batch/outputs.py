"""Where each input's outputs go: a name per input and format, checked for clashes before any work."""

from __future__ import annotations

import os
from pathlib import Path

from whisper_cli.audio.load import STDIN, display_name
from whisper_cli.batch.inputs import MEDIA_EXTENSIONS, Input
from whisper_cli.batch.ledger import LEDGER_NAME
from whisper_cli.core.errors import UsageError


def plan_outputs(
    inputs: list[Input], formats: tuple[str, ...], output_dir: Path | None
) -> dict[Input, dict[str, Path]]:
    """Output file per input and format: ``DIR/<relative stem>.<fmt>`` or beside the input.

    An input with a namesake beside it (``intro.mp3`` and ``intro.wav`` in one folder, both
    media) keeps its extension in the name (``intro.mp3.srt``), whether or not the namesake
    is in this run, so that adding inputs never moves an output.

    Raises:
        UsageError: two inputs would share an output, or an output would replace an input.
    """
    stems: dict[str, dict[str, list[str]]] = {}  # folder → stem → its media files' names
    plan = {}
    for item in inputs:
        stem = _stem_path(item, output_dir, keep_suffix=_has_namesake(item, stems))
        plan[item] = {fmt: stem.with_name(f"{stem.name}.{fmt}") for fmt in formats}
    _check_plan(plan)
    return plan


def fallback_path(item: Input, path: Path) -> Path:
    """The name an output takes when ``path`` is a file whisper-cli did not write: the
    input's whole name before the format (``hello.wav.txt`` beside the user's ``hello.txt``)."""
    return path.with_name(f"{item.relative.name}{path.suffix}")


def _has_namesake(item: Input, stems: dict[str, dict[str, list[str]]]) -> bool:
    """Whether another media file with the same stem sits beside the input (each folder is
    listed once and indexed by stem: a folder of 100,000 files costs one pass, not one per input)."""
    if item.source == STDIN:
        return False
    folder, name = os.path.split(item.source)
    if folder not in stems:
        stems[folder] = _media_by_stem(folder)
    return any(other != name for other in stems[folder].get(os.path.splitext(name)[0], ()))


def _media_by_stem(folder: str) -> dict[str, list[str]]:
    """The media files in ``folder``, by stem (``intro`` → ``intro.mp3``, ``intro.wav``)."""
    try:
        listing = os.listdir(folder or os.curdir)
    except OSError:
        return {}
    by_stem: dict[str, list[str]] = {}
    for other in listing:
        stem, suffix = os.path.splitext(other)
        if suffix.lower() in MEDIA_EXTENSIONS:
            by_stem.setdefault(stem, []).append(other)
    return by_stem


def _check_plan(plan: dict[Input, dict[str, Path]]) -> None:
    # Keeping the extension can still collide (a.mp3 + a.wav + a.mp3.flac), and an audio
    # file named like an output (talk.txt holding WAV data) would be replaced by its transcript.
    sources = {os.path.abspath(item.source) for item in plan if item.source != STDIN}
    owners: dict[str, Input] = {}
    for item, targets in plan.items():
        for path in targets.values():
            key = os.path.abspath(path)
            if key in sources:
                raise UsageError(f"{display_name(path)}: an output would replace an input; use --output-dir")
            if path.name == LEDGER_NAME:
                raise UsageError(f"{display_name(path)}: an output would replace whisper-cli's ledger")
            first = owners.setdefault(key, item)
            if first is not item:
                where = display_name(path)
                raise UsageError(
                    f"{first.name} and {item.name} would both be written to {where}; "
                    "name their common folder instead, or run them separately"
                )


def _stem_path(item: Input, output_dir: Path | None, *, keep_suffix: bool) -> Path:
    rel = item.relative
    name = rel.name if keep_suffix else rel.stem
    if output_dir is not None:
        return output_dir / rel.parent / name
    if item.source == STDIN:
        return Path(name)
    return Path(item.source).parent / name
