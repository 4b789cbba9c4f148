"""README.md stays true: its commands run as written and its set-up commands are the CI's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _shell_examples() -> list[str]:
    """Every command line of README's ``sh`` blocks, comments cut."""
    blocks = re.findall(r"^```sh\n(.*?)^```", README, re.S | re.M)
    lines = [line.split("  #")[0].strip() for block in blocks for line in block.splitlines()]
    return [line for line in lines if line]


def _offline(command: str) -> bool:
    """Installing needs the package index; everything else runs here as written."""
    return not command.startswith("pip install")


def test_readme_has_shell_examples_to_run():
    offline = [c for c in _shell_examples() if _offline(c)]
    assert len(offline) >= 8, offline
    assert all(c.startswith(("whisper-cli ", "cat ", "find ")) for c in offline), offline


def test_ci_runs_the_readme_test_command():
    test_command = re.search(r"Run the tests.*?```sh\n(.+?)\n```", README, re.S).group(1)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_command in ci


@pytest.mark.parametrize("command", [c for c in _shell_examples() if _offline(c)])
def test_readme_shell_examples_run_as_written(command, tmp_path):
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    samples = sorted(p.name for p in (tmp_path / "samples").iterdir())
    bindir = Path(sys.executable).parent
    script = f'whisper-cli() {{ "{sys.executable}" -m whisper_cli "$@"; }}\n{command}\n'
    res = subprocess.run(
        ["bash", "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300,
        env={"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(Path.home())},
    )  # fmt: skip
    assert res.returncode == 0, f"{command}\n{res.stderr}"
    assert "Traceback" not in res.stderr
    assert sorted(p.name for p in (tmp_path / "samples").iterdir()) == samples  # outputs go elsewhere
    if "models" not in command and ">" not in command and "-o" not in command:
        assert res.stdout.strip(), command


def test_setup_command_transcribes_the_sample():
    line = re.search(r"^pip install -e '\.\[bundled\]' && (.+)$", README, re.M).group(1)
    args = line.split()[1:]
    res = subprocess.run(
        [sys.executable, "-m", "whisper_cli", *args], cwd=ROOT, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    assert "welcome" in res.stdout.lower()


def test_python_example_runs_as_written():
    block = README.split("## From Python", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    res = subprocess.run([sys.executable, "-c", block], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("en ") and "welcome" in res.stdout.lower()
    assert "weather for today" in lines[-1].lower()


def _project_name() -> str:
    return re.search(r'^name = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)


def test_every_pip_install_line_names_this_project():
    """`pip install 'whisper-cli[…]'` once fetched another project (PyPI's whisper-cli, a 2023
    client for OpenAI's web API): every install line names this distribution, or this folder."""
    name = _project_name()
    assert name == "whisper-ct2-cli"
    lines = re.findall(r"pip install ([^`\n]+?)(?:`|&&|$)", README, re.M)
    assert len(lines) >= 3
    for line in lines:
        target = line.split()[-1].strip("'\"")
        assert target.startswith(".") or re.sub(r"\[.*\]$", "", target) == name, line


def test_the_distribution_builds_under_its_name_with_the_whisper_cli_command(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for part in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / part, source / part)
    shutil.copytree(
        ROOT / "whisper_cli", source / "whisper_cli", ignore=shutil.ignore_patterns("__pycache__")
    )
    res = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(source)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    import zipfile

    (wheel,) = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(next(n for n in archive.namelist() if n.endswith("METADATA"))).decode()
        entry_points = archive.read(next(n for n in archive.namelist() if n.endswith("entry_points.txt")))
    assert f"Name: {_project_name()}" in metadata.splitlines()
    assert b"whisper-cli = whisper_cli.__main__:main" in entry_points
    assert b"whisper-ct2-cli = whisper_cli.__main__:main" in entry_points
    # the second command, installed from the wheel, runs and names itself
    target = tmp_path / "installed"
    res = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target", str(target),
         str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    from whisper_cli import __version__

    env = {**os.environ, "PYTHONPATH": str(target)}
    for command in ("whisper-cli", "whisper-ct2-cli"):
        res = subprocess.run(
            [str(target / "bin" / command), "--version"], capture_output=True, text=True, env=env
        )
        assert (res.returncode, res.stdout) == (0, f"{command} {__version__}\n")
