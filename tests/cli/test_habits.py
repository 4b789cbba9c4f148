"""Habits users bring from openai-whisper and whisper-ctranslate2, the first run, and --help's look."""

from __future__ import annotations

import json
import re

import pytest

from tests.conftest import ROOT, SAMPLES, run_cli, write_tone
from whisper_cli.core.errors import ExitCode
from whisper_cli.core.transcript import TranscriptInfo

HELLO = str(SAMPLES / "hello.wav")
PANELS = ("Input", "Output", "Model", "Decoding", "Subtitles", "Batch", "Live", "Cluster")


@pytest.mark.parametrize("args", [["-h"], ["transcribe", "-h"], ["models", "-h"], ["models", "path", "-h"]])
def test_h_is_help_everywhere(args):
    res = run_cli(*args)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith(b"Usage: whisper-cli")


@pytest.mark.parametrize(
    ("given", "code"), [("English", "en"), ("german", "de"), ("DE", "de"), ("haitian creole", "ht"),
                        ("Castilian", "es"), ("yue", "yue"), ("auto", None)],
)  # fmt: skip
def test_language_names_as_openai_whisper_takes_them(cli, fake_transcribe, given, code):
    res = cli(HELLO, "-m", "base", "-l", given)
    assert res.exit_code == ExitCode.OK, res.stderr
    assert fake_transcribe[0].language == code


def test_a_misspelt_language_is_a_usage_error_naming_close_ones(cli, fake_transcribe):
    res = cli(HELLO, "-m", "base", "-l", "Englsh")
    assert res.exit_code == ExitCode.USAGE
    (line,) = res.stderr.splitlines()
    assert "unknown language 'Englsh'" in line and "did you mean english?" in line
    assert fake_transcribe == []


def test_english_by_name_with_an_english_only_model(cli, fake_transcribe):
    res = cli(HELLO, "-m", "tiny.en", "-l", "English")
    assert res.exit_code == ExitCode.OK, res.stderr


@pytest.mark.parametrize(
    ("args", "field", "value"),
    [
        (("--word_timestamps",), "word_timestamps", True),
        (("--word_timestamps", "True"), "word_timestamps", True),
        (("--word_timestamps", "False"), "word_timestamps", False),
        (("--condition_on_previous_text", "False"), "condition_on_previous_text", False),
        (("--beam_size", "2"), "beam_size", 2),
        (("--best_of=3",), "best_of", 3),
        (("--initial_prompt", "Hello"), "initial_prompt", "Hello"),
        (("--no_speech_threshold", "0.5"), "no_speech_threshold", 0.5),
        (("--vad_filter", "False"), "vad", False),
    ],
)
def test_openai_whisper_spellings_are_accepted(cli, fake_transcribe, args, field, value):
    res = cli(HELLO, "-m", "tiny.en", *args)
    assert res.exit_code == ExitCode.OK, res.stderr
    assert getattr(fake_transcribe[0], field) == value


def test_output_format_and_dir_with_underscores(cli, fake_transcribe, tmp_path):
    res = cli(HELLO, "--output_format", "srt")
    assert res.exit_code == ExitCode.OK, res.stderr
    assert "00:00:00,000 --> 00:00:01,800" in res.stdout
    res = cli(HELLO, "--output_format=vtt", "--output_dir", str(tmp_path))
    assert res.exit_code == ExitCode.OK, res.stderr
    assert (tmp_path / "hello.vtt").read_text().startswith("WEBVTT")


def test_an_underscore_spelling_is_not_rewritten_after_double_dash_or_as_a_value(cli, fake_transcribe):
    res = cli(HELLO, "--initial-prompt", "--word_timestamps")
    assert res.exit_code == ExitCode.OK, res.stderr
    assert fake_transcribe[0].initial_prompt == "--word_timestamps"
    assert not fake_transcribe[0].word_timestamps
    res = cli("--", "--output_format")
    assert res.exit_code == ExitCode.USAGE and "--output_format" in res.stderr  # a file of that name


