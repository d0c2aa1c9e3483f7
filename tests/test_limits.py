"""Limits on what a request may cost, and exit 2 (never a traceback) for every bad input.

Oversized requests are refused before anything runs, in under 2 s and 300 MB (measured in a
child process around ``main()``); scenario files that are too big, too deep, not UTF-8, full
of YAML aliases, with non-finite numbers, duplicate keys or impossible dates exit 2 with a
message naming the field.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from sla_sim.cli.main import main
from sla_sim.errors import Issue, ScenarioError
from sla_sim.scenario.io import dump_yaml, save, set_path
from tests.conftest import make_tiny

ROOT = Path(__file__).resolve().parents[1]

#: Runs main() in a child process whose address space is capped at 1 GB; prints the exit code,
#: the CPU seconds the process spent (imports included: wall time is noise on a shared 2-core
#: machine) and its peak RSS in MB.
MEASURE = """
import resource, sys
# address space capped at 1 GB: a request that is not refused dies on the cap, not the machine
resource.setrlimit(resource.RLIMIT_AS, (2**30, 2**30))
from sla_sim.cli.main import main
code = main(sys.argv[1:])
me = resource.getrusage(resource.RUSAGE_SELF)
cpu = me.ru_utime + me.ru_stime
# VmHWM (peak RSS of this program) rather than ru_maxrss, which keeps the peak of the forked
# test process from before exec
status = open("/proc/self/status").read() if sys.platform.startswith("linux") else ""
hwm = [int(x.split()[1]) for x in status.splitlines() if x.startswith("VmHWM:")]
rss = (hwm[0] if hwm else me.ru_maxrss) / 1024
print(f"RESULT {code} {cpu:.3f} {rss:.0f}", file=sys.stderr)
"""


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLA_SIM_MAX")}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _measured(args: list[str], cwd: Path) -> tuple[int, float, float, str]:
    done = subprocess.run([sys.executable, "-c", MEASURE, *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    line = [x for x in done.stderr.splitlines() if x.startswith("RESULT ")]
    assert line, done.stderr
    code, secs, mb = line[-1].split()[1:]
    return int(code), float(secs), float(mb), done.stderr


def _scenario_file(tmp_path: Path, name: str = "sc.yaml", **paths: Any) -> Path:
    sc = make_tiny()
    for p, v in paths.items():
        sc = set_path(sc, p.replace("__", "."), v)
    return save(sc, tmp_path / name)


def _with_raw(tmp_path: Path, edit: Any, name: str = "raw.yaml") -> Path:
    """A tiny scenario file whose YAML mapping was edited by ``edit(data)``."""
    data = yaml.safe_load(dump_yaml(make_tiny()))
    edit(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------- oversized requests
def _big_leads(tmp_path: Path, leads: float) -> Path:
    return _with_raw(tmp_path, lambda d: d["channels"][0].__setitem__("leads_per_month", leads),
                     f"leads-{leads:g}.yaml")  # fmt: skip


OVERSIZED = {
    "leads_1e7": lambda p: ["run", str(_big_leads(p, 1e7)), "--reps", "2"],
    "leads_1e12": lambda p: ["run", str(_big_leads(p, 1e12)), "--reps", "2"],
    "reps_1e9": lambda p: ["run", "--reps", "1000000000", "--max-reps", "1000000000"],
    "sweep_grid_1e8": lambda p: ["sweep", "--param", "teams[sdr].reps=1:100000000", "--out",
                                 str(p / "s.parquet")],
    "sweep_stepped_1e8": lambda p: ["sweep", "--param", "teams[sdr].reps=1:100000000:1",
                                    "--out", str(p / "s.parquet")],
    "sweep_samples_1e9": lambda p: ["sweep", "--param", "teams[sdr].reps=1:20", "--samples",
                                    "1000000000", "--out", str(p / "s.parquet")],
    "compare_reps_1e8": lambda p: ["compare", str(_scenario_file(p, "a.yaml")),
                                   str(_scenario_file(p, "b.yaml", **{"teams[sdr]__reps": 12})),
                                   "--reps", "100000000"],
}


@pytest.mark.parametrize("case", list(OVERSIZED))
def test_oversized_request_is_refused_fast_and_small(case: str, tmp_path: Path) -> None:
    """Each oversized request exits 2 naming what to lower and how to raise the limit, in
    under 2 CPU-seconds and 300 MB (interpreter start and imports included), writing nothing."""
    args = [*OVERSIZED[case](tmp_path), "--store", str(tmp_path / "store"), "--quiet"]
    code, secs, mb, err = _measured(args, tmp_path)
    assert code == 2, err
    assert "Traceback" not in err
    assert "limit" in err
    assert "--max-memory-gb" in err or "--max-cpu-hours" in err, err
    assert secs < 2.0, (secs, err)
    assert mb < 300, (mb, err)
    assert not list((tmp_path / "store").glob("*/run.json"))
    assert not (tmp_path / "s.parquet").exists()


def test_a_raised_limit_lets_the_request_through(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """The limit is a setting: the same request refused under a small limit runs under a
    raised one (flag or environment)."""
    sc = _scenario_file(tmp_path, **{"horizon__warmup_days": 5})
    args = ["run", str(sc), "--reps", "2", "--workers", "1", "--quiet", "--no-report",
            "--store", str(tmp_path / "st")]  # fmt: skip
    monkeypatch.setenv("SLA_SIM_MAX_CPU_HOURS", "0.00001")
    assert main(args) == 2
    assert main([*args, "--max-cpu-hours", "1"]) == 0
    monkeypatch.setenv("SLA_SIM_MAX_CPU_HOURS", "1")
    monkeypatch.setenv("SLA_SIM_MAX_MEMORY_GB", "0.01")
    assert main(args) == 2
    assert main([*args, "--max-memory-gb", "8"]) == 0


def test_limit_setting_must_be_a_positive_number(monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed limit setting exits 2 naming the variable."""
    monkeypatch.setenv("SLA_SIM_MAX_MEMORY_GB", "lots")
    assert main(["run", "--reps", "1", "--quiet"]) == 2
    assert "SLA_SIM_MAX_MEMORY_GB" in capsys.readouterr().err


