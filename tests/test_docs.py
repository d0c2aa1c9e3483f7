"""The docs stay true: the generated scenario reference, the Python examples, every `sla-sim`
command line they show (it must parse with today's command line), the quick ones run, and every
link between the pages resolves."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from pathlib import Path

import pytest

from sla_sim.cli.main import build_parser, main
from sla_sim.scenario.reference import END, START, reference_markdown

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]


def test_reference_page_matches_schema():
    """docs/scenario.md's reference equals what the schema generates (regenerate if not)."""
    text = (DOCS / "scenario.md").read_text(encoding="utf-8")
    section = text[text.index(START): text.index(END) + len(END)]
    assert section == reference_markdown(), (
        "run: python -m sla_sim.scenario.reference --write docs/scenario.md")


def test_reference_documents_every_leaf_field():
    """Every leaf field of the scenario has a description in the reference."""
    rows = [line for line in reference_markdown().splitlines() if line.startswith("| `")]
    undocumented = [r.split("|")[1].strip() for r in rows if r.rstrip(" |").endswith("|")]
    assert len(rows) > 60
    assert not undocumented


def test_readme_is_a_front_page():
    """The README is a front page a newcomer reads: short, the two commands, links to docs/."""
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 250
    assert "bash dev.sh run" in text
    assert "bash dev.sh test" in text
    for page in DOCS.glob("*.md"):
        assert f"(docs/{page.name})" in text, f"README does not link docs/{page.name}"


def test_links_between_pages_resolve():
    """Every relative Markdown link of the README and docs/ names a file that exists."""
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text(encoding="utf-8")):
            if "://" in target:
                continue
            if not (page.parent / target).resolve().exists():
                broken.append(f"{page.relative_to(ROOT)} -> {target}")
    assert not broken


def _python_example(page: Path, reps: str) -> str:
    text = page.read_text(encoding="utf-8")
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    code = re.sub(r"reps=\d+", f"reps={reps}", code).replace("workers=2", "workers=1")
    return code.replace('load_scenario("my_scenario.yaml")', "None")


@pytest.mark.parametrize("page", [README, DOCS / "python.md"], ids=["README", "python.md"])
def test_python_examples_run(page, tmp_path, monkeypatch):
    """The first Python example of the page runs as written (with two replications)."""
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(_python_example(page, "2"), str(page), "exec"), namespace)  # the page's own code
    assert namespace["variant"].teams[0].reps == 12
    if page.name == "python.md":
        assert (tmp_path / "results" / "variant" / "summary.json").is_file()


def _command_lines(text: str) -> list[str]:
    """Every `sla-sim ...` command of a page: lines of its shell blocks (continuations joined)
    and inline code spans that start with `sla-sim `."""
    found = []
    for block in re.findall(r"```(?:bash|sh|console|text)?\n(.*?)```", text, re.S):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.strip().removeprefix("$ ")
            line = re.sub(r"^(\.venv/bin/|bash dev\.sh run)", "", line).strip()
            if line.startswith("sla-sim ") or line == "sla-sim":
                found.append(line)
    found += [m for m in re.findall(r"`(sla-sim [^`]+)`", text) if "..." not in m]
    return found


def _argv(line: str) -> list[str]:
    """The arguments of one documented command line: comments, redirections and the optional
    brackets of a usage line removed."""
    line = re.sub(r"(^|\s)\[([^\]\[]*(?:\[[^\]]*\][^\]\[]*)*)\]", r"\1\2", line)
    words = shlex.split(line, comments=True)[1:]
    for stop in (">", "|", "&&", ";"):
        if stop in words:
            words = words[: words.index(stop)]
    return words


def _documented_commands() -> list[tuple[str, str]]:
    return [(page.relative_to(ROOT).as_posix(), line) for page in PAGES
            for line in _command_lines(page.read_text(encoding="utf-8"))]


def test_docs_show_commands():
    """The pages do show commands (the parse check below would pass on none)."""
    commands = _documented_commands()
    assert len(commands) > 40
    assert {line.split()[1] for _, line in commands if len(line.split()) > 1} >= {
        "run", "compare", "sweep", "recommend", "measure", "calibrate", "backtest", "runs"}


