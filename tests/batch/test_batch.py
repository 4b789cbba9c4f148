"""Batch mode: folders, globs and file lists in; mirrored, atomic outputs; resume; failures
isolated; the summary and the --report file; Ctrl-C and SIGTERM.

Plumbing runs on the scripted model (``fake_transcribe`` + ``cli``). Signals go to real
subprocesses: a scripted one (``FAKE_CLI``) for the timing-sensitive cases, and the real
tiny.en model for the acceptance folder and the interrupt-and-resume runs.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import ROOT, SAMPLES, run_cli, write_tone
from whisper_cli.batch.ledger import LEDGER_NAME
from whisper_cli.batch.sinks import PARTIAL_PREFIX
from whisper_cli.core.errors import ExitCode
from whisper_cli.core.transcript import Segment, TranscriptInfo

# --------------------------------------------------------------------------- helpers


def make_tree(root: Path) -> Path:
    """Five tones in nested folders (two intro.mp3), two broken media files, two others."""
    for name, seconds in [
        ("one.wav", 1.0),
        ("talks/intro.mp3", 1.5),
        ("talks/day 1/intro.mp3", 2.0),
        ("talks/day 1/part.flac", 2.5),
        ("talks/day 2/intro.mp3", 3.0),
    ]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        write_tone(root / name, seconds)
    add_junk(root)
    return root


def add_junk(root: Path) -> None:
    """A corrupt .wav, an empty .mp3 (both reported), a .txt and a .jpg (both ignored)."""
    (root / "corrupt.wav").write_bytes(np.random.default_rng(1).bytes(4000))
    (root / "empty.mp3").write_bytes(b"")
    (root / "notes.txt").write_text("shopping list\n")
    (root / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF" + bytes(64))


TONES = [
    "one.wav",
    "talks/intro.mp3",
    "talks/day 1/intro.mp3",
    "talks/day 1/part.flac",
    "talks/day 2/intro.mp3",
]
BROKEN = ["corrupt.wav", "empty.mp3"]


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return make_tree(Path("in"))


def files_under(folder: Path) -> set[str]:
    """Every file below ``folder`` (hidden ones included, but for whisper-cli's ledgers), relative."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != LEDGER_NAME}


def partials(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob(f"{PARTIAL_PREFIX}*")]


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("whisper-cli: error: ")]


