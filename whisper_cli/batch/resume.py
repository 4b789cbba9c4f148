"""Which inputs are done, and where the others' outputs go: decided by the ledger, not by names and dates.

An input is done when every output is a file whisper-cli wrote (its ledger says so, by
content hash), unchanged since, from this very input (path, size and mtime) and with
these settings. Otherwise it is transcribed again, into its outputs' names where those
are free or whisper-cli's own; a name held by a file whisper-cli did not write is left
alone and the input's whole name is used instead (``hello.wav.txt`` beside the user's
``hello.txt``); if that is taken too, the input fails with one line. A name holding the
transcript of another input (``monday/rec1.flac``'s, for ``tuesday/rec1.flac``) is never
taken over, nor moved aside: that input fails with one line, as two inputs of one name do
within a run. ``--overwrite`` is the user's consent to replace regular files at the
outputs' own names.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from whisper_cli.audio.load import STDIN, display_name
from whisper_cli.batch.inputs import Input
from whisper_cli.batch.ledger import Claim, Ledgers, State
from whisper_cli.batch.ledgerline import Entry, InputStamp, input_path
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
    restamp: tuple[tuple[Path, Entry], ...] = ()  # outputs of this input moved: their lines, its new path


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
    restamp: list[tuple[Path, Entry]] = []
    for fmt, primary in planned.items():
        folder = str(primary.parent)
        unusable = ledgers.of(primary).unusable
        if unusable is not None:
            return Decision(planned, blocked=unusable)
        if folder not in stamps:
            stamps[folder] = (
                None if item.source == STDIN else InputStamp.of(item.source, primary.parent, ledgers.real)
            )
        me = _Self.of(item.source, primary.parent, stamps[folder])
        chosen, claim, why = _place(item, primary, ledgers, me, overwrite=overwrite, reserved=reserved)
        if chosen is None:
            return Decision(planned, blocked=why)
        reason = _staleness(claim, stamps[folder], keys[fmt]) if not overwrite else "--overwrite"
        if chosen != primary:
            moved.append((primary, chosen))
            if reason == "new" and ledgers.of(primary).named(primary.name):
                reason = "output changed"  # whisper-cli wrote it, then someone else changed it
        targets[fmt] = chosen
        reasons.append(reason)
        entry, stamp = claim.entry, stamps[folder]
        if not overwrite and entry and entry.input and stamp and entry.input.path != stamp.path:
            restamp.append((chosen, replace(entry, input=stamp, line="")))  # the same input, moved
    stale = [r for r in reasons if r]
    return Decision(
        targets,
        done=not stale,
        reason=stale[0] if stale else "",
        moved=tuple(moved),
        stamps=stamps,
        restamp=tuple(restamp),
    )


@dataclass(frozen=True, slots=True)
class _Self:
    """The input being decided, as the ledger of one folder names it."""

    path: str | None  # its real path from the folder (None: stdin)
    stamp: InputStamp | None  # its path, size and mtime (None: stdin, a pipe, unreadable)

    @classmethod
    def of(cls, source: str, folder: Path, stamp: InputStamp | None) -> _Self:
        if stamp is not None or source == STDIN:
            return cls(stamp and stamp.path, stamp)
        return cls(input_path(source, folder), None)

    def other(self, entry: Entry | None) -> str | None:
        """The path of the input ``entry`` records when that is another input, else None.

        Another path is the same input, moved or copied with its times (``mv monday mon``,
        ``cp -p``, ``rsync -a``), when its size and modification time are the recorded ones:
        the very test "input changed" makes at one path. Anything else is another recording
        whose transcript is not ours to replace (``monday/rec1.flac`` and ``tuesday/rec1.flac``
        into one ``-o`` folder).
        """
        recorded = None if entry is None else entry.input
        if recorded is None or self.path is None or recorded.path == self.path:
            return None  # not comparable (from or to a stream), or this very input
        if self.stamp and (recorded.size, recorded.mtime_ns) == (self.stamp.size, self.stamp.mtime_ns):
            return None
        return recorded.path


def _place(
    item: Input, primary: Path, ledgers: Ledgers, me: _Self, *, overwrite: bool, reserved: set[str]
) -> tuple[Path | None, Claim, str]:
    """Where one output goes: (path, what is there now, why not when the path is None)."""
    first = ledgers.claim(primary, me.path)
    if overwrite:
        if first.state is State.special:
            return None, first, f"{display_name(primary)} is not a regular file; it is left alone"
        return primary, first, ""
    candidates = [(primary, first)]
    fallback = fallback_path(item, primary)
    if fallback != primary and os.path.abspath(fallback) not in reserved:
        candidates.append((fallback, ledgers.claim(fallback, me.path)))
    others = {path: me.other(claim.entry) for path, claim in candidates if claim.state is State.ours}
    for path, claim in candidates:  # keep to an output of ours (from this input) where one is
        if claim.state is State.ours and others[path] is None:
            return path, claim, ""
    if others.get(primary) is None:  # never beside another input's transcript: one name, one input
        for path, claim in candidates:
            if claim.state is State.absent:
                return path, claim, ""
    foreign = [
        display_name(p) for p, c in candidates if c.state is not State.absent and others.get(p) is None
    ]
    held = [
        f"{display_name(p)} is the transcript of another input, {_shown(p, other)}"
        for p, other in others.items()
        if other is not None
    ]
    verb = "are" if len(foreign) > 1 else "is"
    said = [f"{' and '.join(foreign)} {verb} not whisper-cli's output"] if foreign else []
    return (
        None,
        first,
        f"{' and '.join(said + held)}; left as {'they are' if len(foreign) + len(held) > 1 else 'it is'} "
        f"(use -o DIR, or --overwrite to replace {display_name(primary)})",
    )


def _shown(path: Path, recorded: str) -> str:
    """An input a ledger line names (relative to the ledger's real folder), for a message."""
    return display_name(os.path.relpath(os.path.join(os.path.realpath(path.parent), recorded)))


def _staleness(claim: Claim, stamp: InputStamp | None, key: str) -> str:
    """Why an output must be written again ("" when it is current)."""
    if claim.state is State.absent:
        return "new"
    entry = claim.entry
    if entry is None or stamp is None or entry.input is None:
        return "input not comparable"  # stdin, a stream, or an input that cannot be stat'ed
    if (entry.input.size, entry.input.mtime_ns) != (stamp.size, stamp.mtime_ns):
        return "input changed"  # at its path (another path with other times is another input)
    if entry.settings != key:
        return "settings changed"
    return ""
