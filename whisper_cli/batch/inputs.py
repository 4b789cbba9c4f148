"""Turn command-line paths, folders, globs and file lists into an ordered list of inputs."""

from __future__ import annotations

import errno
import glob
import logging
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from whisper_cli.audio.load import STDIN, display_name
from whisper_cli.batch.paths import RealPaths
from whisper_cli.batch.sinks import PARTIAL_PREFIX

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
    """One input: its path (or "-") and the relative name its outputs take below ``-o DIR``."""

    source: str
    relative: Path  # decided by the input and the argument that named it alone (see collect_inputs)

    @property
    def name(self) -> str:
        """The input for messages: one line, printable."""
        return display_name(self.source)


@dataclass(frozen=True, slots=True)
class Unusable:
    """An argument that names nothing usable, and why."""

    path: str
    cause: str  # "no such file or directory", "file name too long", …


@dataclass(slots=True)
class Collection:
    """What ``collect_inputs`` found."""

    inputs: list[Input] = field(default_factory=list)
    missing: list[Unusable] = field(default_factory=list)  # arguments that matched nothing usable
    skipped: int = 0  # non-media files in folders, left alone
    special: int = 0  # FIFOs, sockets and devices in folders: never opened
    unentered: dict[str, int] = field(default_factory=dict)  # folder → its subfolders not entered (no -r)
    stopped: bool = False  # listing stopped early (a stop signal): the inputs are those found so far


def collect_inputs(
    args: Iterable[str],
    *,
    listed: Iterable[str] = (),
    recursive: bool = False,
    stop: Callable[[], object] = lambda: None,
) -> Collection:
    """Expand files, folders and globs into de-duplicated inputs, in a stable order.

    ``args`` come from the command line, ``listed`` from a --from-file list. Order: as
    given; inside a folder, paths sorted. A file reached twice (two arguments, a link) is
    transcribed once. Each input's relative name (its outputs' place below ``-o DIR``)
    depends on the input and the argument that named it, never on the other inputs:

    - a folder argument: the path below the folder (``talks`` → ``day1/intro.mp3``);
    - a glob: the path below the pattern's fixed folder (``talks/*/intro.mp3`` → ``day1/intro.mp3``);
    - a file argument: its name (``talks/day1/intro.mp3`` → ``intro.mp3``);
    - a --from-file line: the path as written, ``..`` and a leading ``/`` dropped
      (``talks/day1/intro.mp3`` stays so; a folder line mirrors the path of each file in it).

    ``stop``: polled between folders; once it returns something true, listing ends early
    (a huge tree on a slow disk must not hold up a Ctrl-C).
    """
    found: list[tuple[str, Path]] = []  # (path, relative name)
    result = Collection()
    for arg, is_listed in [*((a, False) for a in args), *((line, True) for line in listed)]:
        if arg == STDIN:
            found.append((STDIN, Path("stdin")))
            continue
        found.extend(_expand(arg, is_listed, recursive, result, stop))
        if stop():
            result.stopped = True
            break
    result.inputs = _dedupe(found)
    return result


def read_file_list(lines: Iterable[str]) -> list[str]:
    """Paths from a --from-file list: one per line, blank lines ignored, spaces kept."""
    return [line.rstrip("\r\n") for line in lines if line.strip()]


def _expand(
    arg: str, listed: bool, recursive: bool, result: Collection, stop: Callable[[], object]
) -> Iterator[tuple[str, Path]]:
    try:
        is_dir = stat.S_ISDIR(os.stat(arg).st_mode)
    except OSError as exc:
        if os.path.lexists(arg):  # a broken or looping link: the decoder says which
            yield arg, _named(arg, listed)
        elif _GLOB_CHARS & set(arg):
            yield from _glob(arg, recursive, result, stop)
        else:
            result.missing.append(Unusable(arg, _cause(exc)))
        return
    if is_dir:
        base = _as_written(arg) if listed else Path()
        yield from ((path, base / rel) for path, rel in _walk(Path(arg), recursive, result, stop))
    else:
        yield arg, _named(arg, listed)  # even unreadable or not media: the decoder reports why


def _named(path: str, listed: bool) -> Path:
    return _as_written(path) if listed else Path(os.path.basename(os.path.normpath(path)))


