"""The Hugging Face Hub's cache on disk: where a model's repo lives, whether a snapshot is whole, its size."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

# What faster-whisper needs to load a model with no network: CTranslate2's weights and
# config, a vocabulary, and the tokenizer (without tokenizer.json it asks the Hub for one).
REQUIRED = ("model.bin", "config.json", "tokenizer.json")
VOCABULARIES = ("vocabulary.txt", "vocabulary.json")
REVISION = "main"


def root() -> Path:
    """The hub cache folder by huggingface_hub's rules, read at each call (its constants: at import)."""
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache"), "huggingface"
    )
    legacy = os.environ.get("HUGGINGFACE_HUB_CACHE")
    hub = os.environ.get("HF_HUB_CACHE") or legacy or os.path.join(home, "hub")
    return Path(os.path.expandvars(os.path.expanduser(hub)))


def repo_folder(repo_id: str) -> Path:
    """``models--Org--name``, the folder huggingface_hub keeps a model repo in."""
    return root() / ("models--" + repo_id.replace("/", "--"))


def is_whole(folder: Path) -> bool:
    """Whether ``folder`` holds every file faster-whisper needs (a link to a missing blob does not count)."""
    return all((folder / f).is_file() for f in REQUIRED) and any((folder / v).is_file() for v in VOCABULARIES)


def find(repo_id: str) -> Path | None:
    """The whole snapshot of ``repo_id`` to use offline: the one refs/main names, else the newest whole one.

    A download that was killed (ours or huggingface_hub's) can leave a snapshot with only
    some of its files; it is passed over, so it is never mistaken for the model.
    """
    repo = repo_folder(repo_id)
    snapshots = repo / "snapshots"
    try:
        commit = (repo / "refs" / REVISION).read_text(encoding="utf-8").strip()
    except OSError:
        commit = ""
    if commit and is_whole(snapshots / commit):
        return snapshots / commit
    try:
        candidates = sorted(snapshots.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return None
    return next((c for c in candidates if not c.name.startswith(".") and is_whole(c)), None)


def size(repo_id: str) -> int:
    """Bytes the repo takes in the cache: its blobs, partial downloads included (links count nothing)."""
    total = 0
    for folder, _dirs, files in os.walk(repo_folder(repo_id)):
        for name in files:
            with contextlib.suppress(FileNotFoundError):  # removed meanwhile (another process cleaning up)
                info = os.lstat(os.path.join(folder, name))
                total += info.st_size if stat.S_ISREG(info.st_mode) else 0
    return total


def remove(repo_id: str) -> int:
    """Delete the repo from the cache; return the bytes freed (0 if it was not there)."""
    folder = repo_folder(repo_id)
    if not folder.exists():
        return 0
    freed = size(repo_id)
    shutil.rmtree(folder)
    return freed


def publish(repo_id: str, commit: str, blobs: dict[str, Path]) -> Path:
    """Link whole blobs into snapshots/COMMIT under their file names, then point refs/main at it.

    Called once every blob is whole, so the snapshot never shows a file that is not; a
    crash between two links leaves a snapshot ``is_whole`` rejects and the next run completes.
    """
    repo = repo_folder(repo_id)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    for name, blob in blobs.items():
        _link(blob, snapshot / name)
    ref = repo / "refs" / REVISION
    ref.parent.mkdir(parents=True, exist_ok=True)
    tmp = ref.with_name(f".{ref.name}.{os.getpid()}.tmp")
    tmp.write_text(commit, encoding="utf-8")
    os.replace(tmp, ref)
    return snapshot


def _link(blob: Path, link: Path) -> None:
    """A relative symbolic link, as huggingface_hub makes them; a copy where links are not allowed."""
    tmp = link.with_name(f".{link.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.symlink(os.path.relpath(blob, link.parent), tmp)
    except OSError:  # Windows without developer mode, some network file systems
        shutil.copyfile(blob, tmp)
    os.replace(tmp, link)


@contextmanager
def locked(repo_id: str, *, waiting: str) -> Iterator[None]:
    """Hold the repo's download lock (one writer per repo and machine); log ``waiting`` if it is held."""
    from filelock import FileLock, Timeout  # huggingface_hub's dependency, so faster-whisper's

    path = root() / ".locks" / repo_folder(repo_id).name / "whisper-cli.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        log.warning("%s", waiting)
        lock.acquire(poll_interval=0.1)  # sleeps between tries: a Ctrl-C still stops the wait
    try:
        yield
    finally:
        lock.release()


def format_size(nbytes: float) -> str:
    """Bytes in decimal units, as the Hub and pip show them: 812 B, 2.3 kB, 75.5 MB, 3.1 GB."""
    if nbytes < 1000:
        return f"{int(nbytes)} B"
    for unit in ("kB", "MB", "GB"):
        nbytes /= 1000
        if nbytes < 1000 or unit == "GB":
            break
    return f"{nbytes:.1f} {unit}"