@pytest.mark.parametrize(("page", "line"), _documented_commands())
def test_documented_command_parses(page, line):
    """Each documented `sla-sim` command line is accepted by today's parser."""
    parser = build_parser()
    err = io.StringIO()
    code: object = 0
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            parser.parse_args(_argv(line))
    except SystemExit as stop:
        code = stop.code
    assert code == 0, f"{page}: `{line}` no longer parses: {err.getvalue().strip()}"


@pytest.mark.parametrize("argv", [
    ["presets"],
    ["funnel", "--target", "3000000"],
    ["scenario", "show", "--preset", "default", "--set", "teams[sdr].reps=12"],
    ["scenario", "diff", "default", "smb_inbound"],
], ids=" ".join)
def test_quick_documented_commands_run(argv, capsys):
    """The quick commands the docs show run and print something."""
    assert any(" ".join(argv[:2]) in line for _, line in _documented_commands())
    assert main(argv) == 0
    assert capsys.readouterr().out.strip()


def _olist_backtest_figures() -> dict[str, str]:
    """The Olist rolling-origin backtest's overall row, as docs/forecasts.md reports it."""
    text = (DOCS / "forecasts.md").read_text(encoding="utf-8")
    olist = text[text.index("## Olist, rolling origins"):]
    m = re.search(r"^\| all \| (\d+) \| (\d+) \(([\d.]+) %, SE [\d.]+ %\) \| ([\d.]+) \|"
                  r" ([\d.]+) \| ([-\d.]+) \|", olist, re.M)  # fmt: skip
    assert m, "docs/forecasts.md: no 'all' row in the Olist rolling-origin table"
    return dict(zip(("judged", "inside", "percent", "simulation", "naive", "skill"), m.groups(),
                    strict=True))  # fmt: skip


def test_olist_backtest_figures_agree_across_pages():
    """The README and docs/crm.md quote the Olist backtest as docs/forecasts.md reports it
    (crm.md said "skill 0.27, bands cover only 36%" two rounds after it became 0.48 and 71 %);
    the pages and the command print the coverage as :func:`sla_sim.metrics.numbers.prob` does
    (``71.4 %``, not ``71%``)."""
    f = _olist_backtest_figures()
    readme = README.read_text(encoding="utf-8")
    assert f"| all | {f['inside']} of {f['judged']} ({f['percent']} %" in readme, (
        "README's Olist backtest coverage differs from docs/forecasts.md's")
    assert f"{float(f['simulation']):.2f} / {float(f['naive']):.2f} |" in readme, (
        "README's Olist backtest errors differ from docs/forecasts.md's")
    crm = " ".join((DOCS / "crm.md").read_text(encoding="utf-8").split())
    assert f"(skill {f['skill']})" in crm, "docs/crm.md quotes another Olist backtest skill"
    assert f"cover {f['percent']} % of the {f['judged']} observations" in crm, (
        "docs/crm.md quotes another Olist backtest coverage")