def load_report(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def by_status(report: dict) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for record in report["inputs"]:
        out.setdefault(record["status"], set()).add(record["path"])
    return out


# --------------------------------------------------------------------------- plumbing


def test_folder_batch_mirrors_the_tree_isolates_failures_and_reports(cli, fake_transcribe, tree: Path):
    res = cli("-r", "in", "-o", "out", "-f", "txt,srt", "--report", "run.json")
    assert res.exit_code == ExitCode.FAILED
    assert res.stdout == ""  # files only; nothing human on stdout
    expected = {f"{Path(t).with_suffix('')}.{fmt}" for t in TONES for fmt in ("txt", "srt")}
    assert files_under(Path("out")) == expected  # two intro.mp3 elsewhere: no overwrite
    assert Path("out/talks/day 1/intro.txt").read_text() != ""
    # one line per broken file, as it happens; notes.txt and photo.jpg are not mentioned
    errors = error_lines(res.stderr)
    assert len(errors) == 2
    assert "in/corrupt.wav: cannot decode audio" in errors[0]
    assert "in/empty.mp3: empty file" in errors[1]
    assert "notes.txt" not in res.stderr and "photo.jpg" not in res.stderr
    summary = next(line for line in res.stderr.splitlines() if " done, " in line)
    assert summary.startswith("5 done, 0 skipped, 2 failed, 2 non-media file(s) ignored; ")
    assert "; 10.0 s of audio in " in summary and "× real time" in summary  # seconds, not "0.00 h"
    assert summary.endswith("; wrote 10 files under out")
    assert "  failed: in/corrupt.wav: cannot decode audio" in res.stderr
    assert "  failed: in/empty.mp3: empty file (0 bytes)" in res.stderr
    assert partials(Path("out")) == []

    report = load_report(Path("run.json"))
    assert report["counts"] == {"done": 5, "skipped": 0, "failed": 2, "interrupted": 0, "pending": 0}
    assert report["ignored"] == 2 and report["interrupted"] is False
    assert report["settings"]["formats"] == ["txt", "srt"]
    assert report["audio_seconds"] == pytest.approx(10.0, abs=0.01)
    records = {r["path"]: r for r in report["inputs"]}
    assert set(records) == {f"in/{name}" for name in TONES + BROKEN}
    day1 = records["in/talks/day 1/intro.mp3"]
    assert day1["status"] == "done" and day1["language"] == "en" and day1["error"] is None
    assert day1["outputs"] == ["out/talks/day 1/intro.txt", "out/talks/day 1/intro.srt"]
    assert day1["duration"] == pytest.approx(2.0, abs=0.05)
    for name in BROKEN:
        record = records[f"in/{name}"]
        assert record["status"] == "failed" and record["outputs"] == [] and record["error"]


def test_order_is_arguments_then_sorted_paths(cli, fake_transcribe, tree: Path):
    res = cli("in/talks/day 2/intro.mp3", "in", "-r", "-o", "out", "--report", "run.json")
    assert res.exit_code == ExitCode.FAILED
    paths = [r["path"] for r in load_report(Path("run.json"))["inputs"]]
    assert paths == [
        "in/talks/day 2/intro.mp3",
        "in/corrupt.wav",
        "in/empty.mp3",
        "in/one.wav",
        "in/talks/day 1/intro.mp3",
        "in/talks/day 1/part.flac",
        "in/talks/intro.mp3",
    ]


def test_duplicates_are_transcribed_once(cli, fake_transcribe, tree: Path):
    os.symlink("one.wav", "in/alias.wav")
    res = cli("in/one.wav", "./in/one.wav", "in/alias.wav", "in/*.wav", "-o", "out", "--report", "run.json")
    assert [r["path"] for r in load_report(Path("run.json"))["inputs"]] == ["in/one.wav", "in/corrupt.wav"]
    assert len(fake_transcribe) == 1  # corrupt.wav never reaches the model
    assert res.exit_code == ExitCode.FAILED


def test_glob_patterns(cli, fake_transcribe, tree: Path):
    res = cli("in/talks/*/intro.mp3", "-o", "out")
    assert res.exit_code == ExitCode.OK, res.stderr
    assert files_under(Path("out")) == {"day 1/intro.txt", "day 2/intro.txt"}


def test_same_name_with_two_extensions_in_one_folder(cli, fake_transcribe, tree: Path):
    write_tone(Path("in/talks/intro.wav"), 1.0)
    res = cli("in/talks", "-o", "out")
    assert res.exit_code == ExitCode.OK, res.stderr
    assert files_under(Path("out")) == {"intro.mp3.txt", "intro.wav.txt"}


def test_without_output_dir_outputs_go_beside_each_input(cli, fake_transcribe, tree: Path):
    res = cli("in/talks", "-r", "-f", "vtt")
    assert res.exit_code == ExitCode.OK, res.stderr
    assert res.stdout == ""
    for name in ("talks/intro.vtt", "talks/day 1/intro.vtt", "talks/day 1/part.vtt", "talks/day 2/intro.vtt"):
        assert Path("in", name).read_text().startswith("WEBVTT")


def test_exactly_one_input_goes_to_stdout(cli, fake_transcribe, tree: Path):
    res = cli("in/talks/day 2")  # a folder holding one media file
    assert res.exit_code == ExitCode.OK
    assert "Segment number 0" in res.stdout
    assert files_under(Path("in/talks/day 2")) == {"intro.mp3"}


def test_from_file_stdin_with_spaces_in_paths(cli, fake_transcribe, tree: Path):
    listing = "in/talks/day 1/intro.mp3\n\nin/talks/day 1/part.flac\r\nin/one.wav\n"
    res = cli("--from-file", "-", "-o", "out", "--report", "run.json", input=listing)
    assert res.exit_code == ExitCode.OK, res.stderr
    # a list's paths are mirrored as written
    assert files_under(Path("out")) == {"in/talks/day 1/intro.txt", "in/talks/day 1/part.txt", "in/one.txt"}
    assert [r["status"] for r in load_report(Path("run.json"))["inputs"]] == ["done"] * 3


def test_from_file_stdin_as_find_prints_it(tree: Path):
    """`find … | whisper-cli --from-file -` in a real process: bytes on a pipe, a name that is
    not UTF-8 among them (scripted model)."""
    odd = os.fsdecode(b"in/talks/caf\xe9 menu.mp3")
    shutil.copy("in/talks/intro.mp3", odd)
    listing = subprocess.run(["find", "in/talks", "-name", "*.mp3"], capture_output=True, check=True).stdout
    res = run_fake(["--from-file", "-", "-o", "out", "--report", "run.json"], input=listing)
    assert res.returncode == ExitCode.OK, res.stderr
    assert files_under(Path("out")) == {
        "in/talks/intro.txt",
        "in/talks/day 1/intro.txt",
        "in/talks/day 2/intro.txt",
        os.fsdecode(b"in/talks/caf\xe9 menu.txt"),
    }
    assert odd in {r["path"] for r in load_report(Path("run.json"))["inputs"]}  # the exact name, escaped


def test_nothing_left_to_do_loads_no_model(cli, fake_transcribe, monkeypatch, tree: Path):
    for name in BROKEN:
        Path("in", name).unlink()
    assert cli("in", "-r", "-o", "out").exit_code == ExitCode.OK
    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", lambda *a, **k: pytest.fail("model loaded"))
    res = cli("in", "-r", "-o", "out", "--report", "run.json")
    assert res.exit_code == ExitCode.OK
    assert "0 done, 5 skipped, 0 failed" in res.stderr
    assert load_report(Path("run.json"))["counts"]["skipped"] == 5


def test_from_file_list_with_a_missing_entry(cli, fake_transcribe, tree: Path):
    Path("list.txt").write_text("in/one.wav\nin/gone.wav\n")
    res = cli("--from-file", "list.txt", "-o", "out", "--report", "run.json")
    assert res.exit_code == ExitCode.FAILED
    assert error_lines(res.stderr) == ["whisper-cli: error: in/gone.wav: no such file or directory"]
    statuses = {r["path"]: r["status"] for r in load_report(Path("run.json"))["inputs"]}
    assert statuses == {"in/gone.wav": "failed", "in/one.wav": "done"}


def test_all_done_exits_0_with_a_summary_on_stderr(cli, fake_transcribe, tree: Path):
    res = cli("in/one.wav", "in/talks", "-r", "-o", "out")
    assert res.exit_code == ExitCode.OK
    assert res.stdout == ""
    assert "5 done, 0 skipped, 0 failed" in res.stderr


def _empty_folder() -> None:
    Path("empty").mkdir()


def _folder_of_other_files() -> None:
    Path("junk").mkdir()
    Path("junk/notes.txt").write_text("shopping list\n")


def _names_that_still_collide() -> None:
    for name in ("intro.wav", "intro.mp3.flac"):  # with intro.mp3: intro.mp3.txt twice
        write_tone(Path("in/talks", name))


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        pytest.param(_empty_folder, ("empty",), "no audio or video files found (0 other", id="empty-folder"),
        pytest.param(_folder_of_other_files, ("junk",), "found (1 other file(s) left alone)", id="no-media"),
        pytest.param(None, ("in/nothing-here/",), "in/nothing-here/: no such file", id="missing-path"),
        pytest.param(None, ("in/*.ogg",), "in/*.ogg: no such file or directory", id="glob-no-match"),
        pytest.param(None, ("--from-file", "-"), "no audio or video files found", id="empty-list"),
        pytest.param(
            _names_that_still_collide,
            ("in/talks", "-o", "out"),
            "would both be written to out/intro.mp3.txt",
            id="output-collision",
        ),
    ],
)
def test_nothing_to_do_is_a_usage_error_before_the_model_loads(
    cli, monkeypatch, tree: Path, setup, args, message
):
    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", lambda *a, **k: pytest.fail("model loaded"))
    if setup is not None:
        setup()
    res = cli(*args, input="")
    assert res.exit_code == ExitCode.USAGE
    assert message in res.stderr
    assert res.stdout == ""


