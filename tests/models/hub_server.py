"""A stand-in for the Hugging Face Hub on 127.0.0.1: real model files in the Hub's URL layout, with knobs
for the failures a real network has (an error status, a connection cut mid-file, a slow line, a stall, a
trickle, bad bytes)."""

from __future__ import annotations

import functools
import hashlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

COMMIT = "5d1b1b2e9c1f4a6b8c0d2e4f6a8b0c2d4e6f8a0b"
LFS_FROM = 10_000_000  # bytes: files this big are LFS files (etag sha256, served through a redirect)
MAX_REQUESTS = 60  # a client that retries without end gets 429s past this, and the test sees the count
_BLOCK = 1 << 16


@dataclass
class Knobs:
    """What the server does wrong; change them between runs."""

    status: tuple[str, int] | None = None  # (path substring, status): answer matching requests with it
    cut_after: int | None = None  # close the connection after sending this many bytes of a file body
    rate: float | None = None  # bytes per second of file bodies
    corrupt: bool = False  # flip one byte in the middle of every file body
    stall_after: int | None = None  # send this many bytes of a file body, then nothing for ``hold`` s
    trickle: float | None = None  # with stall_after: then one byte every this many seconds, not silence
    hold: float = 30.0  # seconds a stalled or trickling body lasts at most before the server closes it


@dataclass(frozen=True)
class ServedFile:
    path: Path
    size: int
    etag: str
    lfs: bool


@dataclass
class HubServer:
    """``with HubServer(folder, repo_id) as hub:`` serves ``folder``'s files as that repo at ``hub.url``."""

    folder: Path
    repo_id: str
    knobs: Knobs = field(default_factory=Knobs)
    requests: list[str] = field(default_factory=list)  # "GET /path Range" per request, in order

    def __post_init__(self) -> None:
        self.files = {p.name: _served(p) for p in sorted(self.folder.iterdir()) if p.is_file()}
        self._server: ThreadingHTTPServer | None = None

    def __enter__(self) -> HubServer:
        hub = self

        class Handler(_Handler):
            server_hub = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def listing(self) -> dict:
        """The answer of /api/models/REPO/revision/main?blobs=true (huggingface_hub's model_info)."""
        siblings = [{"rfilename": ".gitattributes", "blobId": "a" * 40, "size": 1519}]
        for name, f in self.files.items():
            entry = {"rfilename": name, "blobId": hashlib.sha1(name.encode()).hexdigest(), "size": f.size}
            if f.lfs:
                entry["lfs"] = {"sha256": f.etag, "size": f.size, "pointerSize": 134}
            else:
                entry["blobId"] = f.etag
            siblings.append(entry)
        return {"id": self.repo_id, "modelId": self.repo_id, "sha": COMMIT, "siblings": siblings}

    def tree(self) -> list[dict]:
        """The answer of /api/models/REPO/tree/REV (huggingface_hub's list_repo_tree)."""
        entries = []
        for entry in self.listing()["siblings"]:
            item = {"type": "file", "path": entry["rfilename"], "size": entry["size"], "oid": entry["blobId"]}
            if "lfs" in entry:
                item["lfs"] = {"oid": entry["lfs"]["sha256"], "size": entry["size"], "pointerSize": 134}
            entries.append(item)
        return entries


@functools.cache
def _served(path: Path) -> ServedFile:
    """A file with the etag the Hub gives it: sha256 for LFS files, the git blob id for others."""
    data = path.read_bytes()
    if len(data) >= LFS_FROM:
        return ServedFile(path, len(data), hashlib.sha256(data).hexdigest(), True)
    return ServedFile(path, len(data), hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest(), False)


