"""``sla-sim measure | calibrate | backtest | review`` and ``sla-sim crm template``: from a CRM
export (a lead table, an optional activity table, a YAML mapping) to real SLA compliance, a
calibrated scenario, a backtest and the monthly review."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from sla_sim.cli.common import (
    EXIT_OK,
    add_limit_args,
    add_scenario_args,
    check_out_folder,
    check_reps_seed,
    raise_option,
    with_months,
)

__all__ = ["register"]


SAMPLES = {"olist": ("olist_marketing_qualified_leads_dataset.csv", "preset:olist"),
           "maven": ("sales_pipeline.csv", "preset:maven")}


def _sample_args(args: argparse.Namespace) -> None:
    """``--sample NAME``: the shipped export and its preset, from any folder."""
    if getattr(args, "sample", None) is None:
        if not args.export:
            raise_option("EXPORT", "give an export file (or --sample olist), e.g. sla-sim"
                         f" {args.command} leads.csv --map preset:salesforce", None)
        if args.map is None:
            raise_option("--map", "is required: a mapping file or preset:NAME, e.g. --map"
                         " preset:salesforce (write a draft with: sla-sim crm map EXPORT)", None)
        return
    from importlib import resources

    if args.export:
        from sla_sim.scenario.presets import preset_names

        preset = next((e for e in args.export if e in preset_names() and not Path(e).exists()),
                      None)  # fmt: skip
        hint = f" (a built-in scenario goes with --preset {preset})" if preset else ""
        raise_option("--sample", f"is an export itself: give no EXPORT file with it{hint}",
                     " ".join(args.export))  # fmt: skip
    file, mapping = SAMPLES[args.sample]
    folder = resources.files("sla_sim.data").joinpath(args.sample)
    args.export = [str(folder.joinpath(file))]
    args.map = args.map or mapping


def _export(args: argparse.Namespace):  # -> CrmExport
    from sla_sim.crm.load import load_export
    from sla_sim.crm.read import INPUT_ENV

    _sample_args(args)
    before = os.environ.get(INPUT_ENV)
    if args.max_input_mb is not None:
        if not (args.max_input_mb > 0 and math.isfinite(args.max_input_mb)):  # inf: a traceback
            raise_option("--max-input-mb", "must be a finite number > 0", args.max_input_mb)
        os.environ[INPUT_ENV] = str(args.max_input_mb)
    try:
        exp = load_export(args.export, args.map, activities=args.activities, joins=args.join)
    finally:  # the bound is this command's, not the process's
        if before is None:
            os.environ.pop(INPUT_ENV, None)
        else:
            os.environ[INPUT_ENV] = before
    for what in exp.messages:
        print(f"sla-sim: note: {what}", file=sys.stderr)
    for what, n in exp.incomplete.items():
        print(f"sla-sim: note: {n:,} {what}", file=sys.stderr)
    if exp.exported_from != "mapping":
        print(f"sla-sim: note: exported_at {exp.exported_at:%Y-%m-%d %H:%M} UTC, from"
              f" {exp.exported_from} (set exported_at in the mapping to fix it)",
              file=sys.stderr)  # fmt: skip
    return exp


def _base(spec: str | None):  # -> Scenario
    from sla_sim.scenario.io import load
    from sla_sim.scenario.presets import preset

    if spec is None:
        return preset("default")
    if Path(spec).is_file():
        return load(spec)
    return preset(spec)


def _not_in_a_run(args: argparse.Namespace, folder: str | Path) -> None:
    """Refuse an output inside a run's folder (no command writes into another run's)."""
    from sla_sim.batch.store import RunStore

    RunStore(getattr(args, "store", None)).check_out(folder, "--out")


def _out_dir(args: argparse.Namespace, default: str) -> Path:
    """The output folder, refused (inside a run's folder, or existing and not empty without
    ``--force``) before anything is computed; created only when written to."""
    out = Path(args.out or default)
    _not_in_a_run(args, out)
    check_out_folder(out, args.force)  # a file is refused even with --force
    return out


def _write_json(path: Path, data: dict[str, object]) -> None:
    from sla_sim.batch.files import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def cmd_measure(args: argparse.Namespace) -> int:
    """Real SLA compliance of an export, stored as a 'measured' run."""
    from sla_sim.batch.store import RunStore
    from sla_sim.cli.common import scenario_from
    from sla_sim.crm.measure import measure_export, store_measured
    from sla_sim.report.document import write_report

    if args.scenario is None and args.export and Path(args.export[-1]).suffix.lower() in {
            ".yaml", ".yml", ".toml", ".json"}:  # measure EXPORT... SCENARIO
        args.scenario = args.export.pop()
    if args.out:  # refused before the export is read
        RunStore(args.store).check_out(args.out)
    sc = scenario_from(args)
    exp = _export(args)
    me = measure_export(exp, sc, start=args.start, end=args.end)

    from sla_sim.batch.results import Results

    def report(results: Results, folder: Path) -> None:
        import warnings

        with warnings.catch_warnings():  # empty slices of unmeasurable clauses are expected
            warnings.simplefilter("ignore", RuntimeWarning)
            write_report(results, folder)

    run_id, path = store_measured(me, RunStore(args.store), out=args.out,
                                  finish=None if args.no_report else report)
    t = me.table[me.table["period"] == "total"].set_index("metric")["value"]
    print(f"measured {exp.n_leads:,} leads to {exp.exported_at:%Y-%m-%d %H:%M} UTC"
          f" -> run {run_id} ({path})")  # fmt: skip
    from sla_sim.metrics.numbers import percent

    for clause in ("handoff", "first_touch", "attempts", "disposition"):
        c = t.get(f"{clause}_compliance")
        print(f"  {clause:12s} compliance {percent(c):>7}   met {t[f'{clause}_met']:,.0f}"
              f"  breached {t[f'{clause}_breached']:,.0f}  pending {t[f'{clause}_pending']:,.0f}"
              if c == c else f"  {clause:12s} not measurable from this export")
    for m in exp.report()["missing_fields"]:
        if m["metrics"] not in ("-", "nothing (one segment)"):
            print(f"  missing {m['field']}: no {m['metrics']}", file=sys.stderr)
    return EXIT_OK


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit a scenario to an export (censoring handled); write it and calibration.json."""
    from sla_sim.crm.calibrate import calibrate, write_calibration

    if not args.out:
        raise_option("--out", "is required: the calibrated scenario to write, e.g. --out"
                     " calibrated.yaml (calibration.json goes beside it)", None)
    target = Path(args.out)
    if target.suffix.lower() not in (".yaml", ".yml", ".json"):  # before the export is read
        raise_option("--out", "must end in .yaml, .yml or .json (the scenario's format)",
                     str(target))  # fmt: skip
    if target.is_dir():
        raise_option("--out", "is a folder, not a file", str(target))
    _not_in_a_run(args, target.resolve().parent)
    taken = [p for p in (target, target.with_name("calibration.json")) if p.exists()]
    if taken and not args.force:
        verb = "exists" if len(taken) == 1 else "exist"
        raise_option("--out", f"{' and '.join(p.name for p in taken)} already {verb} in"
                     f" {target.parent}: choose another --out or add --force", str(target))
    exp = _export(args)
    cal = calibrate(exp, _base(args.base), name=args.name)
    path, js = write_calibration(cal, args.out)
    print(f"calibrated {len(cal.estimates)} parameters from {exp.n_leads:,} leads -> {path}"
          f" and {js.name}")  # fmt: skip
    for path, b in cal.checks.get("applied_at_the_schema_bound", {}).items():
        print(f"  {path}: estimate {b['estimate']:g} outside the allowed range {b['allowed']};"
              f" applied {b['applied']:g}", file=sys.stderr)
    _print_models(cal)
    for k in cal.not_identified:
        how = "derived with values of" if k["reason"].startswith("derived") else "kept from"
        print(f"  {how} {k['kept_from']}: {k['parameter']} ({k['reason']})")
    return EXIT_OK