def test_a_model_failure_costs_one_file(cli, monkeypatch, tree: Path):
    def transcribe(audio, options):
        seconds = len(audio) / 16000
        if round(seconds, 1) == 2.5:  # part.flac
            raise RuntimeError("engine exploded")
        return TranscriptInfo("en", 0.9, seconds), iter([Segment(0, 0.0, 1.0, " ok")])

    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", lambda *a, **k: transcribe)
    res = cli("in/talks", "-r", "-o", "out", "--report", "run.json")
    assert res.exit_code == ExitCode.FAILED
    assert error_lines(res.stderr) == [
        "whisper-cli: error: in/talks/day 1/part.flac: RuntimeError: engine exploded"
    ]
    assert files_under(Path("out")) == {"intro.txt", "day 1/intro.txt", "day 2/intro.txt"}
    record = next(r for r in load_report(Path("run.json"))["inputs"] if r["status"] == "failed")
    assert record["error"] == "RuntimeError: engine exploded"


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_file_is_reported_and_the_batch_goes_on(cli, fake_transcribe, tree: Path):
    locked = Path("in/talks/day 2/intro.mp3")
    locked.chmod(0)
    try:
        res = cli("in/talks", "-r", "-o", "out")
    finally:
        locked.chmod(0o644)
    assert res.exit_code == ExitCode.FAILED
    assert error_lines(res.stderr) == ["whisper-cli: error: in/talks/day 2/intro.mp3: permission denied"]
    assert len(files_under(Path("out"))) == 3


