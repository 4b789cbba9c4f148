"""Shell completion: Typer's scripts for bash, zsh and fish, and completion requests answered
as a shell makes them (a line naming no command completes as `transcribe`)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def whisper_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "whisper_cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, **env},
    )


def shown_in_bash() -> subprocess.CompletedProcess:
    """`whisper-cli --show-completion` run from bash (Typer detects the shell it runs in)."""
    command = f'"{sys.executable}" -m whisper_cli --show-completion; exit $?'
    return subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60, cwd=ROOT)


def bash_completions(line: str) -> list[str]:
    """What bash offers at the end of ``line``: the shown script, sourced in a real bash, called
    as bash calls it on <Tab> (COMP_WORDS, COMP_CWORD), with whisper-cli on the PATH."""
    script = shown_in_bash().stdout
    bindir = os.path.dirname(sys.executable)  # the installed whisper-cli script is there
    words = line.split(" ")
    driver = (
        f"{script}\n"
        f"COMP_WORDS=({' '.join(repr(w) for w in words)}); COMP_CWORD={len(words) - 1}\n"
        '_whisper_cli_completion whisper-cli; printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    res = subprocess.run(
        ["bash", "-c", driver], capture_output=True, text=True, timeout=60, cwd=ROOT,
        env={**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"},
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    return [w for w in res.stdout.splitlines() if w]


def test_bash_script_is_generated_for_the_command():
    res = shown_in_bash()
    assert res.returncode == 0, res.stderr
    assert "_WHISPER_CLI_COMPLETE=complete_bash" in res.stdout
    assert "complete -o default -F _whisper_cli_completion whisper-cli" in res.stdout


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("whisper-cli --mo", ["--model", "--model-dir"]),
        ("whisper-cli samples/hello.wav --output-", ["--output-format", "--output-dir"]),
        ("whisper-cli samples/hello.wav --device ", ["auto", "cpu", "cuda"]),
        ("whisper-cli mod", ["models"]),
        ("whisper-cli transcribe --word", ["--word-timestamps"]),
        ("whisper-cli --install-comp", ["--install-completion"]),
    ],
)
def test_bash_completes_as_the_command_runs(line, expected):
    assert bash_completions(line) == expected


@pytest.mark.parametrize("shell", ["zsh", "fish"])
def test_zsh_and_fish_scripts_and_answers(shell):
    from typer._completion_shared import get_completion_script  # what --show-completion prints there

    script = get_completion_script(prog_name="whisper-cli", complete_var="_WHISPER_CLI_COMPLETE", shell=shell)
    assert f"_WHISPER_CLI_COMPLETE=complete_{shell}" in script
    answer = whisper_cli(
        _WHISPER_CLI_COMPLETE=f"complete_{shell}",
        _TYPER_COMPLETE_ARGS="whisper-cli talk.mp3 --beam",
        _TYPER_COMPLETE_FISH_ACTION="get-args",
    )
    assert answer.returncode == 0 and "--beam-size" in answer.stdout


def test_help_mentions_completion_and_imports_nothing_for_it():
    res = whisper_cli("--help")
    assert "--install-completion" in res.stdout
    probe = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "whisper_cli", "--help"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert "numpy" not in probe.stderr and "whisper_cli.cli.session" not in probe.stderr
