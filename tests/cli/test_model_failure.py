"""A model that cannot load stops the run: summary, report give that cause and exit 3, not 'interrupted'."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from tests.conftest import SAMPLES, run_cli
from whisper_cli.core.errors import ExitCode


def _broken_model(tiny_model_path: str, folder: Path) -> Path:
    """tiny.en's real files, with model.bin cut short: it resolves as a model folder, then fails to load."""
    folder.mkdir()
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copy(Path(tiny_model_path) / name, folder / name)
    (folder / "model.bin").write_bytes((Path(tiny_model_path) / "model.bin").read_bytes()[:4096])
    return folder


def test_a_model_that_fails_to_load_is_not_summarised_as_interrupted(tiny_model_path, tmp_path):
    model = _broken_model(tiny_model_path, tmp_path / "broken")
    inputs = [str(SAMPLES / "hello.wav"), str(SAMPLES / "weather.mp3")]
    report = tmp_path / "run.json"
    out = str(tmp_path / "out")
    res = run_cli(*inputs, "-m", str(model), "-o", out, "--report", str(report), timeout=120)
    assert res.returncode == ExitCode.MODEL, res.stderr.decode()
    lines = res.stderr.decode().splitlines()
    assert "interrupted" not in res.stderr.decode()
    (summary,) = [line for line in lines if " not done " in line]
    assert summary.startswith("0 done, 0 skipped, 0 failed, 2 not done (model not loaded)"), summary
    (error,) = [line for line in lines if line.startswith("whisper-cli: error:")]
    assert error.startswith(f"whisper-cli: error: cannot load the model in {model}: ")
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["interrupted"] is False and document["stopped_by"] == "model not loaded"
    assert document["error"] == error.removeprefix("whisper-cli: error: ")
    assert document["exit_code"] == ExitCode.MODEL
    assert [r["status"] for r in document["inputs"]] == ["pending", "pending"]