def test_resume_skips_complete_outputs_and_redoes_stale_ones(cli, monkeypatch, tree: Path):
    loads = []
    calls = []

    def get_whisper(*a, **k):
        loads.append(k)

        def transcribe(audio, options):
            calls.append(len(audio))
            return TranscriptInfo("en", 0.9, len(audio) / 16000), iter([Segment(0, 0.0, 1.0, " ok")])

        return transcribe

    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", get_whisper)
    args = ("in", "-r", "-o", "out", "-f", "txt,json", "--report", "run.json")
    assert cli(*args).exit_code == ExitCode.FAILED
    assert (len(loads), len(calls)) == (1, 5)
    first = {p: p.stat().st_mtime_ns for p in Path("out").rglob("*") if p.is_file()}

    res = cli(*args)  # the same command again: nothing left but the broken files
    assert res.exit_code == ExitCode.FAILED
    assert "0 done, 5 skipped, 2 failed" in res.stderr
    assert len(calls) == 5  # nothing transcribed twice
    assert {p: p.stat().st_mtime_ns for p in first} == first
    report = load_report(Path("run.json"))
    assert by_status(report)["skipped"] == {f"in/{t}" for t in TONES}
    skipped = next(r for r in report["inputs"] if r["path"] == "in/one.wav")
    assert skipped["outputs"] == ["out/one.txt", "out/one.json"]

    # an input changed since, and an output that went missing: only those two are redone
    later = time.time() + 5
    os.utime("in/one.wav", (later, later))
    Path("out/talks/day 1/part.json").unlink()
    Path(f"out/talks/{PARTIAL_PREFIX}leftover.txt").write_text("half")  # never taken as output or input
    res = cli(*args)
    assert "2 done, 3 skipped, 2 failed" in res.stderr
    assert by_status(load_report(Path("run.json")))["done"] == {"in/one.wav", "in/talks/day 1/part.flac"}

    res = cli(*args, "--overwrite")
    assert "5 done, 0 skipped, 2 failed" in res.stderr
    assert len(calls) == 5 + 2 + 5