def _as_written(path: str) -> Path:
    """A --from-file path as a relative name: normalised, with no root and no ``..``."""
    parts = [p for p in Path(os.path.normpath(path)).parts if p not in ("..", os.sep, "/")]
    if parts and Path(parts[0]).anchor:  # a Windows drive
        parts = parts[1:]
    return Path(*parts) if parts else Path(os.path.basename(path))


def _glob(
    pattern: str, recursive: bool, result: Collection, stop: Callable[[], object]
) -> Iterator[tuple[str, Path]]:
    base = _fixed_folder(pattern)
    matches = sorted(glob.glob(pattern, recursive=recursive))
    if not matches:
        result.missing.append(Unusable(pattern, "no such file or directory"))
    for match in matches:
        if stop():
            result.stopped = True
            return
        sub = Path(match)
        if sub.is_dir():
            yield from (
                (path, Path(os.path.relpath(path, base))) for path, _ in _walk(sub, recursive, result, stop)
            )
        elif _take(sub, result):
            yield match, Path(os.path.relpath(match, base))


def _fixed_folder(pattern: str) -> str:
    """The folder a glob starts from: its components before the first with a wildcard."""
    head = pattern
    while _GLOB_CHARS & set(head):
        head = os.path.dirname(head)
    return head or os.curdir


def _walk(
    root: Path, recursive: bool, result: Collection, stop: Callable[[], object] = lambda: None
) -> Iterator[tuple[str, Path]]:
    """Media files in ``root`` (and below, with ``recursive``, through linked folders too),
    sorted, with their paths below ``root``; anything that is not a regular file is counted
    and never opened (a FIFO would block the run forever)."""
    entries: list[Path] = []
    seen: set[tuple[int, int]] = set()
    for dirpath, dirnames, filenames in os.walk(root, onerror=_walk_error, followlinks=recursive):
        if stop():
            result.stopped = True
            break
        if not _first_visit(dirpath, seen):
            dirnames[:] = []  # a link back to a folder already walked
            continue
        visible = sorted(d for d in dirnames if not d.startswith("."))  # -r enters these
        if visible and not recursive:
            result.unentered[str(root)] = result.unentered.get(str(root), 0) + len(visible)
        dirnames[:] = visible if recursive else []
        entries.extend(Path(dirpath, f) for f in filenames)
    for path in sorted(entries):
        if stop():  # a stat per file: 100,000 of them take a while on a slow disk
            result.stopped = True
            return
        if path.name.startswith((".", PARTIAL_PREFIX)):
            continue
        if _take(path, result):
            yield str(path), path.relative_to(root)


def _first_visit(folder: str, seen: set[tuple[int, int]]) -> bool:
    try:
        st = os.stat(folder)
    except OSError:
        return False
    key = (st.st_dev, st.st_ino)
    if key in seen:
        return False
    seen.add(key)
    return True


def _take(path: Path, result: Collection) -> bool:
    """Whether a file found in a folder (or by a glob) is an input; counts what is left alone."""
    try:
        mode = os.stat(path).st_mode
    except OSError:  # a broken link named like media: the decoder reports it
        return path.suffix.lower() in MEDIA_EXTENSIONS
    if not stat.S_ISREG(mode):
        result.special += 1
        return False
    if _is_media(path):
        return True
    result.skipped += 1
    return False


def _walk_error(exc: OSError) -> None:
    log.warning("cannot list %s: %s", display_name(exc.filename or "?"), exc.strerror)


def _is_media(path: Path) -> bool:
    """By extension, else by the first bytes (a regular file: opening it cannot block)."""
    if path.suffix.lower() in MEDIA_EXTENSIONS:
        return True
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return head.startswith(_MAGIC) or head[4:8] == b"ftyp"  # ftyp: MP4/M4A/MOV/3GP


def _cause(exc: OSError) -> str:
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return "no such file or directory"
    if exc.errno == errno.ENAMETOOLONG:
        return "file name too long"
    if exc.errno == errno.EACCES:
        return "permission denied"
    return exc.strerror or str(exc)


def _dedupe(found: list[tuple[str, Path]]) -> list[Input]:
    seen: set[str] = set()
    unique: list[Input] = []
    real = RealPaths()
    for source, relative in found:
        key = source if source == STDIN else real(source)
        if key not in seen:
            seen.add(key)
            unique.append(Input(source, relative))
    return unique
