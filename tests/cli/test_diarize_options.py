"""--diarize [auto|channels] and the speaker counts: parsing, usage errors, the fingerprint."""

from __future__ import annotations

from typing import Any

import pytest
import typer

from tests.conftest import SAMPLES
from whisper_cli.cli.app import app
from whisper_cli.cli.speakers import with_diarize_value
from whisper_cli.core.errors import ExitCode
from whisper_cli.settings import build_settings

HELLO = str(SAMPLES / "hello.wav")


def _params(*args: str) -> dict[str, Any]:
    """The transcribe command's parameters as the real command line parses ``args``."""
    command = typer.main.get_command(app).commands["transcribe"]  # type: ignore[attr-defined]
    return command.make_context("transcribe", list(args)).params


@pytest.mark.parametrize(
    ("args", "inputs", "mode"),
    [
        (("talk.wav", "--diarize"), ["talk.wav"], "auto"),
        (("--diarize", "talk.wav"), ["talk.wav"], "auto"),  # an input, not a value
        (("--diarize", "--word-timestamps", "talk.wav"), ["talk.wav"], "auto"),
        (("call.wav", "--diarize", "channels"), ["call.wav"], "channels"),
        (("--diarize", "channels", "call.wav"), ["call.wav"], "channels"),
        (("--diarize=channels", "call.wav"), ["call.wav"], "channels"),
        (("--diarize", "auto", "a.wav", "b.wav"), ["a.wav", "b.wav"], "auto"),
        (("a.wav", "--initial-prompt", "--diarize"), ["a.wav"], None),  # a prompt's text
        (("--", "--diarize"), ["--diarize"], None),  # a file of that name
        (("talk.wav",), ["talk.wav"], None),
    ],
)
def test_diarize_takes_a_value_or_stands_alone(args, inputs, mode) -> None:
    params = _params(*args)
    assert (params["inputs"], params["diarize"]) == (inputs, mode)


def test_rewrite_leaves_other_words_alone() -> None:
    args = ["-m", "--diarize", "x.wav", "--diarize", "-f", "srt"]
    assert with_diarize_value(args, {"-m", "-f"}) == [
        "-m",
        "--diarize",
        "x.wav",
        "--diarize=auto",
        "-f",
        "srt",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((HELLO, "--speakers", "2"), "--speakers: only with --diarize"),
        ((HELLO, "--min-speakers", "2", "--max-speakers", "3"), "--min-speakers, --max-speakers: only with"),
        ((HELLO, "--diarize", "--speakers", "2", "--max-speakers", "3"), "--speakers fixes the count"),
        ((HELLO, "--diarize", "--min-speakers", "4", "--max-speakers", "3"), "--min-speakers 4 is more than"),
        ((HELLO, "--diarize", "channels", "--speakers", "2"), "not with --diarize channels"),
        ((HELLO, "--diarize=what"), "--diarize 'what': choose auto"),
        (("-", "--diarize", "channels"), "cannot take standard input"),
        (("-", "--live", "--diarize"), "live diarization is not supported"),
        (("--mic", "--diarize"), "live diarization is not supported"),
    ],
)
def test_contradictions_are_usage_errors(cli, monkeypatch, args, message) -> None:
    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", lambda *a, **k: pytest.fail("model loaded"))
    res = cli(*args)
    assert res.exit_code == ExitCode.USAGE
    assert message in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert res.stdout == ""


def test_a_count_below_one_is_refused_by_the_parser(cli) -> None:
    res = cli(HELLO, "--diarize", "--speakers", "0")
    assert res.exit_code == ExitCode.USAGE and "'--speakers'" in res.stderr


def test_diarize_decodes_word_times_but_keeps_them_out_unless_asked() -> None:
    plain = build_settings(_params("a.wav", "--diarize"))
    assert plain.decode.word_timestamps and plain.diarize is not None and not plain.diarize.words
    asked = build_settings(_params("a.wav", "--diarize", "--word-timestamps"))
    assert asked.diarize is not None and asked.diarize.words
    counted = build_settings(_params("a.wav", "--diarize", "--min-speakers", "2", "--max-speakers", "5"))
    assert counted.diarize is not None and (counted.diarize.min_speakers, counted.diarize.max_speakers) == (
        2,
        5,
    )
    assert counted.writer.speakers and not build_settings(_params("a.wav")).writer.speakers


def test_fingerprint_changes_with_diarize_and_its_settings() -> None:
    """The ledger must not skip a file transcribed without speakers when they are asked for."""
    variants = [
        (),
        ("--diarize",),
        ("--diarize", "--word-timestamps"),
        ("--diarize", "channels"),
        ("--diarize", "--speakers", "2"),
        ("--diarize", "--speakers", "3"),
        ("--diarize", "--min-speakers", "2"),
        ("--diarize", "--max-speakers", "2"),
    ]
    for fmt in ("txt", "srt", "json"):
        keys = [build_settings(_params("a.wav", *v)).fingerprint(fmt) for v in variants]
        assert len(set(keys)) == len(variants), fmt


def test_fingerprint_without_diarize_is_as_before_it_existed() -> None:
    """A run without --diarize keeps the keys of outputs written before --diarize was added
    (main at 6478e7b), so upgrading does not redo every finished folder."""
    settings = build_settings(_params("a.wav"))
    before = {"txt": "d6c72936d0645ffc", "srt": "6fb68e60b49e8337", "tsv": "6555a09abb4a235c"}
    assert {fmt: settings.fingerprint(fmt) for fmt in before} == before