def test_ctrl_c_mid_file_discards_it_keeps_the_rest_and_exits_130(cli, monkeypatch, tree: Path):
    """In-process: the scripted model raises KeyboardInterrupt inside the second file."""
    calls = []

    def transcribe(audio, options):
        calls.append(len(audio))

        def segments() -> Iterator[Segment]:
            yield Segment(0, 0.0, 1.0, " first")
            if len(calls) == 2:
                raise KeyboardInterrupt
            yield Segment(1, 1.0, 2.0, " second")

        return TranscriptInfo("en", 0.9, len(audio) / 16000), segments()

    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", lambda *a, **k: transcribe)
    tones = ["in/one.wav", "in/talks", "-r"]  # five tones, one.wav first
    res = cli(*tones, "-o", "out", "-f", "txt,srt", "--report", "run.json", "--workers", "1")
    assert res.exit_code == ExitCode.INTERRUPTED
    assert "1 done, 0 skipped, 0 failed, 4 not done (interrupted)" in res.stderr
    assert files_under(Path("out")) == {"one.txt", "one.srt"}  # nothing of the second file
    report = load_report(Path("run.json"))
    assert report["interrupted"] is True
    assert [r["status"] for r in report["inputs"]] == ["done", "interrupted", "pending", "pending", "pending"]

    res = cli(*tones, "-o", "out", "-f", "txt,srt", "--report", "run.json")
    assert res.exit_code == ExitCode.OK
    assert [r["status"] for r in load_report(Path("run.json"))["inputs"]] == ["skipped"] + ["done"] * 4
    assert len(files_under(Path("out"))) == 10


def test_workers_transcribe_files_at_the_same_time(cli, monkeypatch, tree: Path):
    barrier = threading.Barrier(2, timeout=10)  # breaks unless two files are in the model at once
    threads = set()
    loads = []

    def transcribe(audio, options):
        threads.add(threading.get_ident())
        barrier.wait()
        return TranscriptInfo("en", 0.9, len(audio) / 16000), iter([Segment(0, 0.0, 1.0, " ok")])

    def get_whisper(*args, **kwargs):
        loads.append(kwargs)
        return transcribe

    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", get_whisper)
    res = cli("in/talks", "-r", "-o", "out", "--workers", "2")
    assert res.exit_code == ExitCode.OK, res.stderr
    assert len(threads) == 2
    assert loads == [{"workers": 2}]  # one model, two instances
    assert len(files_under(Path("out"))) == 4


# --------------------------------------------------------------------------- signals, scripted model

# The CLI with a scripted model, for signals at exact moments. FAKE_LOAD_SECONDS: model
# load time; FAKE_SEGMENT_SECONDS: time per segment; FAKE_SLOW_DECODE: inputs whose name
# contains it take FAKE_SLOW_SECONDS to decode; FAKE_MARKER: touched when the load starts.
FAKE_CLI = r"""
import os, sys, time
from pathlib import Path
import whisper_cli.batch.work, whisper_cli.cli.session
from whisper_cli.audio.load import load_audio
from whisper_cli.core.transcript import Segment, TranscriptInfo

env = os.environ.get

def get_whisper(*args, **kwargs):
    if env("FAKE_MARKER"):
        Path(env("FAKE_MARKER")).touch()
    time.sleep(float(env("FAKE_LOAD_SECONDS", "0")))

    def transcribe(audio, options):
        def segments():
            for i in range(3):
                time.sleep(float(env("FAKE_SEGMENT_SECONDS", "0")))
                yield Segment(i, 2.0 * i, 2.0 * i + 1.8, f" segment {i}")
        return TranscriptInfo("en", 0.99, len(audio) / 16000), segments()
    return transcribe

def decode(source):
    if env("FAKE_SLOW_DECODE") and env("FAKE_SLOW_DECODE") in str(source):
        time.sleep(float(env("FAKE_SLOW_SECONDS", "3")))
    return load_audio(source)

whisper_cli.cli.session.get_whisper = get_whisper
whisper_cli.batch.work.load_audio = decode
from whisper_cli.cli.app import main
sys.argv[0] = "whisper-cli"
main()
"""


def _default_sigint() -> None:
    # A shell without job control starts background jobs with SIGINT ignored, and a child
    # inherits that; the CLI rightly leaves an ignored SIGINT ignored, so undo it here.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args: list[str], *, fake: bool, env: dict[str, str] | None = None, cwd: Path) -> subprocess.Popen:
    command = [sys.executable, "-c", FAKE_CLI] if fake else [sys.executable, "-m", "whisper_cli"]
    environ = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.Popen(
        [*command, *args],
        cwd=cwd,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_default_sigint,
    )


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.02)