def _print_models(cal) -> None:  # type: ignore[no-untyped-def]
    """Which models the calibration used, and any parameter at a bound (what it means)."""
    c = cal.checks
    if "won_cure_model" in c:
        w = c["won_cure_model"]
        from sla_sim.metrics.numbers import prob  # as notebook 05 prints it: 13.2 %

        print(f"  won model: mixture cure model from {w['from']} (P(ever won)"
              f" {prob(w['p_ever_won'])}, {w['events']:,} wins, {w['censored']:,} censored at"
              " the export)")
    if "nurture" in c:
        print(f"  nurture: {c['nurture']}")
    for key, label in (("opportunity_table", "SDR step"), ("warm_up", "warm-up")):
        if key in c:
            print(f"  {label}: {c[key]}")
    if "won_record" in c:
        print(f"  wins record: {c['won_record']['meaning']}")
    for name, e in c.get("empirical_cycle", {}).items():
        print(f"  cycle of {name}: resampled from the Kaplan-Meier curve ({e['shape_rejected']}"
              f" rejected: Kolmogorov-Smirnov distance {e['ks_distance']:g} > {e['bound_5pct']:g})")
    for b in c.get("at_bound", []):
        print(f"  at a bound: {b['parameter']} = {b['value']:g}: {b['meaning']}",
              file=sys.stderr)


