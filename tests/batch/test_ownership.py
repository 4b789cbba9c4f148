"""Never touch what is not ours: the report, outputs beside the user's files, resume by the
ledger, output paths that do not depend on the rest of the set.

Plumbing runs on the scripted model (``fake_transcribe`` + ``cli``, in-process); the
acceptance on samples/ and the hostile folder run the real CLI with the real tiny.en model.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from tests.conftest import SAMPLES, run_cli, sample_text, wer, write_tone
from whisper_cli.batch.ledger import LEDGER_NAME
from whisper_cli.batch.sinks import PARTIAL_PREFIX
from whisper_cli.core.errors import ExitCode


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` (relative name → content hash)."""
    return {str(p.relative_to(folder)): digest(p) for p in folder.rglob("*") if p.is_file()}


def report_of(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture
def rp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Two recordings in rp/ (h01.flac, h02.flac); the working directory is tmp_path."""
    monkeypatch.chdir(tmp_path)
    Path("rp").mkdir()
    for name in ("h01.flac", "h02.flac"):
        write_tone(Path("rp", name), 1.0)
    return Path("rp")


# --------------------------------------------------------------------------- the report


@pytest.mark.parametrize(
    ("report", "message"),
    [
        ("rp/h01.flac", "exists and is not a whisper-cli report"),  # `--report rp/*.flac`, the name forgotten
        ("/dev/null", "a device or special file"),
        ("/dev/stdout", "a device or special file"),
        ("nonexistent_dir/r.json", "folder nonexistent_dir does not exist"),
        ("rp", "is a folder"),
    ],
    ids=["glob-expanded-input", "dev-null", "dev-stdout", "missing-folder", "folder"],
)
def test_a_report_path_that_is_not_ours_is_refused_before_any_work(cli, fake_transcribe, rp, report, message):
    before = snapshot(rp)
    res = cli("-o", "out", "--report", report, "rp/h01.flac", "rp/h02.flac")
    assert res.exit_code == ExitCode.USAGE, res.stderr
    assert message in res.stderr and res.stderr.count("\n") == 1
    assert fake_transcribe == []  # nothing transcribed
    assert snapshot(rp) == before
    assert not Path("out").exists() and not Path("nonexistent_dir").exists()
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_the_report_may_be_neither_an_input_nor_an_output(cli, fake_transcribe, rp):
    Path("notes.wav").write_bytes(b"")  # an empty file may be a report: but not when it is an input
    res = cli("-o", "out", "--report", "rp/h01.txt", "rp")
    assert res.exit_code == 0  # beside the inputs, not where an output goes (out/)
    res = cli("--report", "rp/h01.txt", "rp", "--overwrite")
    assert res.exit_code == ExitCode.USAGE and "where a transcript goes" in res.stderr
    write_tone(Path("rp/talk.wav"), 1.0)
    Path("empty.wav").write_bytes(b"")
    res = cli("-o", "out", "--report", "empty.wav", "empty.wav", "rp/h02.flac")
    assert res.exit_code == ExitCode.USAGE and "is one of the inputs" in res.stderr


def test_an_earlier_report_is_replaced_and_a_link_to_one_is_followed(cli, fake_transcribe, rp):
    assert cli("-o", "out", "--report", "run.json", "rp").exit_code == 0
    os.symlink("run.json", "latest.json")
    assert cli("-o", "out", "--report", "latest.json", "rp", "--overwrite").exit_code == 0
    assert os.path.islink("latest.json")  # the link is kept, the file it names replaced
    assert report_of(Path("run.json"))["counts"]["done"] == 2


def test_report_dash_goes_to_stdout_when_stdout_is_free(cli, fake_transcribe, rp):
    res = cli("-o", "out", "--report", "-", "rp")
    assert res.exit_code == 0
    assert json.loads(res.stdout)["counts"]["done"] == 2
    res = cli("rp/h01.flac", "--report", "-")  # the transcript is on stdout
    assert res.exit_code == ExitCode.USAGE and "stdout carries the transcript" in res.stderr
    assert not Path("-").exists()


def test_an_unwritable_report_folder_is_found_before_the_run(tmp_path, rp):
    from tests.batch.test_hostile import run_unprivileged_fake

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    res = run_unprivileged_fake(
        str(rp.resolve()), "-o", str(tmp_path / "out"), "--report", str(locked / "r.json")
    )
    assert res.returncode == ExitCode.USAGE, res.stderr
    assert "cannot write in" in res.stderr.decode()
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------- outputs beside inputs


def test_the_users_files_beside_the_recordings_are_left_alone(cli, fake_transcribe, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_tone(Path("meeting.flac"), 1.0)
    write_tone(Path("interview.flac"), 1.0)
    Path("meeting.txt").write_text("my notes on the meeting\n")
    os.utime("meeting.txt", (1, 1))  # older than the recording
    Path("interview.txt").write_text("questions for the interview\n")
    os.utime("interview.txt", (4e9, 4e9))  # newer: today it made the recording look done
    res = cli(".", "-f", "txt")
    assert res.exit_code == 0, res.stderr
    assert Path("meeting.txt").read_text() == "my notes on the meeting\n"
    assert Path("interview.txt").read_text() == "questions for the interview\n"
    assert "Segment number 0" in Path("meeting.flac.txt").read_text()
    assert "Segment number 0" in Path("interview.flac.txt").read_text()
    assert res.stderr.count("was not written by whisper-cli") == 2
    again = cli(".", "-f", "txt")
    assert "0 done, 2 skipped" in again.stderr and len(fake_transcribe) == 2


def test_an_output_the_user_edited_is_theirs(cli, fake_transcribe, rp):
    assert cli("rp", "-o", "out").exit_code == 0
    Path("out/h01.txt").write_text("corrected by hand\n")
    res = cli("rp", "-o", "out", "--beam-size", "2")  # settings changed: both redone, the edit kept
    assert res.exit_code == 0
    assert Path("out/h01.txt").read_text() == "corrected by hand\n"
    assert "Segment number" in Path("out/h01.flac.txt").read_text()
    Path("out/h01.flac.txt").write_text("edited too\n")
    res = cli("rp", "-o", "out", "--beam-size", "3")
    assert res.exit_code == ExitCode.FAILED
    assert "are not whisper-cli's output; left as they are" in res.stderr
    assert Path("out/h01.flac.txt").read_text() == "edited too\n"
    res = cli("rp", "-o", "out", "--beam-size", "3", "--overwrite")  # consent
    assert res.exit_code == 0 and "Segment number" in Path("out/h01.txt").read_text()


def test_a_folder_or_fifo_at_an_output_name_is_never_replaced(cli, fake_transcribe, rp):
    Path("out").mkdir()
    Path("out/h01.txt").mkdir()
    os.mkfifo("out/h02.txt")
    res = cli("rp", "-o", "out")
    assert res.exit_code == 0, res.stderr
    assert Path("out/h01.txt").is_dir() and stat.S_ISFIFO(os.lstat("out/h02.txt").st_mode)
    assert {p.name for p in Path("out").iterdir()} >= {"h01.flac.txt", "h02.flac.txt"}
    res = cli("rp", "-o", "out", "--overwrite")
    assert res.exit_code == ExitCode.FAILED and "is not a regular file" in res.stderr
    assert Path("out/h01.txt").is_dir()


# --------------------------------------------------------------------------- resume by the ledger


@pytest.mark.parametrize(
    "changed",
    [
        ("--max-line-width", "20", "--word-timestamps"),
        ("-m", "base"),
        ("-l", "de"),
        ("--no-vad",),
    ],
    ids=["layout", "model", "language", "vad"],
)
def test_other_settings_redo_the_outputs(cli, fake_transcribe, rp, changed):
    args = ("rp", "-o", "out", "-f", "srt", "-m", "tiny" if "base" in changed else "base")
    assert cli(*args).exit_code == 0
    assert "0 done, 2 skipped" in cli(*args).stderr
    res = cli(*args, *changed, "--report", "run.json")
    assert res.exit_code == 0 and "2 done, 0 skipped" in res.stderr
    assert {r["reason"] for r in report_of(Path("run.json"))["inputs"]} == {"settings changed"}
    assert "0 done, 2 skipped" in cli(*args, *changed).stderr


def test_a_changed_input_is_redone_and_the_format_alone_matters_for_layout(cli, fake_transcribe, rp):
    assert cli("rp", "-o", "out", "-f", "txt").exit_code == 0
    assert "0 done, 2 skipped" in cli("rp", "-o", "out", "-f", "txt", "--max-line-width", "20").stderr
    write_tone(Path("rp/h01.flac"), 2.0)
    res = cli("rp", "-o", "out", "-f", "txt", "--report", "run.json")
    assert "1 done, 1 skipped" in res.stderr
    reasons = [r["reason"] for r in report_of(Path("run.json"))["inputs"]]
    assert reasons == ["input changed", "done: same input and settings"]


def test_outputs_of_older_runs_without_a_ledger_are_not_taken_as_done(cli, fake_transcribe, rp):
    Path("out").mkdir()
    Path("out/h01.txt").write_text("written by someone else\n")
    os.utime("out/h01.txt", (4e9, 4e9))
    res = cli("rp", "-o", "out")
    assert "2 done, 0 skipped" in res.stderr
    assert Path("out/h01.txt").read_text() == "written by someone else\n"


# --------------------------------------------------------------------------- where outputs go


def test_adding_inputs_never_moves_or_redoes_finished_ones(cli, fake_transcribe, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("a/h01.wav", "a/h02.wav", "a/h03.wav", "a/h04.wav", "a/h05.wav", "b/x01.wav"):
        Path(name).parent.mkdir(exist_ok=True)
        write_tone(Path(name), 1.0)
    five = "".join(f"a/h0{i}.wav\n" for i in range(1, 6))
    assert cli("--from-file", "-", "-o", "out", input=five).exit_code == 0
    first = snapshot(Path("out"))
    assert set(first) == {f"a/h0{i}.txt" for i in range(1, 6)} | {f"a/{LEDGER_NAME}"}
    res = cli("--from-file", "-", "-o", "out", input=five + "b/x01.wav\n")
    assert res.exit_code == 0 and "1 done, 5 skipped" in res.stderr
    assert {k: v for k, v in snapshot(Path("out")).items() if k in first and LEDGER_NAME not in k} == {
        k: v for k, v in first.items() if LEDGER_NAME not in k
    }
    assert Path("out/b/x01.txt").exists()
    # file arguments: their names; a folder argument: the tree below it
    assert cli("a/h01.wav", "a/h02.wav", "-o", "flat").exit_code == 0
    assert cli("a/h01.wav", "a/h02.wav", "b/x01.wav", "-o", "flat").stderr.count("skipped") == 1
    assert sorted(p.name for p in Path("flat").iterdir() if not p.name.startswith(".")) == [
        "h01.txt",
        "h02.txt",
        "x01.txt",
    ]


def test_two_files_of_one_name_named_apart_are_a_usage_error(cli, fake_transcribe, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("a/talk.wav", "b/talk.wav"):
        Path(name).parent.mkdir()
        write_tone(Path(name), 1.0)
    res = cli("a/talk.wav", "b/talk.wav", "-o", "out")
    assert res.exit_code == ExitCode.USAGE
    assert "a/talk.wav and b/talk.wav would both be written to out/talk.txt" in res.stderr
    assert cli(".", "-r", "-o", "out").exit_code == 0  # their common folder mirrors them
    assert Path("out/a/talk.txt").exists() and Path("out/b/talk.txt").exists()


def test_a_namesake_beside_the_input_keeps_the_extension_whoever_is_in_the_run(cli, fake_transcribe, rp):
    write_tone(Path("rp/h01.wav"), 1.0)
    assert cli("rp/h01.flac", "-o", "out", "-f", "txt", "-f", "srt").exit_code == 0
    assert sorted(p.name for p in Path("out").iterdir() if not p.name.startswith(".")) == [
        "h01.flac.srt",
        "h01.flac.txt",
    ]
    assert "1 done, 1 skipped" in cli("rp/h01.flac", "rp/h01.wav", "-o", "out", "-f", "txt,srt").stderr


# --------------------------------------------------------------------------- the real model


def test_acceptance_samples_folder_keeps_the_reference_texts(tmp_path):
    """`whisper-cli samples/ -m tiny.en`: every samples/*.txt byte-identical, all four recordings
    transcribed (beside them, under their whole names)."""
    folder = tmp_path / "samples"
    shutil.copytree(SAMPLES, folder)
    before = snapshot(folder)
    res = run_cli(str(folder), "-m", "tiny.en", cwd=tmp_path)
    assert res.returncode == 0, res.stderr.decode()
    after = snapshot(folder)
    assert {k: after[k] for k in before} == before
    recordings = [p for p in SAMPLES.iterdir() if p.suffix in (".wav", ".mp3", ".flac", ".ogg")]
    assert len(recordings) == 4
    for recording in recordings:
        transcript = (folder / f"{recording.name}.txt").read_text()
        if recording.stem != "wetter_de":  # German through an English-only model: words, not German
            assert wer(sample_text(recording.name), transcript) < 0.35, recording.name
    assert "4 done, 0 skipped, 0 failed" in res.stderr.decode()
    again = run_cli(str(folder), "-m", "tiny.en", cwd=tmp_path)
    assert "0 done, 4 skipped, 0 failed" in again.stderr.decode()
    assert not list(folder.glob(PARTIAL_PREFIX + "*"))


def _user_files(folder: Path) -> dict[str, bytes]:
    """The user's own files beside the recordings: notes, subtitles and JSON, older and newer."""
    files = {
        "hello.txt": b"my notes: say hello back\n",
        "hello.srt": b"1\n00:00:00,000 --> 00:00:01,000\nmy own subtitle\n\n",
        "weather.json": b'{"mine": true}\n',
        "weather.txt": b"umbrella?\n",
        "sub/lecture.txt": b"reading list for the lecture\n",
        "sub/lecture.srt": b"1\n00:00:00,000 --> 00:00:02,000\nhand-timed\n\n",
        "sub/hi.json": b"[]\n",
        "sub/notes.txt": b"unrelated\n",
    }
    for i, (name, data) in enumerate(sorted(files.items())):
        (folder / name).write_bytes(data)
        stamp = 1.0e9 if i % 2 else 4.0e9  # older and newer than the recordings
        os.utime(folder / name, (stamp, stamp))
    return files


def _transcripts_are_current(folder: Path, args: list[str], cwd: Path) -> dict:
    """Run once more with ``args``: every input must be skipped (the ledger proves its outputs
    current); return that run's report."""
    report = cwd / "check.json"
    res = run_cli(*args, "--report", str(report), cwd=cwd)
    assert res.returncode == 0, res.stderr.decode()
    document = report_of(report)
    assert {r["status"] for r in document["inputs"]} == {"skipped"}, document["inputs"]
    return document


def test_hostile_folder_two_settings_and_a_sigkill(tmp_path):
    """The user's .txt/.srt/.json beside recordings; two runs with different settings, a run
    killed with SIGKILL and its re-run: every file the user owned is byte-identical, every
    recording ends with a current transcript, no partial file is left."""
    import signal
    import subprocess
    import sys
    import time

    folder = tmp_path / "talks"
    (folder / "sub").mkdir(parents=True)
    for source, name in [
        ("hello.wav", "hello.wav"),
        ("weather.mp3", "weather.mp3"),
        ("lecture.flac", "sub/lecture.flac"),
        ("hello.wav", "sub/hi.wav"),
    ]:
        shutil.copy(SAMPLES / source, folder / name)
    mine = _user_files(folder)
    base = [str(folder), "-r", "-m", "tiny.en", "-l", "en", "-f", "txt,srt,json"]

    def untouched() -> None:
        for name, data in mine.items():
            assert (folder / name).read_bytes() == data, name

    first = run_cli(*base, cwd=tmp_path)
    assert first.returncode == 0, first.stderr.decode()
    untouched()
    _transcripts_are_current(folder, base, tmp_path)

    second = [*base, "--max-line-width", "20", "--word-timestamps"]
    res = run_cli(*second, "--report", str(tmp_path / "second.json"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr.decode()
    assert {r["reason"] for r in report_of(tmp_path / "second.json")["inputs"]} == {"settings changed"}
    untouched()

    third = [*base, "--beam-size", "2", "--workers", "1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "whisper_cli", *third],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    ledger = folder / LEDGER_NAME
    lines = ledger.read_text().count("\n")
    deadline = time.monotonic() + 120
    while not (ledger.read_text().count("\n") > lines and list(folder.rglob(PARTIAL_PREFIX + "*"))):
        assert proc.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    partial = list(folder.rglob(PARTIAL_PREFIX + "*"))
    assert partial  # what a killed run leaves
    for path in partial:  # as if the next run came a minute later
        os.utime(path, (time.time() - 60, time.time() - 60))
    untouched()

    res = run_cli(*third, "--report", str(tmp_path / "third.json"), cwd=tmp_path)
    assert res.returncode == 0, res.stderr.decode()
    statuses = {r["status"] for r in report_of(tmp_path / "third.json")["inputs"]}
    assert statuses <= {"done", "skipped"} and "done" in statuses
    untouched()
    assert not list(folder.rglob(PARTIAL_PREFIX + "*"))
    _transcripts_are_current(folder, third, tmp_path)
    for recording, stem in [
        ("hello.wav", "hello.wav"),
        ("weather.mp3", "weather.mp3"),
        ("lecture.flac", "sub/lecture.flac"),
    ]:
        transcript = (folder / f"{stem}.txt").read_text()
        assert wer(sample_text(recording), transcript) < 0.35, (stem, transcript)
    assert "welcome" in (folder / "sub/hi.txt").read_text().lower()  # sub/hi.json is the user's: hi.wav.json
    assert json.loads((folder / "sub/hi.wav.json").read_text())["segments"]


def test_a_long_ledger_is_compacted_and_still_proves_what_is_ours(cli, fake_transcribe, rp):
    from whisper_cli.batch.ledger import COMPACT_OVER, KEEP_PER_OUTPUT, Ledger, State

    assert cli("rp", "-o", "out").exit_code == 0
    ledger = Path("out", LEDGER_NAME)
    current = ledger.read_text()
    stale = [line for line in current.splitlines() if line.strip()]
    older = "".join(line.replace('"sha256":"', '"sha256":"0') + "\n" for line in stale)  # other content
    ledger.write_text(older * (COMPACT_OVER // 2) + current)  # redone a thousand times before
    book = Ledger(Path("out"))
    lines = [line for line in ledger.read_text().splitlines() if line.strip()]
    assert len(lines) == 2 * KEEP_PER_OUTPUT
    assert lines[-1] == stale[-1].strip() or lines[-1] in current  # the newest lines kept whole
    for name in ("h01.txt", "h02.txt"):
        assert book.claim(Path("out", name)).state is State.ours
    assert "0 done, 2 skipped" in cli("rp", "-o", "out").stderr
