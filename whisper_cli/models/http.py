"""The Hub's HTTP: a GET from a byte offset, with huggingface_hub's timeout and certificates."""

from __future__ import annotations

import os
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from http.client import HTTPException, HTTPResponse
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen


class Failed(Exception):
    """Why a download failed, in words; ``download`` adds the model and the server."""


class Unreachable(Failed):
    """The server could not be reached, or did not answer: most often, no network."""


@contextmanager
def get(url: str, what: str, offset: int = 0) -> Iterator[HTTPResponse]:
    """GET ``url`` (redirects followed), from byte ``offset``; errors say what ``what`` the server refused."""
    headers = {"User-Agent": "whisper-cli", "Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        response = urlopen(Request(url, headers=headers), timeout=timeout(), context=tls())
    except HTTPError as exc:
        exc.close()
        raise Failed(f"the server answered {exc.code} {exc.reason} for {what}") from None
    except URLError as exc:
        raise Unreachable(f"cannot reach it ({cause(exc.reason)})") from None
    except TimeoutError:
        raise Unreachable(f"no answer for {what} within {timeout():g} s") from None
    except (OSError, HTTPException) as exc:
        raise Failed(f"the connection failed ({cause(exc)})") from None
    with response:
        yield response


def timeout() -> float:
    """Seconds to wait for a connection or the next bytes: huggingface_hub's setting, 10 by default."""
    try:
        return float(os.environ.get("HF_HUB_DOWNLOAD_TIMEOUT") or 10)
    except ValueError:
        return 10.0


def progress_timeout() -> float:
    """Seconds a file may take to make useful progress (transfer.PROGRESS_BYTES) before the download
    fails: $WHISPER_CLI_DOWNLOAD_PROGRESS_TIMEOUT, 60 by default. A server that trickles a byte
    now and then never trips the read timeout; this bounds it."""
    try:
        return float(os.environ.get("WHISPER_CLI_DOWNLOAD_PROGRESS_TIMEOUT") or 60)
    except ValueError:
        return 60.0


def tls() -> ssl.SSLContext:
    """certifi's certificates where installed (httpx's dependency), as huggingface_hub uses them."""
    try:
        import certifi

        return ssl.create_default_context(cafile=certifi.where())
    except ImportError:
        return ssl.create_default_context()


def cause(reason: object) -> str:
    return os_cause(reason) if isinstance(reason, OSError) else str(reason)


def os_cause(exc: OSError) -> str:
    """An OSError in our messages' words: 'no space left on device', 'permission denied: /path'."""
    if not exc.strerror:
        return str(exc) or type(exc).__name__
    words = exc.strerror[0].lower() + exc.strerror[1:]
    return f"{words}: {exc.filename}" if exc.filename else words