#: Most months ``backtest --test-months`` may simulate (the schema's measured-months bound).
MAX_TEST_MONTHS = 24


def _check_simulation(sc, reps: int, seed: int, months: int,
                      origins: tuple[str, int] | None = None) -> None:  # fmt: skip
    """Refuse bad --reps/--seed and a simulation over the cost limits before the export is
    read (the estimate uses the scenario's volumes over ``months`` measured months).
    ``origins``: (``--origins`` as given, how many origins it holds): a rolling backtest
    simulates --reps replications from each."""
    from sla_sim.batch.limits import check_cost

    check_reps_seed(reps, seed, 2, "simulation request")
    check_cost(with_months(sc, months), reps, 1)
    if origins is not None:
        spec, n = origins
        check_cost(with_months(sc, months), reps * n, 1, field="--origins",
                   value=f"{spec} ({n:,} origins x {reps:,} replications)")  # fmt: skip


def cmd_backtest(args: argparse.Namespace) -> int:
    """Calibrate before a date, simulate after it, compare with what happened."""
    if not 1 <= args.test_months <= MAX_TEST_MONTHS:
        raise_option("--test-months", f"must be in 1 .. {MAX_TEST_MONTHS}", args.test_months)
    base = _base(args.base)
    _check_simulation(base, args.reps, args.seed, args.test_months)  # before the heavy imports
    from sla_sim.crm.origins import FOLLOW_UP_MONTHS, monthly_origins

    origins = monthly_origins(args.origins) if args.origins else None
    _check_simulation(base, args.reps, args.seed, args.test_months + FOLLOW_UP_MONTHS,
                      None if origins is None else (args.origins, len(origins)))  # fmt: skip
    from sla_sim.batch.files import linked_on_the_way
    from sla_sim.crm import charts
    from sla_sim.crm.backtest import backtest
    from sla_sim.crm.calibrate import write_calibration

    out = _out_dir(args, "backtest")  # refused before the export is read
    for origin in origins or ():  # each origin's calibration goes to out/ORIGIN/
        if (linked := linked_on_the_way(out, Path(origin) / "calibrated.yaml")) is not None:
            raise_option("--out", f"{linked.relative_to(out)} is a symbolic link; nothing is"
                         " written through one", str(out))  # fmt: skip
    exp = _export(args)
    if origins is not None:
        return _rolling(args, exp, out, origins)
    bt = backtest(exp, base, args.train_until, args.test_months, reps=args.reps,
                  seed=args.seed, progress=not args.quiet,
                  predictive=not args.fixed_parameters)  # fmt: skip
    write_calibration(bt.calibration, out / "calibrated.yaml")
    _write_json(out / "backtest.json", bt.as_dict())
    charts.save(charts.backtest_chart(bt.table), out / "backtest")
    d = bt.as_dict()
    from sla_sim.metrics.numbers import prob

    print(f"backtest: trained until {d['train_until']}, tested {', '.join(d['test_months'])};"
          f" observed inside P10-P90 for {prob(d['coverage_p10_p90'])} of the judged metrics"
          f" -> {out}")  # fmt: skip
    mse = d["scores"]["mean_scaled_error"]
    print(f"  mean scaled error: simulation {mse['simulation']}, naive {mse['naive']};"
          f" skill {d['scores']['skill']}; band sources (share of variance)"
          f" {_band_sources(d['band_sources'])}")
    for why in d["from_base"]:
        metrics = list(dict.fromkeys(r.metric for r in bt.table.itertuples()
                                     if r.from_base == why))  # fmt: skip
        print(f"  warning: {', '.join(metrics)} from {why}")
    from sla_sim.cli.tables import backtest as backtest_text

    print("\n".join("  " + ln for ln in backtest_text(bt.table, base.currency).splitlines()))
    return EXIT_OK