def test_model_dir_is_where_models_are_looked_up(cli, fake_transcribe, monkeypatch, tmp_path):
    """whisper-ctranslate2's --model_dir: the Hub cache folder for this run (its layout too)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    seen = {}

    def fake_get_whisper(model, *a, **k):
        from whisper_cli.models import hubcache

        seen["root"] = hubcache.root()
        return lambda audio, options: (TranscriptInfo("en", 1.0, 1.0), iter(()))

    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", fake_get_whisper)
    res = cli(HELLO, "--model_dir", str(tmp_path / "models"))
    assert res.exit_code == ExitCode.OK, res.stderr
    assert seen["root"] == tmp_path / "models"


@pytest.mark.parametrize(
    ("name", "suggestion"), [("smal", "small"), ("tiny-en", "tiny.en"), ("larg-v3", "large-v3")]
)
def test_a_misspelt_model_is_a_usage_error_with_a_suggestion(cli, monkeypatch, name, suggestion):
    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", lambda *a, **k: pytest.fail("model loaded"))
    res = cli(HELLO, "-m", name)
    assert res.exit_code == ExitCode.USAGE
    (line,) = res.stderr.splitlines()
    assert f"unknown model {name!r}" in line and f"did you mean {suggestion}?" in line


def test_the_default_model_offline_names_what_is_here_and_how_to_pick_it(monkeypatch, tmp_path):
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), "WHISPER_CLI_MODEL": ""}
    res = run_cli(HELLO, env=env)
    assert res.returncode == ExitCode.MODEL
    (line,) = res.stderr.decode().splitlines()
    assert "model small is not on this machine" in line
    assert "tiny.en" in line and "-m tiny.en" in line and "WHISPER_CLI_MODEL=tiny.en" in line


@pytest.mark.parametrize(("env", "default"), [({}, "small"), ({"WHISPER_CLI_MODEL": "tiny.en"}, "tiny.en")])
def test_models_marks_the_default(env, default):
    res = run_cli("models", env={"WHISPER_CLI_MODEL": "", **env})
    assert res.returncode == 0, res.stderr
    marked = [line for line in res.stdout.decode().splitlines() if "(default)" in line]
    assert len(marked) == 1 and marked[0].split()[0] == default


def test_help_is_grouped_with_readable_metavars_and_examples():
    res = run_cli("--help")
    text = res.stdout.decode()
    headings = re.findall(r"^([A-Z][a-z]+)( [a-z]+)*:$", text, re.M)
    assert [h[0] for h in headings if h[0] in PANELS] == list(PANELS)
    assert "<list[str]>" not in text and "range>" not in text and "<str>" not in text
    assert "Examples:" in text and "whisper-cli talk.mp3" in text
    assert "auto|int8" in text and "default|" not in text
    overwrite = text[text.index("--overwrite") :].split("\n  -")[0]
    assert "files you wrote yourself" in " ".join(overwrite.split())
    declared = re.findall(r"^  (?:-\w, )?(--[\w-]+)", text, re.M)
    assert "--output-format" in declared and not [o for o in declared if "_" in o]  # spellings hidden


def test_compute_type_default_still_accepted(cli, fake_transcribe):
    res = cli(HELLO, "--compute-type", "default")
    assert res.exit_code == ExitCode.OK, res.stderr


def test_second_entry_point_named_after_the_distribution():
    scripts = (ROOT / "pyproject.toml").read_text().split("[project.scripts]")[1].split("\n[")[0]
    entries = dict(re.findall(r'^([\w-]+) = "(.+)"', scripts, re.M))
    assert entries == {
        "whisper-cli": "whisper_cli.__main__:main",
        "whisper-ct2-cli": "whisper_cli.__main__:main",
    }


def test_whisper_ct2_cli_names_itself(tmp_path):
    import subprocess
    import sys

    probe = (
        "import sys, runpy; sys.argv[0] = '/usr/bin/whisper-ct2-cli'\n"
        "runpy.run_module('whisper_cli', run_name='__main__')"
    )
    res = subprocess.run([sys.executable, "-c", probe, "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("whisper-ct2-cli ")
    res = subprocess.run([sys.executable, "-c", probe, "-h"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("Usage: whisper-ct2-cli")
    res = subprocess.run([sys.executable, "-c", probe, "-f", "docx", HELLO], capture_output=True, text=True)
    assert res.returncode == ExitCode.USAGE and res.stderr.startswith("whisper-ct2-cli: error:")


def test_readme_says_what_to_do_when_whisper_cpp_is_on_path():
    readme = (ROOT / "README.md").read_text()
    assert "whisper.cpp" in readme and "whisper-ct2-cli" in readme
    assert len(readme.splitlines()) < 250


def test_json_report_records_the_new_decoding_options(cli, fake_transcribe, tmp_path):
    report = tmp_path / "run.json"
    res = cli(HELLO, "-o", str(tmp_path / "out"), "--report", str(report), "--hotwords", "Zanzibar",
              "--best-of", "3")  # fmt: skip
    assert res.exit_code == ExitCode.OK, res.stderr
    settings = json.loads(report.read_text())["settings"]
    assert settings["hotwords"] == "Zanzibar" and settings["best_of"] == 3


@pytest.mark.parametrize("flag", [("--print-times",), ("--verbose", "True")])
def test_print_times_shows_timed_lines_on_stderr(cli, fake_transcribe, flag):
    res = cli(HELLO, *flag)
    assert res.exit_code == ExitCode.OK, res.stderr
    assert res.stdout.splitlines()[0] == "Segment number 0 [music] here."  # the data is as it was
    assert res.stderr.splitlines() == [
        f"[00:{2 * i:02d}.000 --> 00:{2 * i + 1:02d}.800] Segment number {i} [music] here." for i in range(3)
    ]


def test_print_times_names_the_file_when_there_are_several(cli, fake_transcribe, tmp_path):
    a, b = (str(write_tone(tmp_path / f"{n}.wav")) for n in "ab")
    res = cli(a, b, "-o", str(tmp_path / "out"), "--print-times", "-q")
    assert res.exit_code == ExitCode.OK, res.stderr
    lines = res.stderr.splitlines()
    assert sorted(line.split(" [")[0] for line in lines) == sorted([a] * 3 + [b] * 3)
    assert f"{a} [00:02.000 --> 00:03.800] Segment number 1 [music] here." in lines


def test_print_times_is_not_for_live(cli):
    res = cli("-", "--live", "--print-times")
    assert res.exit_code == ExitCode.USAGE and "--print-times" in res.stderr


def test_the_default_model_with_no_network_names_what_is_here(tmp_path):
    """Right after set-up on a machine with no network: the Hub cannot be reached (no HF_HUB_OFFLINE)."""
    env = {"HF_ENDPOINT": "http://127.0.0.1:9", "HF_HOME": str(tmp_path / "hf"), "WHISPER_CLI_MODEL": ""}
    res = run_cli(HELLO, env=env, timeout=60)
    assert res.returncode == ExitCode.MODEL
    (line,) = res.stderr.decode().splitlines()
    assert "cannot download model small from http://127.0.0.1:9: cannot reach it" in line
    assert "tiny.en" in line and "-m tiny.en" in line and "WHISPER_CLI_MODEL=tiny.en" in line
