"""Hostile inputs and hostile conditions: every input ends in a transcript or in one error
line that names it, outputs are complete or absent, and signals stop the run cleanly.

The corpus is generated here (no committed binaries). Inputs that decode are transcribed
by the real tiny.en model, loaded once per session; output and signal plumbing runs the
real CLI in a subprocess with a scripted model (FAKE_CLI) so that sizes and timing are
under the test's control.
"""

from __future__ import annotations

import ctypes
import io
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import ROOT, SAMPLES, names, normalise, run_cli, sample_text, wer
from whisper_cli.audio.load import SAMPLE_RATE, display_name, load_audio
from whisper_cli.batch.sinks import PARTIAL_PREFIX

HELLO = SAMPLES / "hello.wav"
ERROR = "whisper-cli: error: "


# --- generators ----------------------------------------------------------------------------


def hello(rate: int = SAMPLE_RATE) -> np.ndarray:
    """samples/hello.wav at ``rate`` (libswresample, as the decoder uses)."""
    import av

    audio = load_audio(HELLO)
    if rate == SAMPLE_RATE:
        return audio
    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
    frame = av.AudioFrame.from_ndarray(audio.reshape(1, -1), format="flt", layout="mono")
    frame.sample_rate = SAMPLE_RATE
    parts = [f.to_ndarray().reshape(-1) for f in [*resampler.resample(frame), *resampler.resample(None)]]
    return np.concatenate(parts)