def test_reps_alone_do_not_blame_max_reps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """`--reps 20000` without --max-reps is not refused for --max-reps (only, here, for a
    CPU limit one replication fits in)."""
    monkeypatch.setenv("SLA_SIM_MAX_CPU_HOURS", "1")
    assert main(["run", "--reps", "20000", "--quiet", "--store", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--max-reps" not in err
    assert "--reps" in err


# ---------------------------------------------------------------------------- scenario files
def test_billion_laughs_is_refused_fast(tmp_path: Path) -> None:
    """A YAML alias bomb is refused in under 2 s and 300 MB, naming the aliases."""
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]")
    lines.append("name: *a9")
    f = tmp_path / "bomb.yaml"
    f.write_text("\n".join(lines) + "\n")
    code, secs, mb, err = _measured(["validate", str(f)], tmp_path)
    assert code == 2, err
    assert "alias" in err.lower()
    assert secs < 2.0, secs
    assert mb < 300, mb


def test_a_huge_file_is_refused_fast(tmp_path: Path) -> None:
    """A 50 MB scenario file is refused by size, in under 2 s and 300 MB, naming the cap."""
    f = tmp_path / "big.yaml"
    body = dump_yaml(make_tiny())
    with f.open("w") as fh:
        fh.write(body)
        fh.write("# " + "x" * 100 + "\n")
        pad = ("# " + "x" * 1000 + "\n") * 1000
        for _ in range(50):
            fh.write(pad)
    code, secs, mb, err = _measured(["validate", str(f)], tmp_path)
    assert code == 2, err
    assert "SLA_SIM_MAX_SCENARIO_MB" in err
    assert secs < 2.0, secs
    assert mb < 300, mb


def _exit2(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("raw", [b"name: caf\xe9\n", "name: café\n".encode("utf-16")],
                         ids=["latin-1", "utf-16"])
def test_non_utf8_file_exits_2(raw: bytes, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """A file that is not UTF-8 exits 2 saying so."""
    f = tmp_path / "x.yaml"
    f.write_bytes(raw)
    assert "UTF-8" in _exit2(["validate", str(f)], capsys)


@pytest.mark.parametrize("suffix", [".yaml", ".json", ".toml"])
def test_deep_nesting_exits_2(suffix: str, tmp_path: Path,
                              capsys: pytest.CaptureFixture[str]) -> None:
    """Nesting 100,000 deep exits 2 naming the nesting, not a RecursionError."""
    f = tmp_path / f"deep{suffix}"
    n = 100_000
    if suffix == ".toml":
        f.write_text("name = " + "[" * n + "]" * n + "\n")
    else:
        f.write_text('{"name": ' + "[" * n + "]" * n + "}")
    assert "nest" in _exit2(["validate", str(f)], capsys)


@pytest.mark.parametrize("path", ["channels[0].leads_per_month", "arrivals.weekday_weights[0]",
                                  "sla.handoff_within_hours", "sla.revenue_target_per_month"])
@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan"])
def test_non_finite_numbers_exit_2_naming_the_field(path: str, value: str, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """``.inf`` / ``.nan`` anywhere a number goes exits 2 at validation, naming the field."""
    text = dump_yaml(make_tiny())
    data = yaml.safe_load(text)
    node: Any = data
    parts = path.replace("[", ".").replace("]", "").split(".")
    for p in parts[:-1]:
        node = node[int(p)] if p.isdigit() else node[p]
    last = parts[-1]
    if last.isdigit():
        node[int(last)] = "@@"
    else:
        node[last] = "@@"
    f = tmp_path / "inf.yaml"
    f.write_text(yaml.safe_dump(data, sort_keys=False).replace("'@@'", value))
    err = _exit2(["validate", str(f)], capsys)
    assert path in err, err
    assert "finite" in err


@pytest.mark.parametrize("day", ["9999-12-01", "0001-01-01"])
def test_impossible_years_exit_2(day: str, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    """A measured period starting in year 9999 or 1 (no room for warm-up or drain) exits 2."""
    f = _with_raw(tmp_path, lambda d: d["horizon"].__setitem__("measure_start", day))
    assert "horizon.measure_start" in _exit2(["validate", str(f)], capsys)


def test_duplicate_keys_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A key given twice in one mapping exits 2 naming it, instead of keeping the last."""
    f = tmp_path / "dup.yaml"
    f.write_text(dump_yaml(make_tiny()).replace("name: mid_market", "name: a\nname: b", 1))
    err = _exit2(["validate", str(f)], capsys)
    assert "name" in err
    assert "twice" in err


def test_boolean_for_a_number_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``teams[].reps: true`` is refused, not read as 1 SDR."""
    f = _with_raw(tmp_path, lambda d: d["teams"][0].__setitem__("reps", True))
    assert "teams[0].reps" in _exit2(["validate", str(f)], capsys)


def test_issue_str_of_a_huge_value_is_fast() -> None:
    """Issue.__str__ shortens a huge nested value without building its whole repr."""
    v: Any = ["lol"] * 10
    for _ in range(8):
        v = [v] * 10  # 10**9 leaves, shared
    t = time.perf_counter()
    text = str(Issue("name", "must be a string", v))
    assert time.perf_counter() - t < 0.1
    assert len(text) < 200


# ---------------------------------------------------------------------------- options
def test_huge_seed_exits_2_and_leaves_no_run(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    """``--seed 2**64-1`` exits 2 naming --seed, and registers nothing."""
    err = _exit2(["run", "--seed", str(2**64 - 1), "--store", str(tmp_path), "--quiet"], capsys)
    assert "--seed" in err
    assert not list(tmp_path.glob("*/run.json"))


def test_negative_response_hours_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    """``funnel --response-hours -5`` exits 2 naming the option."""
    assert "--response-hours" in _exit2(["funnel", "--response-hours", "-5"], capsys)


def test_sweep_to_an_unknown_format_exits_2_before_running(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """``sweep --out x.xlsx`` exits 2 naming --out, before running anything."""
    err = _exit2(["sweep", "--param", "teams[sdr].reps=3,4", "--out", str(tmp_path / "x.xlsx"),
                  "--quiet"], capsys)  # fmt: skip
    assert "--out" in err
    assert not (tmp_path / "x.xlsx").exists()


def test_option_and_run_id_errors_are_not_called_scenario_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A wrong run id or option is headed as such, not "invalid scenario"."""
    err = _exit2(["runs", "show", "no-such-run", "--store", str(tmp_path)], capsys)
    assert "invalid scenario" not in err
    assert "run id" in err
    err = _exit2(["run", "--reps", "0", "--store", str(tmp_path)], capsys)
    assert "invalid scenario" not in err
    assert "--reps" in err


def test_runs_subcommands_take_store_after_the_action(tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """``runs list --store DIR`` works like ``runs --store DIR list``."""
    assert main(["runs", "list", "--store", str(tmp_path)]) == 0
    assert str(tmp_path.resolve()) in capsys.readouterr().out
    assert main(["runs", "--store", str(tmp_path), "list"]) == 0


def test_more_workers_than_cores_is_said(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    """``--workers`` above the cores available prints a warning naming both numbers."""
    sc = _scenario_file(tmp_path, **{"horizon__warmup_days": 5})
    cores = len(os.sched_getaffinity(0))
    assert main(["run", str(sc), "--reps", "2", "--workers", str(cores + 30), "--quiet",
                 "--no-report", "--store", str(tmp_path / "st")]) == 0  # fmt: skip
    err = capsys.readouterr().err
    assert f"{cores + 30} workers" in err
    assert f"{cores} core" in err


def test_broken_pipe_is_silent(tmp_path: Path) -> None:
    """`sla-sim schema | head -c 10`: no error message when the reader goes away."""
    proc = subprocess.Popen([sys.executable, "-m", "sla_sim", "schema"], cwd=tmp_path,
                            env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert err == ""
    assert proc.returncode in (0, 141)


def test_report_escapes_html_in_scenario_text(tmp_path: Path) -> None:
    """report.md and report.html carry no raw <script> from the scenario's name/description."""
    from sla_sim.batch.replications import run_replications

    sc = set_path(make_tiny({"horizon.warmup_days": 5}), "description",
                  "<script>alert(1)</script> & more")
    sc = set_path(sc, "name", "x<script>y</script>")
    from sla_sim.report.document import write_report

    res = run_replications(sc, reps=2, seed=1, progress=False)
    out = res.save(tmp_path / "r")
    write_report(res, out)
    for f in ("report.md", "report.html"):
        assert "<script>alert" not in (out / f).read_text(), f
    assert "&lt;script&gt;" in (out / "report.md").read_text()
    json.loads((out / "summary.json").read_text())


def test_scenario_error_for_huge_values_lists_every_problem() -> None:
    """A ScenarioError built from huge values still prints quickly and names every field."""
    err = ScenarioError([Issue("a", "r", "x" * 10**7), Issue("b", "r", list(range(10**6)))])
    assert "a: r" in str(err)
    assert "b: r" in str(err)
    assert len(str(err)) < 500
