"""The README stays true: its generated reference and its Python example."""

from __future__ import annotations

import re
from pathlib import Path

from sla_sim.scenario.reference import END, START, reference_markdown

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_reference_matches_schema():
    """The README's scenario reference equals what the schema generates (regenerate if not)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(START): text.index(END) + len(END)]
    assert section == reference_markdown(), (
        "run: python -m sla_sim.scenario.reference --write README.md")


def test_reference_documents_every_leaf_field():
    """Every leaf field of the scenario has a description in the reference."""
    rows = [line for line in reference_markdown().splitlines() if line.startswith("| `")]
    undocumented = [r.split("|")[1].strip() for r in rows if r.rstrip(" |").endswith("|")]
    assert len(rows) > 60
    assert not undocumented


def test_readme_python_example_runs(tmp_path, monkeypatch):
    """The README's Python example runs as written (with fewer replications)."""
    text = README.read_text(encoding="utf-8")
    code = re.search(r"## From Python\n\n```python\n(.*?)```", text, re.S).group(1)
    code = code.replace("reps=50", "reps=2").replace("workers=2", "workers=1")
    code = code.replace('load_scenario("my_scenario.yaml")', "None")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # the README's own example code
    assert (tmp_path / "results" / "variant" / "summary.json").is_file()
    assert namespace["variant"].teams[0].reps == 12