def _band_sources(sources: dict[str, float] | None) -> str:
    """``trend 13.7 %, parameters 38.2 %, simulation 48.1 %``: shares of a band's variance as
    every screen prints a share (it printed the dict, ``{'trend': 0.137, ...}``)."""
    from sla_sim.metrics.numbers import DASH, prob

    return ", ".join(f"{k} {prob(v)}" for k, v in sources.items()) if sources else DASH


# ---- rolling-origin backtest (backtest --origins) ----
def _rolling_args(b: argparse.ArgumentParser, when: argparse._MutuallyExclusiveGroup) -> None:
    when.add_argument("--origins", metavar="START:END",
                      help="rolling origins: every first of a month from START to END, each"
                      " calibrated on what was known before it, tested on --test-months")
    b.add_argument("--fixed-parameters", action="store_true",
                   help="bands from the simulation's noise only (no parameter or trend draws)")


def _rolling(args: argparse.Namespace, exp, out: Path,  # type: ignore[no-untyped-def]
             origins: list[str]) -> int:  # fmt: skip
    from sla_sim.crm import charts
    from sla_sim.crm.backtest import rolling_backtest
    from sla_sim.crm.calibrate import write_calibration

    rb = rolling_backtest(exp, _base(args.base), origins, args.test_months, reps=args.reps,
                          seed=args.seed, progress=not args.quiet,
                          predictive=not args.fixed_parameters)  # fmt: skip
    for bt in rb.backtests:
        write_calibration(bt.calibration, out / bt.meta["train_until"] / "calibrated.yaml")
    d = rb.as_dict()
    _write_json(out / "backtest.json", d)
    charts.save(charts.rolling_chart(rb.table), out / "backtest")
    sc = d["scores"]
    cov = sc["coverage_p10_p90"]
    print(f"backtest from {len(origins)} origins ({origins[0]} .. {origins[-1]}),"
          f" {args.test_months} test month(s) each -> {out}")
    from sla_sim.metrics.numbers import prob

    print(f"  coverage of P10-P90: {prob(cov)} of {sc['judged']} judged ({prob(0.8)} expected,"
          f" binomial SE {prob(sc['coverage_binomial_se'])})")
    mse = sc["mean_scaled_error"]
    print(f"  mean scaled error: simulation {mse['simulation']}, naive {mse['naive']};"
          f" skill {sc['skill']}")
    print(f"  band sources (share of variance): {_band_sources(d['band_sources'])}")
    for bo in d["by_origin"]:
        for why in bo["from_base"]:
            metrics = list(dict.fromkeys(r.metric for r in rb.table.itertuples()
                                         if r.origin == bo["train_until"]
                                         and r.from_base == why))  # fmt: skip
            print(f"  warning: {bo['train_until']}: {', '.join(metrics)} from {why}")
    from sla_sim.cli.tables import backtest as backtest_text

    cur = rb.backtests[0].calibration.scenario.currency if rb.backtests else ""
    print("\n".join("  " + ln for ln in backtest_text(rb.table, cur).splitlines()))
    return EXIT_OK


