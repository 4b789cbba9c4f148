"""The decoding options passed straight to faster-whisper reach the real engine, on every path."""

from __future__ import annotations

import inspect
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from faster_whisper import BatchedInferencePipeline, WhisperModel

from tests.conftest import SAMPLES
from whisper_cli.core.errors import ExitCode
from whisper_cli.decode.engine import whisper_model_class
from whisper_cli.settings import build_settings

HELLO = str(SAMPLES / "hello.wav")
OPTIONS = [
    (("--hotwords", "Zanzibar"), {"hotwords": "Zanzibar"}),
    (("--no-condition-on-previous-text",), {"condition_on_previous_text": False}),
    (("--best-of", "3"), {"best_of": 3}),
    (("--no-speech-threshold", "0.45"), {"no_speech_threshold": 0.45}),
    (("--hallucination-silence-threshold", "2"),
     {"hallucination_silence_threshold": 2.0, "word_timestamps": True}),
    (("--patience", "2"), {"patience": 2.0}),
    (("--length-penalty", "0.5"), {"length_penalty": 0.5}),
    (("--suppress-tokens", "-1,400"), {"suppress_tokens": [-1, 400]}),
]  # fmt: skip
OURS = {k for _, wanted in OPTIONS for k in wanted} - {"word_timestamps"}


@pytest.fixture
def engine_calls(monkeypatch, tiny_model_path):
    """Every call's keyword arguments to the real engine (sequential or batched), which still runs."""
    calls: list[dict] = []
    for cls in (whisper_model_class(), BatchedInferencePipeline):
        real = cls.transcribe

        def spy(self, audio, *args, _real=real, **kwargs):
            calls.append(kwargs)
            return _real(self, audio, *args, **kwargs)

        monkeypatch.setattr(cls, "transcribe", spy)
    return calls


def _run(cli, *args, input=None):
    res = cli(*args, "-m", "tiny.en", "--workers", "1", "-q", input=input)
    assert res.exit_code == ExitCode.OK, res.stderr
    return res


def test_the_defaults_are_faster_whispers_own(cli, engine_calls):
    _run(cli, HELLO)
    defaults = inspect.signature(WhisperModel.transcribe).parameters
    assert {k: engine_calls[0][k] for k in OURS} == {k: defaults[k].default for k in OURS}


@pytest.mark.parametrize(("args", "wanted"), OPTIONS)
def test_each_option_reaches_the_sequential_engine(cli, engine_calls, args, wanted):
    _run(cli, HELLO, *args)
    assert engine_calls and all({k: call[k] for k in wanted} == wanted for call in engine_calls)


@pytest.mark.parametrize(("args", "wanted"), OPTIONS)
def test_each_option_reaches_the_batched_engine(cli, engine_calls, args, wanted):
    _run(cli, HELLO, "--batch-size", "2", *args)
    assert engine_calls and all({k: call[k] for k in wanted} == wanted for call in engine_calls)
    assert all(call["batch_size"] == 2 for call in engine_calls)


def test_options_reach_the_engine_for_clips_decoded_together(cli, engine_calls, tmp_path):
    for name in ("hello.wav", "weather.mp3"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    every = [a for args, _ in OPTIONS for a in args]
    _run(cli, str(tmp_path), "-o", str(tmp_path / "out"), "--batch-size", "2", "-l", "en", *every)
    clips = [call for call in engine_calls if call.get("clip_timestamps")]
    assert clips
    for _, wanted in OPTIONS:
        assert all({k: call[k] for k in wanted} == wanted for call in clips)


def test_options_reach_the_engine_live():
    """--live reads the real stdin (a pipe), so this runs the command in a process with the spy in it."""
    probe = (
        "import json, sys\n"
        "from whisper_cli.decode.engine import whisper_model_class\n"
        "cls = whisper_model_class(); real = cls.transcribe\n"
        "def spy(self, audio, *a, **k):\n"
        "    print('ENGINE', json.dumps([k['hotwords'], k['best_of']]), file=sys.stderr, flush=True)\n"
        "    return real(self, audio, *a, **k)\n"
        "cls.transcribe = spy\n"
        "sys.argv = ['whisper-cli', *sys.argv[1:]]\n"
        "from whisper_cli.__main__ import main; main()\n"
    )
    args = ["-", "--live", "-m", "tiny.en", "--hotwords", "Zanzibar", "--best-of", "2"]
    res = subprocess.run(
        [sys.executable, "-c", probe, *args], input=Path(HELLO).read_bytes(), capture_output=True, timeout=300
    )
    assert res.returncode == 0, res.stderr
    calls = [json.loads(line[7:]) for line in res.stderr.decode().splitlines() if line.startswith("ENGINE ")]
    assert calls and all(call == ["Zanzibar", 2] for call in calls)
    assert "welcome" in res.stdout.decode().lower()


def _command_options(*args: str) -> dict:
    """The transcribe command's parameters for ``args``, as it hands them to build_settings."""
    from typer.testing import CliRunner

    from whisper_cli.cli.app import app

    captured: list[dict] = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("whisper_cli.settings.build_settings", lambda o: captured.append(dict(o)) or sys.exit(0))
        CliRunner().invoke(app, ["transcribe", HELLO, *args])
    return captured[0]


@pytest.mark.parametrize(("args", "wanted"), OPTIONS)
def test_each_option_changes_the_settings_fingerprint(args, wanted):
    plain, changed = build_settings(_command_options()), build_settings(_command_options(*args))
    assert plain.fingerprint("txt") != changed.fingerprint("txt")


def test_ledgers_written_before_these_options_still_match():
    """Unset, the new options leave the fingerprint as it was (outputs written before stay done)."""
    settings = build_settings(_command_options("-m", "tiny.en"))
    assert (
        settings.fingerprint("txt") == "be855679a8853d6d"
    )  # main before these options, and before compute type auto


def test_suppressed_tokens_are_never_written(cli, tiny_model_path):
    """A real effect: the tokens that spell " Hello" suppressed, the model writes something else."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(tiny_model_path) / "tokenizer.json"))
    plain = json.loads(_run(cli, HELLO, "-f", "json").stdout)
    assert plain["text"].split()[0].strip(",.") == "Hello"
    hello = {tokenizer.token_to_id(t) for t in ("Hello", "ĠHello")} - {None}
    res = _run(cli, HELLO, "-f", "json", "--suppress-tokens", ",".join(map(str, [-1, *sorted(hello)])))
    suppressed = json.loads(res.stdout)
    assert "Hello" not in suppressed["text"]
    assert not hello & {t for s in suppressed["segments"] for t in s["tokens"]}
    assert "welcome" in suppressed["text"]  # the rest is still heard


@pytest.mark.parametrize(
    ("args", "decode", "draft"), [((), 5, 2), (("--beam-size", "3"), 3, 3), (("--beam-size", "1"), 1, 1)]
)
def test_live_drafts_search_a_narrow_beam_unless_one_is_asked_for(args, decode, draft):
    """A live draft (committed only when the next decode agrees) searches 2 wide; what is
    committed at once, and every offline decode, uses --beam-size (5 unless given)."""
    from whisper_cli.settings import build_settings

    options = _command_options(*args)
    assert build_settings(options).decode.beam_size == decode
    live = build_settings({**options, "inputs": ["-"], "live": True})
    assert live.decode.beam_size == decode and live.live is not None and live.live.draft_beam_size == draft
