"""Turn command-line paths, folders, globs and file lists into an ordered list of inputs,
and plan where each input's outputs go."""

from __future__ import annotations

import glob
import logging
import os
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whisper_cli.audio import STDIN, display_name
from whisper_cli.errors import UsageError
from whisper_cli.sinks import PARTIAL_PREFIX

log = logging.getLogger(__name__)

# Extensions taken from folders without looking inside; other files are sniffed.
MEDIA_EXTENSIONS = frozenset(
    ".wav .wave .flac .mp3 .m4a .m4b .aac .ogg .oga .opus .wma .aif .aiff .aifc .au .snd .caf "
    ".amr .ac3 .mka .spx .wv .mp2 .mpga .3gp .3g2 .mp4 .m4v .mov .mkv .webm .avi .wmv .flv .mpg "
    ".mpeg .ts .mts .m2ts .vob .ogv".split()
)
# First bytes of media containers, for files whose extension says nothing.
_MAGIC = (b"RIFF", b"RF64", b"fLaC", b"OggS", b"ID3", b"FORM", b"\x1aE\xdf\xa3", b".snd", b"caff")
_GLOB_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class Input:
    """One input: its path (or "-") and the relative name its outputs mirror."""

    source: str
    relative: Path  # the input's path below the run's common root; outputs mirror it

    @property
    def name(self) -> str:
        """The input for messages: one line, printable."""
        return display_name(self.source)


@dataclass(slots=True)
class Collection:
    """What ``collect_inputs`` found."""

    inputs: list[Input] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # arguments that matched nothing
    skipped: int = 0  # non-media files in folders, left alone


def collect_inputs(args: Iterable[str], *, recursive: bool = False) -> Collection:
    """Expand files, folders and globs into de-duplicated inputs, in a stable order.

    Order: arguments as given; inside a folder, paths sorted. A file reached twice
    (two arguments, a link) is transcribed once.
    """
    found: list[tuple[str, Path]] = []  # (path, root folder the argument named)
    result = Collection()
    for arg in args:
        if arg == STDIN:
            found.append((STDIN, Path()))
            continue
        matched = list(_expand(arg, recursive, result))
        if not matched and not _exists(arg, recursive):  # a folder with no media is not missing
            result.missing.append(arg)
        found.extend(matched)
    result.inputs = _dedupe_and_relativise(found)
    return result


def read_file_list(lines: Iterable[str]) -> list[str]:
    """Paths from a --from-file list: one per line, blank lines ignored."""
    return [line.rstrip("\r\n") for line in lines if line.strip()]


def _expand(arg: str, recursive: bool, result: Collection) -> Iterator[tuple[str, Path]]:
    path = Path(arg)
    if path.is_dir():
        yield from _walk(path, recursive, result)
    elif os.path.lexists(arg):
        yield arg, path.parent  # even unreadable or broken: the decoder reports why
    elif _GLOB_CHARS & set(arg):
        for match in sorted(glob.glob(arg, recursive=recursive)):
            sub = Path(match)
            if sub.is_dir():
                yield from _walk(sub, recursive, result)
            elif _is_media(sub):
                yield match, sub.parent
            else:
                result.skipped += 1


def _exists(arg: str, recursive: bool) -> bool:
    return os.path.lexists(arg) or bool(_GLOB_CHARS & set(arg) and glob.glob(arg, recursive=recursive))


def _walk(root: Path, recursive: bool, result: Collection) -> Iterator[tuple[str, Path]]:
    entries: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, onerror=_walk_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".")) if recursive else []
        entries.extend(Path(dirpath, f) for f in filenames)
    for path in sorted(entries):
        if path.name.startswith((".", PARTIAL_PREFIX)):
            continue
        if _is_media(path):
            yield str(path), root
        else:
            result.skipped += 1


def _walk_error(exc: OSError) -> None:
    log.warning("cannot list %s: %s", display_name(exc.filename or "?"), exc.strerror)


def _is_media(path: Path) -> bool:
    if path.suffix.lower() in MEDIA_EXTENSIONS:
        return True
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return head.startswith(_MAGIC) or head[4:8] == b"ftyp"  # ftyp: MP4/M4A/MOV/3GP


def _dedupe_and_relativise(found: list[tuple[str, Path]]) -> list[Input]:
    seen: set[str] = set()
    unique: list[tuple[str, Path]] = []
    for source, root in found:
        key = source if source == STDIN else os.path.realpath(source)
        if key not in seen:
            seen.add(key)
            unique.append((source, root))
    roots = [os.path.abspath(root) for source, root in unique if source != STDIN]
    base = os.path.commonpath(roots) if roots else os.getcwd()
    return [
        Input(
            source, Path("stdin") if source == STDIN else Path(os.path.relpath(os.path.abspath(source), base))
        )
        for source, _ in unique
    ]


def plan_outputs(
    inputs: list[Input], formats: tuple[str, ...], output_dir: Path | None
) -> dict[Input, dict[str, Path]]:
    """Output file per input and format: ``DIR/<relative stem>.<fmt>`` or beside the input.

    Inputs whose outputs would collide (``intro.mp3`` and ``intro.wav`` in one folder)
    keep their extension in the name instead (``intro.mp3.srt``).

    Raises:
        UsageError: two inputs would still share an output, or an output would replace an input.
    """
    stems = {item: _stem_path(item, output_dir, keep_suffix=False) for item in inputs}
    counts = Counter(stems.values())
    plan = {}
    for item in inputs:
        stem = stems[item]
        if counts[stem] > 1:
            stem = _stem_path(item, output_dir, keep_suffix=True)
        plan[item] = {fmt: stem.with_name(f"{stem.name}.{fmt}") for fmt in formats}
    _check_plan(plan)
    return plan


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
            first = owners.setdefault(key, item)
            if first is not item:
                where = display_name(path)
                raise UsageError(f"{first.name} and {item.name} would both be written to {where}")


def _stem_path(item: Input, output_dir: Path | None, *, keep_suffix: bool) -> Path:
    rel = item.relative
    name = rel.name if keep_suffix else rel.stem
    if output_dir is not None:
        return output_dir / rel.parent / name
    if item.source == STDIN:
        return Path(name)
    return Path(item.source).parent / name