def outputs(folder: Path, suffix: str = ".txt") -> list[Path]:
    if not folder.exists():
        return []
    return [p for p in folder.rglob(f"*{suffix}") if not p.name.startswith(PARTIAL_PREFIX)]


def finish(proc: subprocess.Popen, timeout: float = 30) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError("the CLI did not stop") from None
    return proc.returncode, err.decode()


def run_fake(args: list[str], *, input: bytes = b"", env: dict[str, str] | None = None):
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", FAKE_CLI, *args], input=input, capture_output=True, env=environ, timeout=60
    )


def test_sigterm_while_the_model_loads(tree: Path):
    proc = start(
        ["in", "-r", "-o", "out", "--report", "run.json"],
        fake=True,
        env={"FAKE_LOAD_SECONDS": "30", "FAKE_MARKER": "loading"},
        cwd=Path.cwd(),
    )
    wait_for(lambda: Path("loading").exists())
    proc.send_signal(signal.SIGTERM)
    code, err = finish(proc)
    assert code == ExitCode.INTERRUPTED
    assert "0 done, 0 skipped, 0 failed, 7 not done (interrupted)" in err
    report = load_report(Path("run.json"))
    assert report["interrupted"] is True and report["counts"]["pending"] == 7
    assert not Path("out").exists() or partials(Path("out")) == []


def test_ctrl_c_with_two_workers_stops_while_a_worker_waits_for_the_decoder(tree: Path):
    """Both workers idle, waiting for a slow decode, when Ctrl-C comes: no hang."""
    proc = start(
        ["in/talks", "-r", "-o", "out", "--workers", "2", "--report", "run.json"],
        fake=True,
        env={"FAKE_SLOW_DECODE": "part.flac", "FAKE_SLOW_SECONDS": "4"},
        cwd=Path.cwd(),
    )
    wait_for(lambda: len(outputs(Path("out"))) == 1)  # day 1/intro.mp3; part.flac is decoding
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    started = time.monotonic()
    code, err = finish(proc)
    assert code == ExitCode.INTERRUPTED, err
    assert time.monotonic() - started < 6
    assert by_status(load_report(Path("run.json")))["done"] == {"in/talks/day 1/intro.mp3"}
    assert partials(Path("out")) == []


def test_a_second_ctrl_c_does_not_cut_the_stop_short(tree: Path):
    proc = start(
        ["in/talks", "-r", "-o", "out", "-f", "txt,srt", "--workers", "2", "--report", "run.json"],
        fake=True,
        env={"FAKE_SEGMENT_SECONDS": "0.4"},
        cwd=Path.cwd(),
    )
    wait_for(lambda: len(outputs(Path("out"))) >= 1)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.1)  # the workers are still finishing their segment
    proc.send_signal(signal.SIGINT)
    code, err = finish(proc)
    assert code == ExitCode.INTERRUPTED, err
    assert err.count("not done (interrupted)") == 1
    report = load_report(Path("run.json"))
    assert report["interrupted"] is True
    assert partials(Path("out"), Path(".")) == []
    for record in report["inputs"]:  # whatever exists is complete: all three segments
        for path in map(Path, record["outputs"]):
            if path.suffix == ".txt" and path.exists():
                assert path.read_text().count("segment") == 3


# --------------------------------------------------------------------------- the real model

CLIP_SECONDS = 2.2  # "Hello and welcome. This is a short…": one window, a few words


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """21 real speech clips (WAV, FLAC, MP3) in nested folders, plus the four odd files."""
    audio, rate = sf.read(SAMPLES / "hello.wav", dtype="float32")
    audio = audio[: int(CLIP_SECONDS * rate)]
    root = tmp_path_factory.mktemp("clips")
    folders = ("a", "a/deep", "b", "b/deep", "c")
    stems = ("intro.mp3", "one.wav", "two.flac", "three.mp3")
    names = [f"{folder}/{stem}" for folder in folders for stem in stems]
    names.append("top.wav")
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        sf.write(root / name, audio, rate)
    add_junk(root)
    return root