def png_bytes(width: int = 8, height: int = 8) -> bytes:
    """A small red PNG image, written by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def write_silent_video(path: Path, seconds: int = 1) -> Path:
    """An MP4 with one MPEG-4 video stream and no audio stream (PyAV, no ffmpeg needed)."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=10)
        stream.width = stream.height = 64
        stream.pix_fmt = "yuv420p"
        for _ in range(10 * seconds):
            frame = av.VideoFrame.from_ndarray(np.zeros((64, 64, 3), np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def write_sparse_wav(path: Path, seconds: float) -> Path:
    """A 16 kHz 16-bit mono WAV of digital silence, written as a sparse file (no disk used)."""
    frames = int(seconds * SAMPLE_RATE)
    data = frames * 2
    header = (
        b"RIFF"
        + struct.pack("<I", 36 + data)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
    )
    with path.open("wb") as f:
        f.write(header + b"data" + struct.pack("<I", data))
        f.truncate(44 + data)
    return path


@dataclass(frozen=True)
class Case:
    """One corpus input: how to make it and what must come of it."""

    name: str | bytes  # file name (bytes: not valid UTF-8)
    make: Callable[[Path], object]
    cause: str | None = None  # the error expected (exit 1); None: a transcript (exit 0)
    words: tuple[str, ...] | None = None  # None: all of hello.wav; (): empty; else: these words


def _sf(audio: np.ndarray, rate: int = SAMPLE_RATE, **kw: object) -> Callable[[Path], object]:
    return lambda p: sf.write(p, audio, rate, **kw)


def _bytes(data: bytes) -> Callable[[Path], object]:
    return lambda p: p.write_bytes(data)


def _cut(sample: str, size: float) -> Callable[[Path], object]:
    """The first ``size`` bytes (an int) or fraction (a float) of a sample."""

    def make(path: Path) -> None:
        data = (SAMPLES / sample).read_bytes()
        path.write_bytes(data[: size if isinstance(size, int) else int(len(data) * size)])

    return make


def flac_claiming(seconds: float, audio: np.ndarray, *, keep_frames: bool = True) -> bytes:
    """A FLAC whose STREAMINFO announces ``seconds`` whatever it holds (over 30 minutes,
    the CLI streams it through iter_audio); without frames it ends after its header."""
    buffer = io.BytesIO()
    sf.write(buffer, audio, SAMPLE_RATE, format="FLAC")
    data = bytearray(buffer.getvalue())
    field = int.from_bytes(data[18:26], "big")  # STREAMINFO bytes 10-17: rate … total samples
    field = field & ~((1 << 36) - 1) | int(seconds * SAMPLE_RATE)
    data[18:26] = field.to_bytes(8, "big")
    return bytes(data if keep_frames else data[:42])


def _with_bad_samples() -> np.ndarray:
    audio = hello().copy()
    audio[1000:1010] = np.nan
    audio[2000] = np.inf
    audio[3000] = -np.inf
    return audio


_RNG = np.random.default_rng(20240611)
_HELLO_WAV = HELLO.read_bytes()
_FIRST_HALF = ("today", "printing", "press", "before", "book")  # lecture.flac's first sentences

CORPUS = [
    Case("zero.wav", _bytes(b""), "empty file (0 bytes)"),
    Case("claims_40_min_holds_none.flac", _bytes(flac_claiming(2400, hello(), keep_frames=False)), "ends"),
    Case("claims_40_min_holds_9_s.flac", _bytes(flac_claiming(2400, hello()))),
    Case("header_only.wav", _sf(np.zeros(0, np.float32)), "contains no audio samples"),
    Case("flac_cut_in_header.flac", _cut("lecture.flac", 60), "cannot decode audio"),
    Case("mp3_cut_in_header.mp3", _cut("weather.mp3", 40), "cannot decode audio"),
    Case("wav_cut_in_header.wav", _cut("hello.wav", 30), "cannot decode audio"),
    Case("ogg_cut_in_header.ogg", _cut("wetter_de.ogg", 3000), "cannot decode audio"),
    *(
        Case(f"random.{ext}", _bytes(_RNG.bytes(4096)), "cannot decode audio")
        for ext in ("wav", "mp3", "flac", "ogg", "m4a", "opus", "webm")
    ),
    Case("text.wav", _bytes(b"hello, I am a text file\n" * 40), "cannot decode audio"),
    Case("no_audio.mp4", write_silent_video, "a video with no audio track"),
    Case("photo.png", _bytes(png_bytes()), "an image, not audio"),
    Case("photo_named.mp3", _bytes(png_bytes()), "an image, not audio"),
    Case("loop.wav", lambda p: p.symlink_to(p.name), "symbolic link loop"),
    Case("dangling.wav", lambda p: p.symlink_to("nowhere.wav"), "broken symbolic link"),
    Case('bad "quoted" name\nwith newline.mp3', _bytes(b"\x00" * 512), "cannot decode audio"),
    Case("flac_cut_half.flac", _cut("lecture.flac", 0.5), words=_FIRST_HALF),
    Case("mp3_cut_half.mp3", _cut("weather.mp3", 0.5), words=("good", "morning", "weather")),
    Case("rate_8k.wav", _sf(hello(8000), 8000)),
    Case("rate_96k.wav", _sf(hello(96000), 96000)),
    Case("six_channels.wav", _sf(np.repeat(hello()[:, None], 6, axis=1) * [1, 0.5, 0.5, 0.2, 0.8, 0.8])),
    Case("pcm24.wav", _sf(hello(), subtype="PCM_24")),
    Case("float.wav", _sf(hello(), subtype="FLOAT")),
    Case("float_nan_inf.wav", _sf(_with_bad_samples(), subtype="FLOAT")),
    Case("one_sample.wav", _sf(np.array([0.1], np.float32)), words=()),
    Case("one_sample_44k.wav", _sf(np.array([0.1], np.float32), 44100), words=()),
    Case("with space 'and' \"quotes\".wav", _bytes(_HELLO_WAV)),
    Case("new\nline.wav", _bytes(_HELLO_WAV)),
    Case(b"caf\xe9 \xff\xfe.wav", _bytes(_HELLO_WAV)),
]


def build(case: Case, folder: Path) -> str:
    """Make the case's file in ``folder``; return its path as the CLI receives it."""
    path = Path(os.fsdecode(os.path.join(os.fsencode(folder), os.fsencode(case.name))))
    case.make(path)
    return str(path)


def _id(case: Case) -> str:
    return display_name(os.fsdecode(case.name))


@pytest.fixture
def real_cli(tiny_transcribe, monkeypatch: pytest.MonkeyPatch):
    """The CLI in-process with the real tiny.en model (loaded once per session)."""
    from typer.testing import CliRunner

    from whisper_cli.cli.app import app

    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", lambda *a, **k: tiny_transcribe)

    def invoke(*args: str, input: bytes | None = None):
        return CliRunner().invoke(app, ["transcribe", *args], input=input, catch_exceptions=False)

    return invoke


def error_lines(stderr: str) -> list[str]:
    assert "Traceback" not in stderr, stderr
    return [line for line in stderr.splitlines() if line.startswith(ERROR)]


# --- 1. the input corpus ------------------------------------------------------------------------


@pytest.mark.parametrize("case", CORPUS, ids=_id)
def test_corpus_input_gives_a_transcript_or_one_error_line_naming_it(case, tmp_path, real_cli):
    source = build(case, tmp_path)
    res = real_cli(source, "-l", "en")
    errors = error_lines(res.stderr)
    if case.cause is not None:
        assert res.exit_code == 1, res.stderr
        assert len(errors) == 1 and res.stdout == ""
        assert display_name(source) in errors[0] and case.cause in errors[0], errors
        assert "\n" not in errors[0]
    else:
        assert res.exit_code == 0, res.stderr
        assert errors == []
        if case.words is None:
            assert wer(sample_text("hello.wav"), res.stdout) < 0.3, res.stdout
        elif not case.words:
            assert res.stdout.strip() == ""
        else:
            assert set(case.words) <= set(normalise(res.stdout).split()), res.stdout


def test_the_bad_inputs_in_one_real_batch(tmp_path):
    """The real CLI in one process: each bad input one line naming it, the rest written, exit 1."""
    cases = [c for c in CORPUS if c.cause is not None] + CORPUS[-3:]  # + the odd names, which work
    sources = [build(case, tmp_path) for case in cases]
    out, report = tmp_path / "out", tmp_path / "report.json"
    res = run_cli(*sources, "-m", "tiny.en", "-l", "en", "-o", str(out), "--report", str(report))
    stderr = res.stderr.decode()
    errors = error_lines(stderr)
    bad = [s for s, c in zip(sources, cases, strict=True) if c.cause is not None]
    assert res.returncode == 1 and res.stdout == b""
    assert len(errors) == len(bad), stderr
    for source in bad:
        assert sum(display_name(source) in line for line in errors) == 1, source
    records = {r["path"]: r["status"] for r in _read_report(report)}
    assert records == {s: "failed" if c.cause else "done" for s, c in zip(sources, cases, strict=True)}
    assert len(list(out.glob("*.txt"))) == 3
    assert not list(out.glob(PARTIAL_PREFIX + "*"))


def _read_report(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["inputs"]


@pytest.mark.parametrize(
    ("data", "cause"),
    [(b"", "<stdin>: no data on standard input"), (b"\x00\x01garbage" * 100, "<stdin>: cannot decode audio")],
    ids=["empty", "garbage"],
)
def test_hostile_stdin(data, cause, real_cli):
    res = real_cli("-", input=data)
    (error,) = error_lines(res.stderr)
    assert res.exit_code == 1 and error.startswith(ERROR + cause)


def test_process_substitution_is_read_like_a_file(tmp_path):
    """`whisper-cli <(cat hello.wav)`: a pipe, read once (its header cannot be peeked at)."""
    script = f'exec "$@" <(cat {HELLO})'
    res = subprocess.run(
        ["bash", "-c", script, "bash", sys.executable, "-m", "whisper_cli", "-m", "tiny.en", "-l", "en"],
        capture_output=True,
        timeout=120,
        cwd=ROOT,
    )
    assert res.returncode == 0, res.stderr
    assert wer(sample_text("hello.wav"), res.stdout.decode()) < 0.3


def test_folder_with_no_audio_is_named_in_the_error(tmp_path, cli, fake_transcribe):
    folder = tmp_path / "talks.wav"  # a folder that looks like a file
    folder.mkdir()
    (folder / "notes.txt").write_text("not audio")
    res = cli(str(folder))
    (error,) = error_lines(res.stderr)
    assert res.exit_code == 2 and str(folder) in error


def test_a_lying_header_does_not_inflate_the_report(tmp_path, cli, fake_transcribe):
    """A FLAC announcing 40 minutes that holds 9 s: the report counts the 9 s decoded."""
    path = tmp_path / "claims_40_min.flac"
    path.write_bytes(flac_claiming(2400, hello()))
    res = cli(str(path), "-o", str(tmp_path / "out"), "--report", str(tmp_path / "r.json"))
    assert res.exit_code == 0, res.stderr
    (record,) = _read_report(tmp_path / "r.json")
    assert record["duration"] == pytest.approx(len(hello()) / SAMPLE_RATE, abs=0.5)


# --- unreadable, vanishing, huge -----------------------------------------------------------------


def _drop_root_file_access() -> None:
    """preexec_fn: as root, lose the capabilities that bypass file permissions."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP: gone after exec
            os._exit(77)


def test_file_without_read_permission(tmp_path):
    locked = tmp_path / "locked.wav"
    locked.write_bytes(_HELLO_WAV)
    locked.chmod(0)
    readable = tmp_path / "hello.wav"
    readable.write_bytes(_HELLO_WAV)
    res = run_unprivileged_fake(str(locked), str(readable), "-o", str(tmp_path / "out"))
    errors = error_lines(res.stderr.decode())
    assert res.returncode == 1
    assert errors == [f"{ERROR}{locked}: permission denied"]
    assert names(tmp_path / "out") == ["hello.txt"]


def test_file_that_vanishes_between_listing_and_reading(tmp_path, monkeypatch, fake_transcribe, cli):
    import whisper_cli.cli.session as session

    files = [tmp_path / f"{name}.wav" for name in ("a", "b", "c")]
    for path in files:
        path.write_bytes(_HELLO_WAV)
    collect = session.collect_inputs

    def collect_then_delete(*args, **kwargs):
        found = collect(*args, **kwargs)
        files[1].unlink()
        return found

    monkeypatch.setattr(session, "collect_inputs", collect_then_delete)
    res = cli(str(tmp_path), "-o", str(tmp_path / "out"), "--report", str(tmp_path / "r.json"))
    assert res.exit_code == 1
    assert error_lines(res.stderr) == [f"{ERROR}{files[1]}: no such file"]
    assert names(tmp_path / "out") == ["a.txt", "c.txt"]
    assert [r["status"] for r in _read_report(tmp_path / "r.json")] == ["done", "failed", "done"]


def test_file_deleted_while_being_read_is_read_as_opened(tmp_path, monkeypatch):
    import whisper_cli.audio.load as audio

    path = tmp_path / "going.mp3"
    shutil.copy(SAMPLES / "weather.mp3", path)
    soundfile_first = audio._decode_soundfile

    def delete_then_decode(stream):
        path.unlink()  # after the open, before either decoder reads a byte
        return soundfile_first(stream)

    monkeypatch.setattr(audio, "_decode_soundfile", delete_then_decode)
    assert len(load_audio(path)) / SAMPLE_RATE == pytest.approx(15, abs=1)


def test_three_hour_file_decodes_within_bounded_memory(tmp_path):
    """3 hours of WAV: streamed (iter_audio, how the CLI reads inputs over 30 minutes) the
    peak RSS stays flat; decoded whole (load_audio) it stays close to the one 16 kHz
    float32 array returned."""
    path = write_sparse_wav(tmp_path / "three_hours.wav", 3 * 3600)
    code = textwrap.dedent(
        """
        import resource, sys
        from whisper_cli.audio.load import iter_audio, load_audio
        peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        base = peak()
        streamed = sum(len(block) for block in iter_audio(sys.argv[1]))
        after_stream = peak()
        audio = load_audio(sys.argv[1])
        print(streamed, after_stream - base, len(audio), audio.nbytes, peak() - after_stream)
        """
    )
    res = subprocess.run(
        [sys.executable, "-c", code, str(path)], capture_output=True, timeout=120, check=True
    )
    streamed, stream_growth, samples, nbytes, whole_growth = map(int, res.stdout.split())
    assert streamed == samples == 3 * 3600 * SAMPLE_RATE
    assert stream_growth < 64 * 2**20, f"streaming grew RSS by {stream_growth / 2**20:.0f} MiB"
    assert whole_growth < 1.1 * nbytes, f"grew RSS by {whole_growth / 2**20:.0f} MiB for {nbytes / 2**20:.0f}"


# --- 5. output safety ------------------------------------------------------------------------------

# The real CLI with a scripted model: FAKE_BYTES transcript bytes per audio second, one
# segment per second, FAKE_DELAY seconds between segments.
FAKE_CLI = textwrap.dedent(
    """
    import os, sys, time
    from whisper_cli.core.transcript import Segment, TranscriptInfo
    import whisper_cli.cli.session

    PER_SECOND = int(os.environ.get("FAKE_BYTES", "40"))
    DELAY = float(os.environ.get("FAKE_DELAY", "0"))

    def segments(seconds):
        for i in range(max(1, int(seconds))):
            if DELAY:
                time.sleep(DELAY)
            yield Segment(i, float(i), i + 1.0, " " + "x" * (PER_SECOND - 1))  # + newline in txt

    def transcribe(audio, options):
        seconds = len(audio) / 16000
        return TranscriptInfo("en", 1.0, seconds), segments(seconds)

    whisper_cli.cli.session.get_whisper = lambda *a, **k: transcribe
    from whisper_cli.cli.app import main
    sys.argv[0] = "whisper-cli"
    main()
    """
)


def fake_cli(
    *args: str, env: dict[str, str] | None = None, limit: str = "", **kw
) -> subprocess.CompletedProcess:
    """The real CLI process with the scripted model; ``limit``: a bash `ulimit` first."""
    cmd = [sys.executable, "-c", FAKE_CLI, *args, "--workers", "1"]  # one file at a time, in order
    if limit:
        cmd = ["bash", "-c", f'ulimit {limit} && exec "$@"', "bash", *cmd]
    full_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
    return subprocess.run(cmd, capture_output=True, timeout=60, cwd=ROOT, env=full_env, **kw)


def tone_files(folder: Path, seconds: list[float]) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, length in enumerate(seconds):
        paths.append(folder / f"{chr(97 + i)}.wav")
        sf.write(paths[-1], np.zeros(int(length * SAMPLE_RATE), np.int16), SAMPLE_RATE)
    return paths


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob(PARTIAL_PREFIX + "*"))


def test_missing_output_directory_is_created(tmp_path):
    (a,) = tone_files(tmp_path / "in", [2])
    out = tmp_path / "not" / "yet" / "there"
    res = fake_cli(str(a), "-o", str(out), "-f", "txt", "-f", "srt")
    assert res.returncode == 0, res.stderr
    assert names(out) == ["a.srt", "a.txt"]


def test_output_directory_not_writable(tmp_path):
    inputs = tone_files(tmp_path / "in", [1, 1])
    out = tmp_path / "readonly"
    out.mkdir()
    out.chmod(0o555)
    res = run_unprivileged_fake(*map(str, inputs), "-o", str(out))
    errors = error_lines(res.stderr.decode())
    assert res.returncode == 1
    assert len(errors) == len(inputs)
    for line, path in zip(sorted(errors), inputs, strict=True):  # sinks.py words the cause
        assert line.startswith(f"{ERROR}{out / path.stem}.txt: ") and "Permission denied" in line
    assert names(out) == []


def run_unprivileged_fake(*args: str) -> subprocess.CompletedProcess:
    res = fake_cli(*args, preexec_fn=_drop_root_file_access)
    if res.returncode == 77:
        pytest.skip("cannot drop root's file-permission capabilities here")
    return res


def test_output_directory_is_a_file(tmp_path):
    """Found before anything loads: a usage error naming it; the file is left alone."""
    (a,) = tone_files(tmp_path / "in", [1])
    blocker = tmp_path / "out"
    blocker.write_text("I am a file")
    res = fake_cli(str(a), "-o", str(blocker))
    errors = error_lines(res.stderr.decode())
    assert res.returncode == 2 and len(errors) == 1
    assert str(blocker) in errors[0] and "not a folder" in errors[0]
    assert blocker.read_text() == "I am a file"


def test_file_size_limit_mid_batch_leaves_no_partial_files_and_redoes_only_the_failed(tmp_path):
    """`ulimit -f 4` (4 KiB): the 10 s file's 4.8 KB transcript cannot be written, the others can."""
    inputs = tone_files(tmp_path / "in", [1, 10, 1])
    out, report = tmp_path / "out", tmp_path / "report.json"
    env = {"FAKE_BYTES": "480"}
    res = fake_cli(str(tmp_path / "in"), "-o", str(out), "--report", str(report), env=env, limit="-f 4")
    errors = error_lines(res.stderr.decode())
    assert res.returncode == 1
    (line,) = errors
    assert line.startswith(f"{ERROR}{out / 'b.txt'}: ") and "file too large" in line
    assert names(out) == ["a.txt", "c.txt"]
    assert [r["status"] for r in _read_report(report)] == ["done", "failed", "done"]
    again = fake_cli(str(tmp_path / "in"), "-o", str(out), "--report", str(report), env=env)
    assert again.returncode == 0
    assert [r["status"] for r in _read_report(report)] == ["skipped", "done", "skipped"]
    assert (out / "b.txt").stat().st_size == 10 * 480
    assert inputs and leftovers(out) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (skipped where mounting is not allowed)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("needs root to mount a tmpfs")
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def test_disk_full_mid_batch(tmp_path, tiny_disk):
    """A real ENOSPC: the disk fills on the second file; no partial file, nothing marked done wrongly."""
    tone_files(tmp_path / "in", [2, 40, 40])
    report = tmp_path / "report.json"
    res = fake_cli(
        str(tmp_path / "in"), "-o", str(tiny_disk), "--report", str(report), env={"FAKE_BYTES": "2000"}
    )
    errors = error_lines(res.stderr.decode())
    statuses = [r["status"] for r in _read_report(report)]
    assert res.returncode == 1
    assert statuses == ["done", "failed", "failed"]
    assert len(errors) == 2
    for line, name in zip(errors, ("b.txt", "c.txt"), strict=True):
        assert line.startswith(f"{ERROR}{tiny_disk / name}: ") and "no space left on device" in line
    assert names(tiny_disk) == ["a.txt"]
    assert (tiny_disk / "a.txt").stat().st_size == 2 * 2000


# --- 6. signals -------------------------------------------------------------------------------------


def _start_slow_batch(tmp_path: Path) -> tuple[subprocess.Popen, Path, Path]:
    tone_files(tmp_path / "in", [2, 30, 2])
    out, report = tmp_path / "out", tmp_path / "report.json"
    cmd = [sys.executable, "-c", FAKE_CLI, str(tmp_path / "in"), "-o", str(out), "--report", str(report)]
    cmd += ["--workers", "1"]  # a, then b, then c
    env = {**os.environ, "FAKE_DELAY": "0.1"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    # a.txt committed and a partial file present: b is being written
    while not ((out / "a.txt").exists() and any(PARTIAL_PREFIX in p.name for p in _listing(out))):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.05)
    return proc, out, report


def _listing(folder: Path) -> list[Path]:
    return list(folder.iterdir()) if folder.is_dir() else []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_file_discards_its_partial_output_and_keeps_finished_files(tmp_path, signum):
    proc, out, report = _start_slow_batch(tmp_path)
    proc.send_signal(signum)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130, stderr
    assert stdout == b"" and "Traceback" not in stderr.decode()
    assert names(out) == ["a.txt"]
    statuses = [r["status"] for r in _read_report(report)]
    assert statuses[:2] == ["done", "interrupted"] and statuses[2] in ("interrupted", "pending")
    assert json.loads(report.read_text())["interrupted"] is True


def test_broken_pipe_exits_quietly(tmp_path):
    """`whisper-cli long.flac | head -n 1`: the first line, then a quiet exit, no traceback.

    The status is 1 when a later segment hits the closed pipe; 0 when every segment was
    written before `head` had exited (a race the kernel decides, not us)."""
    long_mp3 = tmp_path / "long.flac"
    shutil.copy(SAMPLES / "lecture.flac", long_mp3)
    err = tmp_path / "stderr.txt"
    script = f'"$@" 2>{err} | head -n 1; echo "status=${{PIPESTATUS[0]}}" >&2'
    res = subprocess.run(
        ["bash", "-c", script, "bash", sys.executable, "-m", "whisper_cli", str(long_mp3), "-m", "tiny.en"],
        capture_output=True,
        timeout=120,
        cwd=ROOT,
    )
    assert res.stdout.decode().count("\n") == 1 and "printing press" in res.stdout.decode().lower()
    assert res.stderr.decode().strip() in ("status=1", "status=0")
    assert err.read_text() == ""


def test_broken_pipe_on_a_fast_stream_with_many_segments(tmp_path):
    (a,) = tone_files(tmp_path / "in", [600])
    script = '"$@" -f jsonl | head -c 100 >/dev/null; echo "status=${PIPESTATUS[0]}" >&2'
    res = subprocess.run(
        ["bash", "-c", script, "bash", sys.executable, "-c", FAKE_CLI, str(a)],
        capture_output=True,
        timeout=60,
        cwd=ROOT,
    )
    assert res.stderr.decode().strip() == "status=1", res.stderr
