"""--ray and Ray's token authentication: ask the cluster whether it wants a token, find one, say why not.

Ray 2.60 clusters started with a token in ``~/.ray/auth_token`` (which ``ray.init()`` and
``--ray local`` create) want every client to show it; a driver shows it only when
``RAY_AUTH_MODE=token``, and one that shows a token to a cluster without authentication
cannot take its own workers' calls. So the mode is not guessed: one call to the cluster's
GCS without a token says whether it wants one (it answers at once), and the driver is set
up to match. The token comes from ``--ray-token-file``, else where Ray looks for it
(``RAY_AUTH_TOKEN``, ``RAY_AUTH_TOKEN_PATH``, ``~/.ray/auth_token``). It is never printed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import ModuleType

from whisper_cli.cluster.pool import ClusterError
from whisper_cli.core.errors import UsageError

log = logging.getLogger("whisper_cli.cluster.executor")

PLACES = "~/.ray/auth_token, RAY_AUTH_TOKEN, --ray-token-file"  # where a token is looked for, as said


def authenticate(ray: ModuleType, address: str, target: str | None, token_file: Path | None) -> None:
    """Set this process up to show the cluster at ``target`` (HOST:PORT) a token if, and only
    if, it wants one; ``target`` None (not known before ray.init): as Ray decides.

    Raises:
        ClusterError: it wants a token and none is found, or refuses the one shown.
    """
    _use_file(token_file)
    if target is None:
        return
    try:  # Ray's own modules, not public (2.60; the tests check them against a real cluster)
        from ray._raylet import AuthenticationTokenLoader, Config, GcsClient  # noqa: F401
    except ImportError:  # a Ray that moved them: it decides, and ray.init says what went wrong
        log.debug("Ray: cannot ask %s about authentication with this Ray", target)
        return
    _set_mode(token=False)
    if _accepts(ray, GcsClient, target):
        log.debug("Ray: %s wants no authentication token", target)
        return
    source = token_source(token_file)
    if source is None or not _loadable():
        raise ClusterError(
            f"--ray {address}: the cluster wants an authentication token: none found ({PLACES})"
        )
    _set_mode(token=True)
    if not _accepts(ray, GcsClient, target):
        raise ClusterError(f"--ray {address}: the cluster refused the authentication token from {source}")
    log.info("Ray: authenticated with the token from %s", source)


def for_client(token_file: Path | None) -> str:
    """Before ``ray.init("ray://...")``: a token found is shown (the client server checks it
    only if it wants one); what a failed connection may mean, said after its cause."""
    _use_file(token_file)
    source = token_source(token_file)
    if source is None or not _loadable():
        return f"; if the cluster wants an authentication token: none found ({PLACES})"
    _set_mode(token=True)
    return f"; if the cluster wants an authentication token: is the one from {source} its token?"


def check_token_file(path: Path | None) -> None:
    """--ray-token-file checked before the inputs are listed: a file with text in it.

    Raises:
        UsageError: it cannot be read, or is empty.
    """
    if path is None:
        return
    try:
        text = path.expanduser().read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"--ray-token-file {path}: cannot read it ({exc.strerror or exc})") from None
    if not text.strip():
        raise UsageError(f"--ray-token-file {path}: the file is empty")


def token_source(token_file: Path | None) -> str | None:
    """Where the token shown comes from, as the user would name it; None: nowhere."""
    if token_file is not None:
        return f"--ray-token-file {token_file}"
    if os.environ.get("RAY_AUTH_TOKEN", "").strip():
        return "RAY_AUTH_TOKEN"
    path = os.environ.get("RAY_AUTH_TOKEN_PATH")
    if path:
        return f"RAY_AUTH_TOKEN_PATH ({path})" if _has_text(Path(path)) else None
    return "~/.ray/auth_token" if _has_text(Path.home() / ".ray" / "auth_token") else None


def _use_file(token_file: Path | None) -> None:
    """--ray-token-file, where Ray's loader reads it; it wins over RAY_AUTH_TOKEN."""
    if token_file is not None:
        os.environ.pop("RAY_AUTH_TOKEN", None)
        os.environ["RAY_AUTH_TOKEN_PATH"] = str(token_file.expanduser().resolve())


def _has_text(path: Path) -> bool:
    try:
        return bool(path.read_text(encoding="utf-8", errors="replace").strip())
    except OSError:
        return False


def _loadable() -> bool:
    """Whether Ray's own loader finds the token too (without one, token mode aborts the process)."""
    from ray._raylet import AuthenticationTokenLoader

    loader = AuthenticationTokenLoader.instance()
    loader.reset_cache()
    return bool(loader.has_token(ignore_auth_mode=True))


def _set_mode(*, token: bool) -> None:
    """Token authentication on or off for this process (and the ray.init that follows)."""
    from ray._raylet import AuthenticationTokenLoader, Config

    os.environ["RAY_AUTH_MODE"] = "token" if token else "disabled"
    Config.initialize("")  # Ray reads its settings once: read them again
    AuthenticationTokenLoader.instance().reset_cache()


def _accepts(ray: ModuleType, gcs_client: type, target: str) -> bool:
    """Whether the cluster's GCS answers this process (an unreachable one: True, ray.init says why)."""
    try:
        gcs_client(address=target)
    except ray.exceptions.AuthenticationError:
        return False
    except Exception as exc:  # not about authentication: ray.init tries again and says what
        log.debug("Ray: asking %s about authentication: %s", target, exc)
    return True