def clip_names(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.suffix in (".wav", ".flac", ".mp3")} - {
        "corrupt.wav",
        "empty.mp3",
    }


def test_acceptance_folder(clips: Path, tmp_path: Path):
    out, report_path = tmp_path / "out", tmp_path / "run.json"
    res = run_cli(
        "-m", "tiny.en", "--beam-size", "1", "-r", str(clips), "-o", str(out), "--report", str(report_path)
    )
    stderr = res.stderr.decode()
    assert res.returncode == ExitCode.FAILED, stderr
    assert res.stdout == b""
    names = clip_names(clips)
    assert len(names) >= 20
    assert files_under(out) == {str(Path(n).with_suffix(".txt")) for n in names}
    for name in names:
        assert "welcome" in (out / Path(name).with_suffix(".txt")).read_text().lower(), name
    errors = error_lines(stderr)
    assert len(errors) == 2 and "corrupt.wav" in errors[0] and "empty.mp3" in errors[1]
    assert f"{len(names)} done, 0 skipped, 2 failed, 2 non-media file(s) ignored" in stderr
    report = load_report(report_path)
    statuses = {str(Path(r["path"]).relative_to(clips)): r["status"] for r in report["inputs"]}
    assert statuses == {**dict.fromkeys(names, "done"), "corrupt.wav": "failed", "empty.mp3": "failed"}
    assert all(r["language"] == "en" for r in report["inputs"] if r["status"] == "done")
    assert report["ignored"] == 2


@pytest.mark.parametrize(
    ("sig", "workers"),
    [(signal.SIGINT, "1"), (signal.SIGTERM, "1"), (signal.SIGINT, "2")],
    ids=["sigint", "sigterm", "sigint-2-workers"],
)
def test_interrupt_then_resume_with_the_real_model(clips: Path, tmp_path: Path, sig: int, workers: str):
    folder = clips / "a"  # 8 clips, nested
    out, report_path = tmp_path / "out", tmp_path / "run.json"
    args = [
        "-m",
        "tiny.en",
        "--beam-size",
        "1",
        "-r",
        str(folder),
        "-o",
        str(out),
        "-f",
        "txt,srt",
        "--report",
        str(report_path),
        "--workers",
        workers,
    ]
    proc = start(args, fake=False, cwd=tmp_path)
    wait_for(lambda: outputs(out, ".srt"))
    proc.send_signal(sig)
    code, err = finish(proc)
    assert code == ExitCode.INTERRUPTED, err
    assert "not done (interrupted)" in err
    assert partials(out, tmp_path) == []
    first = load_report(report_path)
    assert first["interrupted"] is True
    names = clip_names(folder)
    sets = {n: [out / Path(n).with_suffix(f".{fmt}") for fmt in ("txt", "srt")] for n in names}
    have = {n for n, paths in sets.items() if all(p.exists() for p in paths)}  # complete sets
    assert 0 < len(have) < len(names)
    done_first = {str(Path(p).relative_to(folder)) for p in by_status(first).get("done", set())}
    assert done_first <= have
    stamps = {p: p.stat().st_mtime_ns for n in have for p in sets[n]}

    res = run_cli(*args, cwd=tmp_path)
    assert res.returncode == ExitCode.OK, res.stderr.decode()
    second = by_status(load_report(report_path))
    skipped = {str(Path(p).relative_to(folder)) for p in second.get("skipped", set())}
    done = {str(Path(p).relative_to(folder)) for p in second.get("done", set())}
    assert skipped == have and done == names - have  # none transcribed twice, none lost
    assert all(p.stat().st_mtime_ns == ns for p, ns in stamps.items())
    expected = {f"{Path(n).with_suffix('')}.{fmt}" for n in names for fmt in ("txt", "srt")}
    assert files_under(out) == expected  # exactly one complete set each, no partial file
    for name in names:
        assert "welcome" in (out / Path(name).with_suffix(".txt")).read_text().lower(), name
