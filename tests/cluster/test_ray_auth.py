"""--ray against `ray start` clusters with token authentication on (Ray 2.60's default when a
token is in ~/.ray/auth_token) and off: the token is found where Ray puts it, in
RAY_AUTH_TOKEN or in --ray-token-file; missing or wrong, one line and exit 3.

Before: every run on a cluster with authentication failed after some 20 s with
"cannot connect" (or a traceback, RAY_AUTH_MODE=token without a token).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.raystart import Head, base_env, ray_start, skip_unless_possible, write_token
from tests.conftest import SAMPLES

FILES = ("hello.wav", "weather.mp3")


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Head, str]]:
    """A head started with a token in its HOME: authentication on. Yields it and the token."""
    skip_unless_possible()
    home = tmp_path_factory.mktemp("head-home")
    token = write_token(home)
    with ray_start(home) as head:
        yield head, token


@pytest.fixture(scope="module")
def plain_outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """What a run without --ray writes for FILES."""
    skip_unless_possible()
    where = tmp_path_factory.mktemp("plain")
    _inputs(where)
    done = subprocess.run(
        [sys.executable, "-m", "whisper_cli", "in", "-o", "out"],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=120,
        env=base_env(where),
    )
    assert done.returncode == 0, done.stderr
    return _outputs(where / "out")


def _inputs(where: Path) -> None:
    (where / "in").mkdir()
    for name in FILES:
        shutil.copy(SAMPLES / name, where / "in" / name)


def _outputs(folder: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(folder.iterdir()) if not p.name.startswith(".")}


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("whisper-cli: error:")]


def _empty_home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


def test_the_token_in_home_is_found(secured: tuple[Head, str], plain_outputs: dict[str, str], tmp_path: Path):
    """The README's recipe: `ray start` and whisper-cli on one machine, the token where Ray put it."""
    head, _ = secured
    _inputs(tmp_path)
    done = head.run("in", "-o", "out", "--ray", head.address, cwd=tmp_path, env=base_env(head.home))
    assert done.returncode == 0, done.stderr
    assert _outputs(tmp_path / "out") == plain_outputs


def test_the_token_in_the_environment(
    secured: tuple[Head, str], plain_outputs: dict[str, str], tmp_path: Path
):
    head, token = secured
    _inputs(tmp_path)
    env = {**base_env(_empty_home(tmp_path)), "RAY_AUTH_TOKEN": token}
    done = head.run("in", "-o", "out", "--ray", head.address, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert _outputs(tmp_path / "out") == plain_outputs
    assert token not in done.stderr + done.stdout


def test_the_token_in_a_file_given(secured: tuple[Head, str], plain_outputs: dict[str, str], tmp_path: Path):
    """--ray-token-file wins over a wrong RAY_AUTH_TOKEN."""
    head, token = secured
    _inputs(tmp_path)
    (tmp_path / "token").write_text(token + "\n")
    env = {**base_env(_empty_home(tmp_path)), "RAY_AUTH_TOKEN": "0" * 64}
    args = ("in", "-o", "out", "--ray", head.address, "--ray-token-file", "token", "-v")
    done = head.run(*args, cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert _outputs(tmp_path / "out") == plain_outputs
    assert "--ray-token-file token" in done.stderr  # -v says where the token came from, never the token
    assert token not in done.stderr + done.stdout


def test_no_token_is_one_line_and_exit_3(secured: tuple[Head, str], tmp_path: Path):
    head, _ = secured
    _inputs(tmp_path)
    args = ("in", "-o", "out", "--report", "run.json", "--ray", head.address)
    done = head.run(*args, cwd=tmp_path, env=base_env(_empty_home(tmp_path)))
    assert done.returncode == 3, done.stderr
    assert _errors(done.stderr) == [
        f"whisper-cli: error: --ray {head.address}: the cluster wants an authentication token: "
        "none found (~/.ray/auth_token, RAY_AUTH_TOKEN, --ray-token-file)"
    ]
    assert not (tmp_path / "out").exists() or not _outputs(tmp_path / "out")
    assert '"stopped_by": "Ray cluster unavailable"' in (tmp_path / "run.json").read_text()


def test_a_wrong_token_is_one_line_and_exit_3(secured: tuple[Head, str], tmp_path: Path):
    head, _ = secured
    _inputs(tmp_path)
    wrong = "f" * 64
    env = {**base_env(_empty_home(tmp_path)), "RAY_AUTH_TOKEN": wrong}
    done = head.run("in", "-o", "out", "--ray", head.address, "-v", cwd=tmp_path, env=env)
    assert done.returncode == 3, done.stderr
    assert _errors(done.stderr) == [
        f"whisper-cli: error: --ray {head.address}: "
        "the cluster refused the authentication token from RAY_AUTH_TOKEN"
    ]
    assert wrong not in done.stderr + done.stdout


def test_an_empty_token_file_is_a_usage_error(secured: tuple[Head, str], tmp_path: Path):
    head, _ = secured
    _inputs(tmp_path)
    (tmp_path / "token").write_text("\n")
    done = head.run(
        "in", "--ray", head.address, "--ray-token-file", "token", cwd=tmp_path, env=base_env(tmp_path)
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == ["whisper-cli: error: --ray-token-file token: the file is empty"]


def test_a_token_is_not_shown_to_a_cluster_without_authentication(
    plain_outputs: dict[str, str], tmp_path: Path
):
    """A cluster started with no token in HOME wants none; a driver that showed one anyway
    (RAY_AUTH_MODE=token) could not take its own workers' calls: they carry no token."""
    skip_unless_possible()
    _inputs(tmp_path)
    with ray_start(_empty_home(tmp_path)) as head:
        client_home = tmp_path / "client"
        write_token(client_home)
        done = head.run("in", "-o", "out", "--ray", head.address, cwd=tmp_path, env=base_env(client_home))
    assert done.returncode == 0, done.stderr
    assert _outputs(tmp_path / "out") == plain_outputs


@pytest.fixture
def ray_client() -> None:
    """Ray's client (the ray[client] extra: grpcio), or a skip, before the plain run is made."""
    skip_unless_possible()
    pytest.importorskip("grpc")


def test_ray_client_mode_with_authentication(ray_client: None, plain_outputs: dict[str, str], tmp_path: Path):
    """ray://HOST:PORT: through Ray's client server (`ray start` starts one when the client
    is installed), authentication on and the token in HOME."""
    home = tmp_path / "home"
    write_token(home)
    _inputs(tmp_path)
    with ray_start(home, "--ray-client-server-port=10001") as head:
        address = "ray://127.0.0.1:10001"
        head.wait_for_port(10001)
        done = head.run("in", "-o", "out", "--ray", address, cwd=tmp_path, env=base_env(home))
    assert done.returncode == 0, done.stderr
    assert _outputs(tmp_path / "out") == plain_outputs


def test_ray_client_missing_is_a_usage_error(tmp_path: Path):
    """ray:// without Ray's client: one line saying what to install, exit 2, before anything else."""
    pytest.importorskip("ray")
    try:
        import grpc  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("Ray's client is installed here")
    args = [sys.executable, "-m", "whisper_cli", str(SAMPLES / "hello.wav"), "--ray", "ray://127.0.0.1:9"]
    env = base_env(tmp_path)
    done = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=60, env=env)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "whisper-cli: error: --ray ray://127.0.0.1:9: ray:// needs Ray's client, which is not installed "
        "here: pip install 'ray[client]'"
    ]
    assert done.stdout == ""
