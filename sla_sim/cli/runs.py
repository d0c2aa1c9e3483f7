"""``sla-sim runs list | show ID | compare ID ID``: the run store."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sla_sim.cli.common import EXIT_OK
from sla_sim.errors import Issue, ScenarioError


def cmd_runs(args: argparse.Namespace) -> int:
    """List, show or compare stored runs."""
    from sla_sim.batch.store import RunStore

    store = RunStore(args.store)
    if args.runs_command == "list":
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # named below, one line each
            df = store.list()
        for rid, why in store.damaged:
            print(f"sla-sim: skipped damaged run {rid}: {why}", file=sys.stderr)
        if df.empty:
            print(f"no runs in {store.root}")
        else:
            cols = ["id", "status", "scenario_name", "seed", "reps_done", "reps_requested",
                    "created", "path"]  # fmt: skip
            print(df[cols].to_string(index=False))
        return EXIT_OK
    from sla_sim.batch.results import Results

    if args.runs_command == "show":
        folder = store.path_of(args.id)
        meta = json.loads((folder / "run.json").read_text())
        print(json.dumps({k: meta[k] for k in meta if k != "path"}, indent=2))
        if meta["status"] == "complete" and (folder / "summary.json").is_file():
            from sla_sim.cli.tables import breach_by_month, headline, money

            results = Results.load(folder)
            print(headline(results))
            print()
            if text := money(results):  # runs stored before costs existed have none
                print(text)
                print()
            print(breach_by_month(results))
        elif meta.get("kind") == "recommend" and (folder / "recommendation.json").is_file():
            from sla_sim.cli.recommend import money_lines

            rec = json.loads((folder / "recommendation.json").read_text())
            lines = money_lines(rec.get("money"), rec.get("marginal"), rec.get("policies"))
            if lines:
                print("\n".join(lines))
        return EXIT_OK
    from sla_sim.batch.compare import paired_differences

    if args.id_a == args.id_b:  # B - A of a run with itself: a table of zeros
        raise ScenarioError([Issue("run id", "names the same run as A and B: give two"
                                   " different runs", args.id_b)])  # fmt: skip
    ra, rb = (Results.load(_complete(store, i)) for i in (args.id_a, args.id_b))
    table = paired_differences(ra, rb)
    seeds = (ra.meta.get("seed"), rb.meta.get("seed"))
    how = (" (measured data: no simulated seeds to pair)" if None in seeds
           else " (same seed: paired)" if seeds[0] == seeds[1]
           else " (different seeds: read the unpaired CI)")  # fmt: skip
    print(f"{args.id_b} - {args.id_a}{how}")
    from sla_sim.cli.tables import comparison

    print(comparison(table, ra.scenario.currency, ra))  # the months the runs measured
    return EXIT_OK


def _complete(store, run_id: str) -> Path:  # type: ignore[no-untyped-def]
    folder = store.path_of(run_id)
    meta = json.loads((folder / "run.json").read_text())
    if meta.get("status") != "complete":
        raise ScenarioError([Issue("run id", f"run is {meta.get('status')}, not complete",
                                   run_id)], "run id")  # fmt: skip
    return folder


def register(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``sla-sim`` parser."""
    store_help = "store folder (default $SLA_SIM_STORE or ./sla_sim_runs)"
    runs = sub.add_parser("runs", help="stored runs: list, show ID, compare ID ID")
    runs.add_argument("--store", help=store_help)
    rsub = runs.add_subparsers(dest="runs_command", metavar="ACTION", required=True)
    # --store is accepted after the action too (runs list --store DIR); SUPPRESS keeps a value
    # given before the action when none is given after it
    ls = rsub.add_parser("list", help="every run in the store")
    show = rsub.add_parser("show", help="one run's facts and headline numbers")
    show.add_argument("id", help="run id (see: sla-sim runs list)")
    rc = rsub.add_parser("compare", help="paired differences between two complete runs")
    rc.add_argument("id_a", metavar="ID_A", help="run id of A (see: sla-sim runs list)")
    rc.add_argument("id_b", metavar="ID_B", help="run id of B; B - A is printed")
    for p in (ls, show, rc):
        p.add_argument("--store", default=argparse.SUPPRESS, help=store_help)
    runs.set_defaults(func=cmd_runs)