def cmd_review(args: argparse.Namespace) -> int:
    """A month's actual compliance placed in the simulated distribution."""
    from sla_sim.scenario.io import load

    for flag, value, example in (("--scenario", args.scenario, "--scenario calibrated.yaml"),
                                 ("--month", args.month, "--month 2025-06")):
        if not value:
            raise_option(flag, f"is required, e.g. {example}", None)
    sc = load(args.scenario)
    _check_simulation(sc, args.reps, args.seed, 1)
    import pandas as pd

    from sla_sim.crm import charts
    from sla_sim.crm.review import review

    try:
        label = pd.Timestamp(f"{args.month}-01").strftime("%Y-%m")
    except ValueError:
        label = str(args.month)  # review() names the bad --month
    out = _out_dir(args, f"review-{label}")  # refused before the export is read
    exp = _export(args)
    rv = review(exp, sc, args.month, reps=args.reps, seed=args.seed,
                progress=not args.quiet)  # fmt: skip
    _write_json(out / "review.json", rv.as_dict())
    charts.save(charts.review_chart(rv), out / "review")
    print(f"review of {rv.month} against {args.scenario} ({args.reps} simulated months)"
          f" -> {out}")  # fmt: skip
    from sla_sim.cli.tables import review as review_text

    print("\n".join("  " + ln for ln in review_text(rv.table, sc.currency).splitlines()))
    return EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    """Write an example mapping and a small example export."""
    from sla_sim.crm.template import write_template

    out = _out_dir(args, "crm_template")
    for p in write_template(out):
        print(p)
    return EXIT_OK


def cmd_map(args: argparse.Namespace) -> int:
    """Write a draft mapping guessed from the headers and a sample of the files' values."""
    from sla_sim.batch.files import atomic_write_text
    from sla_sim.crm.guess import draft_mapping, unmapped
    from sla_sim.crm.mapping import load_mapping
    from sla_sim.errors import ScenarioError

    twice = [f for i, f in enumerate(args.files)
             if any(Path(f).resolve() == Path(g).resolve() for g in args.files[:i])]
    if twice:  # the second copy was taken for an opportunity table without a join key
        raise_option("FILE", "is given twice: give each table once, the lead table first",
                     twice[0])  # fmt: skip
    out = Path(args.out)
    if out.is_dir():  # even with --force
        raise_option("--out", "is a folder, not a file", str(out))
    if (out.exists() or out.is_symlink()) and not args.force:
        raise_option("--out", "exists: choose another file or add --force", str(out))
    _not_in_a_run(args, out)  # it wrote the draft beside a run's run.json
    text, outside = draft_mapping(args.files, out.parent)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out, text)  # renamed into place: a link there is replaced, not followed
    missing = unmapped(text, args.files[0])
    if missing:  # the draft is written, to be completed by hand
        raise ScenarioError(missing, source=f"draft {out} (written: complete it)")
    load_mapping(out)  # the draft is a valid mapping
    print(text, end="")
    joins = "".join(f" {f}" for f in outside)
    print(f"wrote {out}; next: sla-sim measure {args.files[0]}{joins} --map {out}")
    return EXIT_OK


def map_preset_names() -> list[str]:
    """The shipped mapping presets, as :func:`sla_sim.crm.mapping.preset_names` lists them,
    without importing the mapping's schema (every command builds this parser)."""
    from importlib import resources

    folder = resources.files("sla_sim.crm").joinpath("presets")
    return sorted(p.name.removesuffix(".yaml") for p in folder.iterdir()
                  if p.name.endswith(".yaml"))  # fmt: skip


def _export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("export", nargs="*", metavar="EXPORT",
                   help="lead table file(s) (.csv, .csv.gz or .parquet; several files of one"
                   " table are read as one)")
    p.add_argument("--map", metavar="M",
                   help=f"mapping file (YAML), or preset:NAME ({', '.join(map_preset_names())});"
                   " draft one with 'sla-sim crm map EXPORT'")
    p.add_argument("--join", action="append", metavar="FILE",
                   help="file of the mapping's next join table, e.g. the opportunity report"
                   " (repeatable)")
    p.add_argument("--activities", metavar="FILE",
                   help="activity table (default: the mapping's activity_file, if any)")
    p.add_argument("--sample", choices=sorted(SAMPLES),
                   help="a shipped sample export instead of EXPORT (with its preset)")
    p.add_argument("--max-input-mb", type=float, metavar="MB",
                   help="bound on each input file's size and decompressed size (default"
                   " 1024, or $SLA_SIM_MAX_INPUT_MB)")


class _Intermixed(argparse.ArgumentParser):
    """A parser that accepts positionals after options (``measure EXPORT --map M SCENARIO``)."""

    def parse_known_args(self, args=None, namespace=None):  # type: ignore[no-untyped-def]
        if getattr(self, "_inside", False):
            return super().parse_known_args(args, namespace)
        self._inside = True
        try:
            return self.parse_known_intermixed_args(args, namespace)
        finally:
            self._inside = False