class _Handler(BaseHTTPRequestHandler):
    server_hub: HubServer

    def log_message(self, format: str, *args: object) -> None:  # quiet: pytest shows what matters
        pass

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def _answer(self, *, body: bool) -> None:
        hub = self.server_hub
        hub.requests.append(f"{self.command} {self.path} {self.headers.get('Range', '')}".strip())
        path = unquote(urlsplit(self.path).path)
        knobs = hub.knobs
        if len(hub.requests) > MAX_REQUESTS:
            return self._status(429)
        if knobs.status is not None and knobs.status[0] in path:
            return self._status(knobs.status[1])
        if path == f"/api/models/{hub.repo_id}/revision/main":
            return self._json(hub.listing(), body=body)
        if path in (f"/api/models/{hub.repo_id}/tree/{rev}" for rev in ("main", COMMIT)):
            return self._json(hub.tree(), body=body)  # huggingface_hub's snapshot_download lists this
        resolve = re.fullmatch(rf"/{re.escape(hub.repo_id)}/resolve/(main|{COMMIT})/([^/]+)", path)
        if resolve and resolve[2] in hub.files:
            served = hub.files[resolve[2]]
            if served.lfs:  # the Hub sends LFS files from a CDN
                return self._redirect(f"/cdn/{served.etag}", served)
            return self._file(served, body=body)
        cdn = re.fullmatch(r"/cdn/([0-9a-f]{64})", path)
        served_by_etag = {f.etag: f for f in hub.files.values()}
        if cdn and cdn[1] in served_by_etag:
            return self._file(served_by_etag[cdn[1]], body=body)
        self._status(404, {"X-Error-Code": "RepoNotFound"})

    def _status(self, code: int, headers: dict[str, str] | None = None) -> None:
        self.send_response(code)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _json(self, document: dict, *, body: bool) -> None:
        data = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data)

    def _redirect(self, location: str, served: ServedFile) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("X-Linked-Etag", f'"{served.etag}"')
        self.send_header("X-Linked-Size", str(served.size))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _file(self, served: ServedFile, *, body: bool) -> None:
        start = _range_start(self.headers.get("Range"))
        if start is not None and start >= served.size:
            return self._status(416, {"Content-Range": f"bytes */{served.size}"})
        self.send_response(206 if start is not None else 200)
        if start is not None:
            self.send_header("Content-Range", f"bytes {start}-{served.size - 1}/{served.size}")
        self.send_header("Content-Length", str(served.size - (start or 0)))
        self.send_header("ETag", f'"{served.etag}"')
        self.send_header("X-Repo-Commit", COMMIT)
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        if body:
            self._send_body(served, start or 0)

    def _send_body(self, served: ServedFile, start: int) -> None:
        knobs = self.server_hub.knobs
        sent, began = 0, time.monotonic()
        with served.path.open("rb") as f:
            f.seek(start)
            while block := f.read(_BLOCK):
                if knobs.corrupt and start + sent <= served.size // 2 < start + sent + len(block):
                    i = served.size // 2 - start - sent
                    block = block[:i] + bytes([block[i] ^ 0xFF]) + block[i + 1 :]
                if knobs.cut_after is not None and sent + len(block) > knobs.cut_after:
                    self.wfile.write(block[: knobs.cut_after - sent])
                    self.close_connection = True
                    return
                if knobs.stall_after is not None and sent + len(block) > knobs.stall_after:
                    cut = knobs.stall_after - sent
                    count = int(knobs.hold / (knobs.trickle or knobs.hold)) + 1  # bytes a trickle can send
                    return self._stall(block[:cut], (block[cut:] + f.read(_BLOCK))[:count])
                try:
                    self.wfile.write(block)
                except OSError:  # the client went away (Ctrl-C)
                    return
                sent += len(block)
                if knobs.rate:
                    time.sleep(max(0.0, began + sent / knobs.rate - time.monotonic()))

    def _stall(self, head: bytes, tail: bytes) -> None:
        """Send ``head`` (the body up to the stall), then a byte of ``tail`` every ``trickle`` s, or
        nothing, for ``hold`` s at most; then close the connection."""
        knobs = self.server_hub.knobs
        self.close_connection = True
        until = time.monotonic() + knobs.hold
        try:
            self.wfile.write(head)
            self.wfile.flush()
            for byte in tail:
                time.sleep(max(0.0, min(knobs.trickle or knobs.hold, until - time.monotonic())))
                if not knobs.trickle or time.monotonic() >= until:
                    return
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
        except OSError:  # the client gave up
            return


def _range_start(header: str | None) -> int | None:
    match = re.fullmatch(r"bytes=(\d+)-", header or "")
    return int(match[1]) if match else None