@pytest.mark.slow
def test_olist_backtest_prints_the_documented_figures(tmp_path, capsys):
    """The command of docs/forecasts.md prints the overall figures its table reports."""
    f = _olist_backtest_figures()
    argv = ["backtest", "--sample", "olist", "--origins", "2018-01-01:2018-04-01", "--out",
            str(tmp_path / "olist_backtest"), "--quiet"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert f"coverage of P10-P90: {f['percent']} % of {f['judged']} judged" in out
    m = re.search(r"mean scaled error: simulation ([\d.]+), naive ([\d.]+); skill ([-\d.]+)", out)
    assert m, out[:500]
    assert [f"{float(m.group(i)):.3f}" for i in (1, 2)] == [f["simulation"], f["naive"]]
    assert f"{float(m.group(3)):.2f}" == f["skill"]
    text = (DOCS / "forecasts.md").read_text(encoding="utf-8")
    band = re.search(r"^\| all \| .* \| ([\d.]+ %) / ([\d.]+ %) / ([\d.]+ %) \|$",
                     text[text.index("## Olist, rolling origins"):], re.M)  # fmt: skip
    assert band, "docs/forecasts.md: no band sources in the Olist 'all' row"
    assert ("band sources (share of variance): trend {}, parameters {}, simulation {}"
            .format(*band.groups())) in out  # fmt: skip


_DOTTED = re.compile(r"`[^`\n]*?(?<![\w.\[])(sla_sim(?:\.\w+)+)")
_REPO_PATH = re.compile(r"(?<![\w/.-])((?:sla_sim|tests|benchmarks|notebooks|docs)/[\w./-]+"
                        r"\.(?:py|ipynb|md|yaml|csv|json|toml))")  # fmt: skip


def _resolves(dotted: str) -> bool:
    """``sla_sim.a.b.name``: the longest importable module prefix, then attributes."""
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def test_named_code_and_files_exist():
    """Every `sla_sim.x.y` the pages name in code resolves (module, function, constant), and every
    repository file they name (`notebooks/04_recommend.ipynb`, `benchmarks/engine.py`) exists:
    a renamed module or notebook leaves no stale pointer behind."""
    stale = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        stale += [f"{page.name}: {name}" for name in sorted(set(_DOTTED.findall(text)))
                  if not _resolves(name)]  # fmt: skip
        stale += [f"{page.name}: {path}" for path in sorted(set(_REPO_PATH.findall(text)))
                  if not (ROOT / path).exists()]  # fmt: skip
    assert not stale


def _console_example(page: Path, starts: str,
                     fence: str = "console") -> tuple[list[str], list[str]]:  # fmt: skip
    """The command (arguments) and printed lines of the ```console block (or ``fence``)
    whose command starts with ``starts`` (continuation lines joined)."""
    text = page.read_text(encoding="utf-8")
    for block in re.findall(rf"```{fence}\n(.*?)```", text, re.S):
        if block.startswith(f"$ {starts}"):
            command, _, printed = block.replace("\\\n", " ").partition("\n")
            return _argv(command.removeprefix("$ ")), printed.splitlines()
    raise AssertionError(f"{page.name}: no {fence} example starting with {starts!r}")


def _steady(lines: list[str]) -> list[str]:
    """Printed lines without what changes from run to run: seconds, store entry names."""
    out = []
    for line in lines:
        line = re.sub(r"; seconds per stage \{.*\}", "", line.rstrip())
        out.append(re.sub(r"^exports -> \S*sla_sim_runs/\S+ \(store entry \S+\)",
                          "exports -> (the store entry)", line))  # fmt: skip
    return out


@pytest.mark.slow
def test_recommend_example_prints_what_the_page_shows(tmp_path, monkeypatch, capsys):
    """docs/recommend.md's example prints exactly its console block (seconds and the store
    entry's name aside): a line the command added (the money, the marginal value of a rep) or
    a figure it changed fails here."""
    argv, printed = _console_example(DOCS / "recommend.md", "sla-sim recommend --preset default")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLA_SIM_STORE", raising=False)
    assert main(argv) == 0
    assert _steady(capsys.readouterr().out.splitlines()) == _steady(printed)
    text = (DOCS / "recommend.md").read_text(encoding="utf-8")
    table = text[text.index("**Exports**"):text.index("**The MQL commitment basis**")]
    listed = {name.rstrip("/") for row in table.splitlines() if row.startswith("| `")
              for name in re.findall(r"`([\w.]+/?)`", row.split("|")[1])}
    assert {p.name for p in (tmp_path / "my_sla").iterdir()} == listed  # the exports table


def test_limit_options_listed_for_every_command_that_has_them():
    """docs/limits.md names every command that takes --max-memory-gb and --max-cpu-hours
    (it left out `marginal`)."""
    import argparse

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    having = {name for name, p in sub.choices.items()
              if {"--max-memory-gb", "--max-cpu-hours"} <= set(p._option_string_actions)}
    text = " ".join((DOCS / "limits.md").read_text(encoding="utf-8").split())
    sentence = re.search(r"`--max-memory-gb` and `--max-cpu-hours` are options of (.*?), for"
                         r" one command", text)  # fmt: skip
    assert sentence, "docs/limits.md no longer says which commands take the limit options"
    assert set(re.findall(r"`([a-z]+)`", sentence.group(1))) == having


#: words the README uses that a marketing-ops reader may not know, each with what its
#: explanation says (the README's "Words used" paragraph)
README_WORDS = {"SLA": "service-level agreement", "MQL": "marketing-qualified lead",
                "SDR": "sales development rep",
                "AE": "account executive", "CRM": "the system the leads are recorded in",
                "replication": "one simulated run", "P10": "10 %",
                "common random numbers": "the same draws for two variants"}


def test_readme_explains_its_words_before_the_first_command():
    """Each domain word of the README is explained before the Quick start, where the reader
    first acts (MQL, SDR, AE, P10-P90, replication and common random numbers were used and
    never explained)."""
    text = " ".join(README.read_text(encoding="utf-8").split())
    first_command = text.index("## Quick start")
    unexplained = [w for w, says in README_WORDS.items()
                   if w in text and not 0 <= text.find(says) < first_command]
    assert not unexplained


def test_documented_dev_sh_commands_exist():
    """Every `dev.sh NAME` the pages show is a command of dev.sh."""
    cases = set(re.findall(r"^\s*([a-z-]+)\)", (ROOT / "dev.sh").read_text(), re.M))
    shown = {(page.name, m) for page in PAGES
             for m in re.findall(r"dev\.sh ([a-z][a-z-]*)", page.read_text(encoding="utf-8"))}
    assert shown
    assert not {(page, name) for page, name in shown if name not in cases}


def test_run_folder_table_lists_what_a_run_writes(tmp_path, monkeypatch):
    """docs/cli.md's table of what `sla-sim run` writes names every file and folder a run
    writes (it left out cost_drivers.parquet)."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    table = text[text.index("## What `sla-sim run` writes"):text.index("## One-line changes")]
    listed = {name.rstrip("/") for row in table.splitlines() if row.startswith("| `")
              for name in re.findall(r"`([\w.]+/?)`", row.split("|")[1])}
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--set", "horizon.warmup_days=20", "--set", "horizon.measure_months=1",
                 "--reps", "1", "--workers", "1", "--quiet", "--out", "o"]) == 0
    written = {p.name for p in (tmp_path / "o").iterdir()}
    assert written == listed


def _shown(printed: list[str]) -> re.Pattern[str]:
    """A page's printed lines as a pattern: a line that is only ``...`` (or ``# ...``) stands
    for any lines the page leaves out, ``...`` inside a line for any text (a run's id)."""
    parts = []
    for line in printed:
        if line.strip() in ("...", "# ..."):
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            parts.append(".*?".join(map(re.escape, line.rstrip().split("..."))) + r"\n")
    return re.compile("".join(parts))


@pytest.mark.parametrize("starts", [
    "sla-sim crm map leads.csv", "sla-sim calibrate leads.csv", "sla-sim measure contacts.csv",
    "sla-sim measure --sample olist",
])
def test_crm_examples_print_what_the_page_shows(starts, tmp_path, monkeypatch):
    """docs/crm.md's console examples, run on the test suite's Salesforce and HubSpot downloads
    (the files they were taken from), print the lines the page shows, in order (the page
    left out the time-zone note of the presets and said "calibrated 46 parameters" when it was
    48)."""
    import crm_downloads as dl

    argv, printed = _console_example(DOCS / "crm.md", starts)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLA_SIM_STORE", raising=False)
    truth = dl.draw()
    dl.salesforce(truth, tmp_path)
    dl.hubspot(truth, tmp_path)
    terminal = io.StringIO()  # stdout and stderr interleaved, as a terminal shows them
    with contextlib.redirect_stdout(terminal), contextlib.redirect_stderr(terminal):
        assert main(argv) == 0
    lines = [line.rstrip() for line in terminal.getvalue().splitlines()]
    assert _shown(printed).fullmatch("\n".join(lines) + "\n"), "\n".join(lines)


def test_notebook_names_the_pages_use_exist():
    """A notebook the pages name by its number (``03_compare_scenarios``) is one in notebooks/:
    the README listed ``03_compare``, a name no file has."""
    stems = {p.stem for p in (ROOT / "notebooks").glob("*.ipynb")}
    named = {(page.name, m) for page in PAGES
             for m in re.findall(r"(?<![\w/])(0\d_[a-z_]+?)(?:\.ipynb)?(?![\w])",
                                 page.read_text(encoding="utf-8"))}  # fmt: skip
    assert named
    assert not {(page, m) for page, m in named if m not in stems}


def test_validate_example_prints_what_the_page_shows(tmp_path, monkeypatch, capsys):
    """docs/cli.md's `validate broken.yaml` example, on the file it describes (``init``'s
    default with a win rate of 1.27 and ``repz`` for the first team's ``reps``), prints its
    lines: a new hint or a changed wording fails here."""
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    block = re.search(r"```text\n\$ sla-sim validate broken\.yaml\n(.*?)```", text, re.S)
    assert block, "docs/cli.md: no `validate broken.yaml` example"
    monkeypatch.chdir(tmp_path)
    assert main(["init", "--out", "d.yaml"]) == 0
    yaml_text = (tmp_path / "d.yaml").read_text(encoding="utf-8")
    broken = yaml_text.replace("  win_rate: 0.27", "  win_rate: 1.27", 1).replace(
        "- name: sdr\n  reps: 10", "- name: sdr\n  repz: 10", 1)
    assert broken.count("win_rate: 1.27") == 1
    assert "repz" in broken
    (tmp_path / "broken.yaml").write_text(broken, encoding="utf-8")
    capsys.readouterr()
    assert main(["validate", "broken.yaml"]) == 2
    assert capsys.readouterr().err.splitlines() == block.group(1).splitlines()


def test_no_page_mentions_a_store_catalog():
    """The run store has no catalog (docs/store.md: the folders are the record, an id file in
    `.runs/` lists each); cli.md said `--out` runs were "registered in the store's catalog"."""
    stale = [page.name for page in PAGES if page.name != "store.md"
             and re.search(r"\bcatalog\b", page.read_text(encoding="utf-8"))]  # fmt: skip
    assert not stale


@pytest.mark.slow
@pytest.mark.parametrize("starts", [
    "sla-sim run --preset default --reps 20", "sla-sim marginal --preset default",
    "sla-sim compare --preset default --set",
])
def test_costs_examples_print_what_the_page_shows(starts, tmp_path, monkeypatch, capsys):
    """docs/costs.md says its outputs are pasted from its commands: every line it shows (the
    `...` lines and the store's folder aside) is a line the command prints today (the compare
    excerpt's columns had moved by one)."""
    argv, printed = _console_example(DOCS / "costs.md", starts, "text")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLA_SIM_STORE", raising=False)
    assert main(argv) == 0
    out = {line.rstrip() for line in capsys.readouterr().out.splitlines()}
    shown = [line.rstrip() for line in printed
             if line.strip() and not line.startswith(("...", "kept in the store"))]
    assert shown
    assert [line for line in shown if line not in out] == []


@pytest.mark.slow
def test_costs_python_example_prints_what_the_page_shows(tmp_path, monkeypatch, capsys):
    """docs/costs.md's Python example prints the block that follows it."""
    text = (DOCS / "costs.md").read_text(encoding="utf-8")
    section = text[text.index("## From Python"):]
    code, printed = re.search(r"```python\n(.*?)```\s*```text\n(.*?)```", section, re.S).groups()
    monkeypatch.chdir(tmp_path)
    exec(compile(code, "docs/costs.md", "exec"), {})  # the page's own code
    assert capsys.readouterr().out.splitlines() == printed.splitlines()


#: classes the pages call that are not sla_sim's (numpy's)
_FOREIGN_CLASSES = {"SeedSequence"}


def test_classes_the_pages_call_say_where_they_come_from():
    """A class a page calls in code (``RunStore()``, ``PlannerPanel(...)``) is importable from
    ``sla_sim`` or named with its module on that page (``sla_sim.batch.store.RunStore``, ``from
    sla_sim.batch.store import RunStore``): ``from sla_sim import RunStore`` failed."""
    import sla_sim

    unsourced = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        code = " ".join(re.findall(r"`([^`\n]+)`", text))
        for name in sorted(set(re.findall(r"(?<![\w.])([A-Z][a-z]+[A-Z]\w*)\(", code))):
            if name in _FOREIGN_CLASSES or hasattr(sla_sim, name):
                continue
            if not re.search(rf"sla_sim(?:\.\w+)+\.{name}\b|from sla_sim[\w.]* import [\w, ]*"
                             rf"\b{name}\b", " ".join(text.split())):  # fmt: skip
                unsourced.append(f"{page.name}: {name}")
    assert not unsourced
