"""The shipped voice-encoder weights are what scripts/convert_resemblyzer.py makes from the wheel."""

from __future__ import annotations

import importlib.util
import os
import pickle
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "whisper_cli" / "diarize" / "voice_encoder.npz"
WHEEL_NAME = "Resemblyzer-0.1.4-py3-none-any.whl"


def _script() -> ModuleType:
    path = ROOT / "scripts" / "convert_resemblyzer.py"
    spec = importlib.util.spec_from_file_location("convert_resemblyzer", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel: $RESEMBLYZER_WHEEL (.ci/run downloads it) or a pip download into a cache folder."""
    given = os.environ.get("RESEMBLYZER_WHEEL")
    if given:
        assert Path(given).is_file(), f"RESEMBLYZER_WHEEL={given} does not exist"
        return Path(given)
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "whisper-cli-tests"
    if not (cache / WHEEL_NAME).is_file():
        cache.mkdir(parents=True, exist_ok=True)
        run = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "resemblyzer==0.1.4", "-d", cache],
            capture_output=True,
            text=True,
            timeout=300,
        )
        if run.returncode != 0:  # offline, and not in CI (.ci/run sets RESEMBLYZER_WHEEL)
            pytest.skip(f"cannot download resemblyzer==0.1.4: {run.stderr.strip()[-200:]}")
    return cache / WHEEL_NAME


def test_shipped_weights_are_the_wheels(wheel: Path, tmp_path: Path) -> None:
    out = tmp_path / "voice_encoder.npz"
    assert _script().main([str(wheel), str(out)]) == 0
    assert out.read_bytes() == SHIPPED.read_bytes()
    with np.load(SHIPPED) as z:
        assert sum(z[k].size for k in z.files) == 1_423_616
        assert {z[k].dtype for k in z.files} == {np.dtype(np.float16)}


def test_unpickler_refuses_anything_but_tensors() -> None:
    script = _script()
    parts = (script._LEGACY_MAGIC, 1001, {"little_endian": True})
    header = b"".join(pickle.dumps(x, protocol=2) for x in parts)

    class Evil:
        def __reduce__(self):  # type: ignore[no-untyped-def]
            return (os.system, ("echo owned",))

    with pytest.raises(pickle.UnpicklingError, match="refused to load"):
        script.read_legacy_torch(header + pickle.dumps(Evil(), protocol=2))
    with pytest.raises(pickle.UnpicklingError, match="refused to load"):
        script.read_legacy_torch(pickle.dumps(OrderedDict(), protocol=2))  # not even in the header
