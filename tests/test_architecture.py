"""The house's shape, checked with plain ``ast``: which room may import which (docs/architecture.md),
one job per module (a docstring, under 300 lines), and no import cycle between modules."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGE = ROOT / "whisper_cli"
MAX_LINES = 300

# Each room and the rooms it may import, lower floors only: the table in docs/architecture.md.
# A module at the top of the package (settings.py, __init__.py) is a room of its own.
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "console": set(),
    "audio": {"core"},
    "writers": {"core"},
    "models": {"core", "console"},
    "diarize": {"core", "audio"},
    "decode": {"core", "audio", "models"},
    "settings": {"core", "decode", "diarize", "models", "writers"},
    "batch": {"core", "console", "audio", "models", "decode", "diarize", "writers"},
    "live": {"core", "console", "audio", "decode", "settings", "writers"},
    "cluster": {"core", "console", "audio", "models", "decode", "diarize", "writers", "batch"},
    "cli": {
        "core",
        "console",
        "audio",
        "models",
        "decode",
        "diarize",
        "writers",
        "settings",
        "batch",
        "live",
        "cluster",
    },
    "__init__": {"core", "audio", "decode"},
    "__main__": {"core", "cli"},
}
FLOOR = {
    "core": 0, "console": 0,
    "audio": 1, "writers": 1, "models": 1,
    "diarize": 2, "decode": 2,
    "settings": 3,
    "batch": 4, "live": 4,
    "cluster": 5,
    "cli": 6,
    "__init__": 7, "__main__": 7,
}  # fmt: skip


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(("whisper_cli", *parts)).removesuffix(".__init__")
        found[name] = path
    return found


def _room(module: str) -> str:
    parts = module.split(".")
    return "__init__" if len(parts) == 1 else parts[1]


def _imports(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The whisper_cli modules ``module`` imports, at any depth of its code (lazy imports too)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == "whisper_cli"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "whisper_cli":
                continue
            for alias in node.names:  # `from whisper_cli.core import signals` names a module
                child = f"{node.module}.{alias.name}"
                found.add(child if child in modules else node.module)
        elif isinstance(node, ast.ImportFrom) and node.level:
            pytest.fail(f"{module}: relative import; the house writes absolute ones")
    found.discard(module)
    return found


def test_the_rooms_table_is_a_dag_of_floors():
    rooms = {_room(m) for m in _modules()}
    assert set(ALLOWED) == set(FLOOR)
    assert rooms <= set(ALLOWED), f"rooms missing from the table: {rooms - set(ALLOWED)}"
    for room, below in ALLOWED.items():
        for other in below:
            assert FLOOR[other] < FLOOR[room], f"{room} may not import {other}: same floor or above"


def test_every_import_runs_downwards():
    wrong = []
    modules = _modules()
    for module, path in modules.items():
        room = _room(module)
        for target in _imports(module, path, modules):
            other = _room(target)
            if target == "whisper_cli":  # `from whisper_cli import __version__`
                continue
            if other != room and other not in ALLOWED[room]:
                wrong.append(f"{module} imports {target} ({room} -> {other})")
    assert not wrong, "imports against docs/architecture.md:\n" + "\n".join(wrong)


def test_no_import_cycle_between_modules():
    modules = _modules()
    graph = {m: _imports(m, p, modules) for m, p in modules.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph.get(node, ())):
            if nxt not in graph:
                continue
            if state.get(nxt) == 1:
                cycle = [*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])


def test_each_module_says_its_job_and_does_one():
    long, silent = [], []
    for module, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_LINES:
            long.append(f"{module} ({len(text.splitlines())} lines)")
        doc = ast.get_docstring(ast.parse(text))
        if not doc or not doc.strip():
            silent.append(module)
    assert not long, f"modules over {MAX_LINES} lines (split them by job): {long}"
    assert not silent, f"modules without a docstring saying their job: {silent}"


def test_a_lower_floor_that_imports_a_higher_one_fails_the_check(tmp_path, monkeypatch):
    """The check itself can fail: a writer importing the batch runner is caught."""
    fake = tmp_path / "whisper_cli"
    (fake / "writers").mkdir(parents=True)
    (fake / "batch").mkdir()
    (fake / "__init__.py").write_text('"""x."""\n')
    (fake / "writers" / "__init__.py").write_text('"""x."""\n')
    (fake / "batch" / "__init__.py").write_text('"""x."""\n')
    (fake / "batch" / "runner.py").write_text('"""x."""\n')
    (fake / "writers" / "bad.py").write_text(
        '"""x."""\ndef f():\n    from whisper_cli.batch.runner import X\n'
    )
    monkeypatch.setattr(f"{__name__}.PACKAGE", fake)
    with pytest.raises(AssertionError, match=r"whisper_cli.writers.bad imports whisper_cli.batch.runner"):
        test_every_import_runs_downwards()
