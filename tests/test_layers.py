"""The layout by stage holds: the layering contract (import-linter, pyproject.toml) is kept, it
breaks on an upward import, and no two files import each other at run time, directly or in a
circle."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "sla_sim"
LINT = Path(sys.executable).with_name("lint-imports")
CORE_LIMIT = 8  # small ground-floor modules allowed beside the stage packages


def _lint(cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess[str]:
    if not LINT.exists():
        pytest.fail(f"import-linter is not installed ({LINT}); it is in the dev extras")
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run([str(LINT), "--config", str(cwd / "pyproject.toml"), "--no-cache"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_layering_contract_is_kept() -> None:
    out = _lint(ROOT, ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 kept, 0 broken" in out.stdout


def test_layering_contract_breaks_on_an_upward_import(tmp_path: Path) -> None:
    """The model (stage 3) importing the batch layer (stage 5) must break the contract."""
    shutil.copytree(PACKAGE, tmp_path / "sla_sim",
                    ignore=shutil.ignore_patterns("__pycache__", "data"))  # fmt: skip
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    calls = tmp_path / "sla_sim" / "model" / "calls.py"
    calls.write_text(calls.read_text() + "\nfrom sla_sim.batch import results  # noqa\n")
    out = _lint(tmp_path, tmp_path)
    assert out.returncode != 0
    assert "BROKEN" in out.stdout
    assert "sla_sim.model.calls -> sla_sim.batch.results" in out.stdout


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _is_type_checking(node: ast.If) -> bool:
    t = node.test
    return (isinstance(t, ast.Name) and t.id == "TYPE_CHECKING") or (
        isinstance(t, ast.Attribute) and t.attr == "TYPE_CHECKING")


def _runtime_imports(tree: ast.AST, modules: set[str]) -> set[str]:
    """sla_sim modules a file imports when it runs (imports under TYPE_CHECKING excluded)."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                sub = f"{node.module}.{a.name}"
                if sub in modules:
                    found.add(sub)
                elif node.module in modules:
                    found.add(node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    names = set(files)
    return {m: _runtime_imports(ast.parse(p.read_text()), names) - {m} for m, p in files.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in graph:
        if v not in index:
            strong(v)
    return out


def test_no_file_imports_its_importer() -> None:
    assert cycles(import_graph()) == []


def test_cycle_finder_finds_a_circle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_top_level_holds_stage_packages_and_a_small_ground_floor() -> None:
    core = sorted(p.name for p in PACKAGE.glob("*.py") if p.name not in {"__init__.py",
                                                                          "__main__.py"})
    assert len(core) <= CORE_LIMIT, core
    stages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert {"scenario", "model", "metrics", "analysis", "batch", "recommend", "crm", "report",
            "planner", "cli"} <= stages