def register(sub: argparse._SubParsersAction) -> None:
    """Add measure, calibrate, backtest, review and crm (template)."""
    m = sub.add_parser("measure", help="real SLA compliance of a CRM export (a 'measured' run)")
    _export_args(m)
    add_scenario_args(m)
    m.add_argument("--from", dest="start", metavar="DATE", help="measure from this date")
    m.add_argument("--to", dest="end", metavar="DATE", help="measure until this date")
    m.add_argument("--out", help="results folder (default: a new folder in the store)")
    m.add_argument("--store", help="store folder (default $SLA_SIM_STORE or ./sla_sim_runs)")
    m.add_argument("--no-report", action="store_true", help="skip report.md/html and charts")
    m.set_defaults(func=cmd_measure)
    m.__class__ = _Intermixed

    c = sub.add_parser("calibrate", help="fit a scenario to a CRM export (censoring handled)")
    _export_args(c)
    c.add_argument("--out", help="scenario YAML to write, e.g. calibrated.yaml"
                   " (calibration.json goes beside it)")
    c.add_argument("--force", action="store_true",
                   help="overwrite an existing --out and calibration.json")
    c.add_argument("--base", metavar="PRESET_OR_FILE",
                   help="scenario whose values are kept where the export says nothing"
                   " (default: default)")
    c.add_argument("--name", help="name of the calibrated scenario")
    c.set_defaults(func=cmd_calibrate)

    b = sub.add_parser("backtest", help="calibrate before a date, simulate after, compare")
    _export_args(b)
    when = b.add_mutually_exclusive_group(required=True)
    when.add_argument("--train-until", metavar="DATE",
                      help="calibrate on leads created before this date (YYYY-MM-DD)")
    _rolling_args(b, when)
    b.add_argument("--test-months", type=int, default=1, metavar="N",
                   help="months after --train-until to simulate and compare (default 1)")
    b.add_argument("--base", metavar="PRESET_OR_FILE",
                   help="scenario whose values are kept where the export says nothing"
                   " (default: default)")  # fmt: skip
    b.add_argument("--reps", type=int, default=40, help="replications (default 40)")
    b.add_argument("--seed", type=int, default=20260101, help="root seed (default 20260101)")
    b.add_argument("--out", help="output folder (default ./backtest)")
    b.add_argument("--force", action="store_true", help="write into a non-empty --out")
    b.add_argument("--quiet", action="store_true", help="no progress output")
    add_limit_args(b)
    b.set_defaults(func=cmd_backtest)

    r = sub.add_parser("review", help="a month's compliance in the simulated distribution")
    _export_args(r)
    r.add_argument("--scenario", help="scenario file to hold the month to")
    r.add_argument("--month", metavar="YYYY-MM",
                   help="the month of the export to review")
    r.add_argument("--reps", type=int, default=100, help="replications (default 100)")
    r.add_argument("--seed", type=int, default=20260101, help="root seed (default 20260101)")
    r.add_argument("--out", help="output folder (default ./review-YYYY-MM)")
    r.add_argument("--force", action="store_true", help="write into a non-empty --out")
    r.add_argument("--quiet", action="store_true", help="no progress output")
    add_limit_args(r)
    r.set_defaults(func=cmd_review)

    g = sub.add_parser("crm", help="CRM helpers: 'crm map' drafts a mapping from an export,"
                       " 'crm template' writes an example mapping and export")  # fmt: skip
    gs = g.add_subparsers(dest="crm_command", metavar="SUBCOMMAND")
    t = gs.add_parser("template", help="write an example mapping and a small example export")
    t.add_argument("--out", help="folder (default ./crm_template)")
    t.add_argument("--force", action="store_true", help="write into a non-empty --out")
    t.set_defaults(func=cmd_template)
    mp = gs.add_parser("map", help="draft a mapping from an export's headers and values")
    mp.add_argument("files", nargs="+", metavar="FILE",
                    help="the lead table, then optionally the opportunity table and the"
                    " activity table")
    mp.add_argument("--out", default="mapping.yaml", help="mapping to write (default"
                    " ./mapping.yaml)")
    mp.add_argument("--force", action="store_true", help="overwrite --out")
    mp.set_defaults(func=cmd_map)
