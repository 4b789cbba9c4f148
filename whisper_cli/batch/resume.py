"""Which inputs are done, and where the others' outputs go: decided by the ledger, not by names and dates.

An input is done when every output is a file whisper-cli wrote (its ledger says so, by
content hash), unchanged since, from this very input (path, size and mtime) and with
these settings. Otherwise it is transcribed again, into its outputs' names where those
are free or whisper-cli's own; a name held by a file whisper-cli did not write is left
alone and the input's whole name is used instead (``hello.wav.txt`` beside the user's
``hello.txt``); if that is taken too, the input fails with one line. ``--overwrite`` is
the user's consent to replace regular files at the outputs' own names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from whisper_cli.audio.load import STDIN, display_name
from whisper_cli.batch.inputs import Input
from whisper_cli.batch.ledger import Claim, InputStamp, Ledgers, State
from whisper_cli.batch.outputs import fallback_path


@dataclass(frozen=True, slots=True)
class Decision:
    """What a run does with one input's outputs."""

    targets: dict[str, Path]  # format → where it is written (or found, when done)
    done: bool = False  # every output is current: nothing to do
    reason: str = "new"  # why it is transcribed: new, input changed, settings changed, output changed, …
    moved: tuple[tuple[Path, Path], ...] = ()  # (a file left alone, the name used instead)
    blocked: str | None = None  # why its outputs cannot be written at all
    stamps: dict[str, InputStamp | None] = field(default_factory=dict)  # folder → the input's stamp there


def decide(
    item: Input,
    planned: dict[str, Path],
    keys: dict[str, str],
    ledgers: Ledgers,
    *,
    overwrite: bool,
    reserved: set[str],
) -> Decision:
    """Decide for one input, given its planned outputs (format → path) and the settings'
    fingerprint per format. ``reserved``: absolute paths other inputs or outputs hold."""
    targets: dict[str, Path] = {}
    moved: list[tuple[Path, Path]] = []
    reasons: list[str] = []
    stamps: dict[str, InputStamp | None] = {}
    for fmt, primary in planned.items():
        folder = str(primary.parent)
        if folder not in stamps and item.source == STDIN:
            stamps[folder] = None
        elif folder not in stamps:
            stamps[folder] = InputStamp.of(item.source, primary.parent, ledgers.real)
        chosen, claim, why = _place(item, primary, ledgers, overwrite=overwrite, reserved=reserved)
        if chosen is None:
            return Decision(planned, blocked=why)
        if chosen != primary:
            moved.append((primary, chosen))
        targets[fmt] = chosen
        reasons.append(_staleness(claim, stamps[folder], keys[fmt]) if not overwrite else "--overwrite")
    stale = [r for r in reasons if r]
    return Decision(
        targets,
        done=not stale,
        reason=stale[0] if stale else "",
        moved=tuple(moved),
        stamps=stamps,
    )


def _place(
    item: Input, primary: Path, ledgers: Ledgers, *, overwrite: bool, reserved: set[str]
) -> tuple[Path | None, Claim, str]:
    """Where one output goes: (path, what is there now, why not when the path is None)."""
    first = ledgers.claim(primary)
    if overwrite:
        if first.state is State.special:
            return None, first, f"{display_name(primary)} is not a regular file; it is left alone"
        return primary, first, ""
    candidates = [(primary, first)]
    fallback = fallback_path(item, primary)
    if fallback != primary and os.path.abspath(fallback) not in reserved:
        candidates.append((fallback, ledgers.claim(fallback)))
    for wanted in (State.ours, State.absent):  # keep to an output of ours where one is
        for path, claim in candidates:
            if claim.state is wanted:
                return path, claim, ""
    names = " and ".join(display_name(p) for p, _ in candidates)
    verb = "are" if len(candidates) > 1 else "is"
    return (
        None,
        first,
        f"{names} {verb} not whisper-cli's output; left as {'they are' if len(candidates) > 1 else 'it is'} "
        f"(use -o DIR, or --overwrite to replace {display_name(primary)})",
    )


def _staleness(claim: Claim, stamp: InputStamp | None, key: str) -> str:
    """Why an output must be written again ("" when it is current)."""
    if claim.state is State.absent:
        return "new"
    entry = claim.entry
    if entry is None or stamp is None or entry.input is None:
        return "input not comparable"  # stdin, a stream, or an input that cannot be stat'ed
    if entry.input != stamp:
        return "input changed"
    if entry.settings != key:
        return "settings changed"
    return ""
