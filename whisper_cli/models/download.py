"""Model downloads from the Hugging Face Hub ($HF_ENDPOINT) into its cache: resumable, checked, stoppable.

Everything runs in the calling thread with the standard library's HTTP client, one file
after the other, so a Ctrl-C (KeyboardInterrupt, see signals.py) stops a download within
one read; huggingface_hub's snapshot_download waits for its worker threads to finish.
The cache layout is huggingface_hub's (models/hubcache.py), so either finds what the other fetched.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from fnmatch import fnmatch
from functools import partial
from http.client import HTTPException
from pathlib import Path
from typing import Any
from urllib.parse import quote

from whisper_cli.console.download import Bar, download_bar
from whisper_cli.core.errors import ModelLoadError
from whisper_cli.models import hubcache
from whisper_cli.models.http import Failed, Unreachable, get, os_cause
from whisper_cli.models.hubcache import format_size
from whisper_cli.models.transfer import copy_body

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
# faster_whisper.utils.download_model's allow_patterns: a model's files, without README and the like.
PATTERNS = ("config.json", "preprocessor_config.json", "model.bin", "tokenizer.json", "vocabulary.*")
_HEX_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # a commit, a git blob id or a sha256: safe as a file name


class HubUnreachable(ModelLoadError):
    """The Hub could not be reached (no network, most often): the caller may name what is here."""


class _DiskError(Failed):
    """The cache could not take a file (full, read-only): what this download wrote is removed."""


@dataclass(frozen=True, slots=True)
class RemoteFile:
    """One file of a model repo, as the Hub lists it."""

    name: str
    size: int
    etag: str  # an LFS file's sha256, else its git blob id: its name in the cache, and its checksum
    lfs: bool


@dataclass(frozen=True, slots=True)
class Listing:
    """The files of a model at one commit."""

    commit: str
    files: tuple[RemoteFile, ...]


def endpoint() -> str:
    """The Hub to download from: $HF_ENDPOINT (huggingface_hub's setting) or huggingface.co."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def download(name: str, repo_id: str) -> tuple[Path, bool]:
    """Fetch model ``name`` (Hub repo ``repo_id``) into the hub cache; return its snapshot folder,
    and whether this process fetched it (False: another one did while this one waited for it).

    A file cut short (network, Ctrl-C, a kill) stays as ``blobs/<etag>.incomplete`` and the
    next download resumes it; the snapshot appears only once every file is whole and checked.

    Raises:
        ModelLoadError: one line naming the model, the server and the cause.
    """
    source = endpoint()
    try:
        with hubcache.locked(repo_id, waiting=f"model {name}: another process is downloading it; waiting"):
            return _download(name, repo_id, source)
    except Unreachable as exc:
        raise HubUnreachable(f"cannot download model {name} from {source}: {exc}") from None
    except Failed as exc:
        raise ModelLoadError(f"cannot download model {name} from {source}: {exc}") from None
    except OSError as exc:  # the cache's folders cannot be made (read-only, full)
        raise ModelLoadError(f"cannot download model {name}: {os_cause(exc)}") from None
    except KeyboardInterrupt:
        log.warning("download of model %s stopped; the next run resumes it", name)
        raise


def _download(name: str, repo_id: str, source: str) -> tuple[Path, bool]:
    finished = hubcache.find(repo_id)
    if finished is not None:  # by the process we waited for
        return finished, False
    listing = _list(repo_id, source)
    blobs = hubcache.repo_folder(repo_id) / "blobs"
    total, left = sum(f.size for f in listing.files), sum(_left(blobs, f) for f in listing.files)
    _check_space(blobs, left)
    size = format_size(total) + (f", {format_size(left)} of it left to fetch" if left < total else "")
    log.warning("model %s is not on this machine: downloading it (%s) from %s", name, size, source)
    base_url = f"{source}/{repo_id}/resolve/{listing.commit}/"
    started, created = time.monotonic(), []
    try:
        with download_bar(name, total, shown=log.isEnabledFor(logging.WARNING)) as bar:
            for remote in listing.files:
                if _fetch(base_url, remote, blobs, bar):
                    created.append(blobs / remote.etag)
    except _DiskError:
        _undo(created, blobs)
        raise
    folder = hubcache.publish(repo_id, listing.commit, {f.name: blobs / f.etag for f in listing.files})
    log.info("model %s downloaded (%s in %.1f s)", name, format_size(total), time.monotonic() - started)
    return folder, True


def _list(repo_id: str, source: str) -> Listing:
    """The model files of the repo's main revision, with their sizes and checksums (one API call)."""
    url = f"{source}/api/models/{repo_id}/revision/{hubcache.REVISION}?blobs=true"
    with get(url, repo_id) as response:
        try:
            body = json.loads(response.read())
            commit = str(body["sha"])
            files = tuple(_remote(s) for s in body["siblings"] if _wanted(s["rfilename"]))
        except (OSError, HTTPException, ValueError, TypeError, KeyError, AttributeError):
            raise Failed(f"its answer for {repo_id} is not a Hub model listing") from None
    if not _HEX_ID.fullmatch(commit) or not all(_HEX_ID.fullmatch(f.etag) for f in files):
        raise Failed(f"its listing of {repo_id} has ids that are not hashes")
    names = {f.name for f in files}
    missing = [f for f in hubcache.REQUIRED if f not in names]
    missing += [] if names & set(hubcache.VOCABULARIES) else ["a vocabulary file"]
    if missing:
        raise Failed(f"{repo_id} has no {', '.join(missing)}")
    return Listing(commit, files)


def _wanted(name: str) -> bool:
    # fnmatch's * matches "/" too: a name must stay inside the snapshot folder
    return "/" not in name and "\\" not in name and any(fnmatch(name, p) for p in PATTERNS)


def _remote(sibling: dict[str, Any]) -> RemoteFile:
    lfs = sibling.get("lfs")
    if lfs:
        return RemoteFile(sibling["rfilename"], int(lfs["size"]), str(lfs["sha256"]), True)
    return RemoteFile(sibling["rfilename"], int(sibling["size"]), str(sibling["blobId"]), False)


def _left(blobs: Path, remote: RemoteFile) -> int:
    """Bytes still to write for ``remote``: none when its blob is whole, less what a partial holds."""
    if _whole(blobs / remote.etag, remote.size):
        return 0
    partial = blobs / f"{remote.etag}.incomplete"
    return remote.size - (partial.stat().st_size if partial.is_file() else 0)


def _whole(blob: Path, size: int) -> bool:
    return blob.is_file() and blob.stat().st_size == size


def _check_space(blobs: Path, needed: int) -> None:
    """Refuse at once a download the disk cannot hold, instead of after filling it."""
    folder = blobs
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if needed > free:
        sizes = f"it needs {format_size(needed)}, {format_size(free)} are free"
        raise Failed(f"not enough space in {hubcache.root()}: {sizes}")


def _fetch(base_url: str, remote: RemoteFile, blobs: Path, bar: Bar) -> bool:
    """Make ``blobs/<etag>`` whole, resuming a partial download; whether it was written now."""
    blob = blobs / remote.etag
    if _whole(blob, remote.size):
        bar.advance(remote.size)
        return False
    blobs.mkdir(parents=True, exist_ok=True)
    part = blobs / f"{remote.etag}.incomplete"
    checksum = _Checksum(remote)
    offset = checksum.resume(part)
    bar.advance(offset)
    if offset < remote.size:
        _receive(base_url + quote(remote.name), part, offset, remote, checksum, bar)
    if not checksum.matches():
        part.unlink(missing_ok=True)
        raise Failed(f"{remote.name} arrived damaged (its checksum does not match); run again to refetch it")
    os.replace(part, blob)
    return True


def _receive(url: str, part: Path, offset: int, remote: RemoteFile, checksum: _Checksum, bar: Bar) -> None:
    """Append the rest of ``remote`` from ``offset`` to ``part`` (all of it if the range is ignored)."""
    with get(url, remote.name, offset) as response:
        if offset and response.status != 206:  # a whole file came back: start over
            bar.advance(-offset)
            offset = 0
            checksum.restart()
        try:
            with part.open("ab" if offset else "wb") as out:
                copy_body(response, out, offset, remote.size, remote.name, partial(_arrived, checksum, bar))
        except OSError as exc:  # reads raise Failed, so this is the disk
            part.unlink(missing_ok=True)
            cause = f"{os_cause(exc)} in {hubcache.root()} (writing {remote.name})"
            raise _DiskError(f"{cause}; the partial download was removed") from None


def _arrived(checksum: _Checksum, bar: Bar, chunk: bytes) -> None:
    checksum.update(chunk)
    bar.advance(len(chunk))


def _undo(created: list[Path], blobs: Path) -> None:
    """Remove the blobs this download wrote, and the repo's folders if that empties them."""
    for blob in created:
        blob.unlink(missing_ok=True)
    for folder in (blobs, blobs.parent):
        try:
            folder.rmdir()
        except OSError:
            break  # not empty: files of an earlier download, kept


class _Checksum:
    """The running hash that must equal a file's etag: sha256 for LFS files, the git blob id for others."""

    def __init__(self, remote: RemoteFile) -> None:
        self.remote = remote
        self.restart()

    def restart(self) -> None:
        """Forget what was fed (the download starts over)."""
        lfs, size = self.remote.lfs, self.remote.size
        self._hash = hashlib.sha256() if lfs else hashlib.sha1(b"blob %d\0" % size, usedforsecurity=False)

    def update(self, data: bytes) -> None:
        """Feed the next bytes of the file."""
        self._hash.update(data)

    def matches(self) -> bool:
        """Whether the bytes fed are the file."""
        return self._hash.hexdigest() == self.remote.etag

    def resume(self, part: Path) -> int:
        """Feed the bytes an earlier download left in ``part``; return their count (0: start over)."""
        try:
            size = part.stat().st_size
        except FileNotFoundError:
            return 0
        if size > self.remote.size:
            return 0
        with part.open("rb") as kept:
            while block := kept.read(1 << 20):
                self.update(block)
        return size
