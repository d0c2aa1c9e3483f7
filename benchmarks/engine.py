"""The fast engine against the SimPy reference, and how a replication scales with the funnel.

    python benchmarks/engine.py [--pairs 12] [--scale 1,4,16] [--scale-reps 3] [--json out.json]
                                [--against REF] [--rota] [--priority] [--reassign]
                                [--hires]

(1) One replication of the default preset (``sla_sim.batch.worker.run_one``: model, metrics,
    tables), CPU time, the fast engine and ``engine: simpy`` alternated in one process
    (``--pairs`` each, the order flipped every pair), as a ratio fast / simpy. The SimPy engine
    is the event loop every replication ran on before the fast engine existed.
(2) Linear scaling: the default preset (30-day warm-up, one measured month) with the leads of
    every channel, the SDRs of every team and the AEs all multiplied by k; CPU seconds per
    replication for each k on each engine (mean of ``--scale-reps``) and the ratio T(k) / T(1).
    Each k first runs one replication more, timed apart ("first in process"): the first run
    of a size grows the process's heap (page faults, system time, 25-80 ms at x 16), which a
    Monte Carlo run of many replications pays once; the ratio compares later replications,
    the same on both engines and at every k.
    With ``--rota``, (1) is also run on the default preset with the recommendation's weekend
    rota on the SDR team (``Policy("due_first", "immediate", "weekend rota")``: reps on their
    own calendars, a staffing plan the fast engine runs since 2026-12-07 evening). With
    ``--priority``, (1) is also run on the default preset with priority classes by channel
    (``routing.priority_order: [inbound, partner]``: inbound, then partner, then the rest; the
    SDR team runs on the policy path, its reps' due attempts in a ready heap by class). With
    ``--reassign``, (1) is also run with reassignment on the SDR team (a lead untouched one
    business hour after its assignment is taken back and routed again, at most twice). With
    ``--hires``, (1) is also run with hires and attrition on the SDR team (two hires on
    2025-11-17 and two on 2026-02-02, ramping at 50% then 75%; 10% attrition a month with
    backfills after 14 days: reps join, leave and hand their leads over).

(3) With ``--against REF`` (a git commit of this repository, e.g. the one before the fast
    engine): one default replication of this code (its default engine) against the code of
    REF (its default engine), alternated in one process as in (1). REF's ``sla_sim`` is
    extracted with ``git archive`` into a temporary folder and imported as ``sla_sim_ref``
    (every ``sla_sim`` import renamed), so both versions run side by side; REF's metrics may
    differ from today's (fewer metrics: less work), which the table says.

Prints Markdown tables and, with ``--json``, writes the raw numbers. The machine is shared and
its speed varies: read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a source checkout without installing
    sys.path.insert(0, str(ROOT))

from sla_sim.batch.worker import run_one, warm_up  # noqa: E402
from sla_sim.model.funnel import FunnelModel  # noqa: E402
from sla_sim.scenario.io import set_path  # noqa: E402
from sla_sim.scenario.presets import preset  # noqa: E402
from sla_sim.scenario.schema import Scenario  # noqa: E402
from sla_sim.streams import Streams, replication_seed  # noqa: E402

SEED = 20260101
ENGINES = ("fast", "simpy")


def cpu(fn: Any) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def rota_scenario() -> Scenario:
    """The default preset with the weekend rota on its SDR team (``--rota``)."""
    from sla_sim.recommend.policy_space import Policy

    return Policy("due_first", "immediate", "weekend rota").apply(preset("default"), ["sdr"])


#: the priority classes of ``--priority``: inbound first, then partner, then every other channel
PRIORITY = {"routing.priority_by": "channel", "routing.priority_order": ["inbound", "partner"]}


def priority_scenario() -> Scenario:
    """The default preset with priority classes by channel (``--priority``)."""
    sc = preset("default")
    for path, value in PRIORITY.items():
        sc = set_path(sc, path, value)
    return sc


#: the reassignment of ``--reassign``
REASSIGN = {"teams[0].reassign_after_business_hours": 1.0, "teams[0].max_reassignments": 2}


def reassign_scenario() -> Scenario:
    """The default preset with reassignment on its SDR team (``--reassign``)."""
    sc = preset("default")
    for path, value in REASSIGN.items():
        sc = set_path(sc, path, value)
    return sc


#: the hires and attrition of ``--hires``
HIRES = {"teams[0].hires": [{"start": "2025-11-17", "reps": 2}, {"start": "2026-02-02", "reps": 2}],
         "teams[0].ramp_by_tenure_month": [0.5, 0.75], "teams[0].attrition_per_month": 0.1,
         "teams[0].backfill_delay_days": 14}  # fmt: skip


def hires_scenario() -> Scenario:
    """The default preset with hires and attrition on its SDR team (``--hires``)."""
    sc = preset("default")
    for path, value in HIRES.items():
        sc = set_path(sc, path, value)
    return sc


def default_ratio(pairs: int, base: Scenario | None = None) -> dict[str, Any]:
    """Section (1) (on ``base``, the default preset if none)."""
    base = preset("default") if base is None else base
    sc = {e: base.model_copy(update={"engine": e}) for e in ENGINES}
    for e in ENGINES:  # one untimed replication each (imports, caches)
        run_one(sc[e], SEED, 999)
    times: dict[str, list[float]] = {e: [] for e in ENGINES}
    for r in range(pairs):
        for e in ENGINES if r % 2 == 0 else ENGINES[::-1]:
            times[e].append(cpu(lambda e=e, r=r: run_one(sc[e], SEED, r)))
    mean = {e: sum(v) / len(v) for e, v in times.items()}
    return {"pairs": pairs, "cpu_s": times, "mean_cpu_s": mean,
            "ratio_fast_over_simpy": mean["fast"] / mean["simpy"]}  # fmt: skip


def import_ref(ref: str, into: Path) -> Any:
    """The package ``sla_sim`` of git commit ``ref``, imported as ``sla_sim_ref`` from ``into``."""
    import importlib
    import io
    import re
    import subprocess
    import tarfile

    tar = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "sla_sim"], check=True,
                         capture_output=True).stdout  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(tar)) as tf:
        tf.extractall(into, filter="data")
    kernel = into / "sla_sim" / "model" / "kernel.py"
    same_kernel = kernel.exists() and kernel.read_bytes() == (
        ROOT / "sla_sim" / "model" / "kernel.py").read_bytes()
    (into / "sla_sim").rename(into / "sla_sim_ref")
    for path in (into / "sla_sim_ref").rglob("*.py"):
        path.write_text(re.sub(r"\bsla_sim\b", "sla_sim_ref", path.read_text(encoding="utf-8")),
                        encoding="utf-8")  # fmt: skip
    if same_kernel:  # the same compiled loop: load this checkout's cache instead of compiling
        (into / "sla_sim_ref" / "model" / "kernel.py").write_text(
            "from sla_sim.model.kernel import *  # noqa: F403\n", encoding="utf-8")
    sys.path.insert(0, str(into))
    return importlib.import_module("sla_sim_ref")


def against(ref: str, pairs: int) -> dict[str, Any]:
    """Section (3)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        import_ref(ref, Path(tmp))
        from sla_sim_ref.batch.worker import run_one as ref_run  # type: ignore[import-not-found]
        from sla_sim_ref.scenario.presets import (  # type: ignore[import-not-found]
            preset as ref_preset,
        )

        runs = {"now": (run_one, preset("default")), "ref": (ref_run, ref_preset("default"))}
        out = {name: fn(sc, SEED, 999) for name, (fn, sc) in runs.items()}  # untimed
        same_metrics = out["now"].keys == out["ref"].keys
        times: dict[str, list[float]] = {e: [] for e in runs}
        for r in range(pairs):
            for e in ("now", "ref") if r % 2 == 0 else ("ref", "now"):
                fn, sc = runs[e]
                times[e].append(cpu(lambda fn=fn, sc=sc, r=r: fn(sc, SEED, r)))
    mean = {e: sum(v) / len(v) for e, v in times.items()}
    return {"ref": ref, "pairs": pairs, "cpu_s": times, "mean_cpu_s": mean,
            "same_metrics": same_metrics,
            "ratio_now_over_ref": mean["now"] / mean["ref"]}  # fmt: skip


def scaled(k: int, engine: str) -> Scenario:
    """The short default scenario with leads, SDRs and AEs multiplied by ``k``."""
    sc = preset("default")
    sc = set_path(sc, "horizon.warmup_days", 30)
    sc = set_path(sc, "horizon.measure_months", 1)
    raw = sc.model_dump(mode="json")
    for ch in raw["channels"]:
        ch["leads_per_month"] *= k
    for team in raw["teams"]:
        team["reps"] *= k
    raw["ae"]["count"] *= k
    raw["engine"] = engine
    return Scenario.model_validate(raw)


def scaling(ks: list[int], reps: int) -> dict[str, Any]:
    """Section (2)."""
    out: dict[str, Any] = {"k": ks, "reps": reps}
    for engine in ENGINES:
        per_k = []
        for k in ks:
            sc = scaled(k, engine)
            ts, leads = [], 0
            for r in range(reps + 1):  # the first: the process's first run at this size
                model = FunnelModel(sc, Streams(replication_seed(SEED, r)))
                ts.append(cpu(model.run))
                leads = model.n_leads
            per_k.append({"k": k, "leads": leads, "cpu_s": sum(ts[1:]) / reps,
                          "first_cpu_s": ts[0], "cpu_s_each": ts})
        base = per_k[0]["cpu_s"]
        for row in per_k:
            row["ratio_to_1x"] = row["cpu_s"] / base
        out[engine] = per_k
    return out


def markdown(res: dict[str, Any]) -> str:
    d = res["default"]
    lines = ["| measure | fast | simpy | fast / simpy |", "|---|---|---|---|",
             f"| one default replication (`run_one`, CPU s, mean of {d['pairs']} alternated)"
             f" | {d['mean_cpu_s']['fast']:.4f} | {d['mean_cpu_s']['simpy']:.4f} |"
             f" **{d['ratio_fast_over_simpy']:.3f}×** |", "",
             "| leads, SDRs, AEs × k | leads | fast CPU s (T(k)/T(1)) | simpy CPU s (T(k)/T(1)) "
             "| first in process: fast, simpy |", "|---|---|---|---|---|"]  # fmt: skip
    s = res["scaling"]
    for f, p in zip(s["fast"], s["simpy"], strict=True):
        lines.append(f"| {f['k']} | {f['leads']:,} | {f['cpu_s']:.3f} ({f['ratio_to_1x']:.2f}×)"
                     f" | {p['cpu_s']:.3f} ({p['ratio_to_1x']:.2f}×)"
                     f" | {f['first_cpu_s']:.3f}, {p['first_cpu_s']:.3f} |")  # fmt: skip
    for key, what in (("rota", "the weekend rota"),
                      ("priority", "priority classes (inbound, partner, the rest)"),
                      ("reassign", "reassignment after 1 business hour (at most 2)"),
                      ("hires", "hires and attrition (ramp, backfills)")):
        r = res.get(key)
        if r is None:
            continue
        lines += ["", "| measure | fast | simpy | fast / simpy |", "|---|---|---|---|",
                  f"| one default replication with {what} (`run_one`, CPU s, mean of"
                  f" {r['pairs']} alternated) | {r['mean_cpu_s']['fast']:.4f} |"
                  f" {r['mean_cpu_s']['simpy']:.4f} | **{r['ratio_fast_over_simpy']:.3f}×** |"]
    a = res.get("against")
    if a is not None:
        lines += ["", "| one default replication (`run_one`, CPU s) | this code | "
                  f"`{a['ref']}` | this / ref |", "|---|---|---|---|",
                  f"| mean of {a['pairs']} alternated"
                  f"{'' if a['same_metrics'] else ' (ref computes fewer metrics)'}"
                  f" | {a['mean_cpu_s']['now']:.4f} | {a['mean_cpu_s']['ref']:.4f} |"
                  f" **{a['ratio_now_over_ref']:.3f}×** |"]  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pairs", type=int, default=12, help="alternated pairs in (1)")
    ap.add_argument("--scale", default="1,4,16", help="multipliers k in (2), comma-separated")
    ap.add_argument("--scale-reps", type=int, default=3, help="replications per k in (2)")
    ap.add_argument("--json", type=Path, default=None, help="write the raw results here")
    ap.add_argument("--against", metavar="REF", default=None,
                    help="also time this code against git commit REF's, alternated (3)")
    ap.add_argument("--rota", action="store_true",
                    help="also (1) with the weekend rota on the SDR team")
    ap.add_argument("--priority", action="store_true",
                    help="also (1) with priority classes by channel")
    ap.add_argument("--reassign", action="store_true",
                    help="also (1) with reassignment on the SDR team")
    ap.add_argument("--hires", action="store_true",
                    help="also (1) with hires and attrition on the SDR team")
    args = ap.parse_args(argv)
    ks = [int(x) for x in args.scale.split(",")]
    if args.pairs < 1 or args.scale_reps < 1 or not ks or min(ks) < 1:
        ap.error("need --pairs >= 1, --scale-reps >= 1 and multipliers >= 1")
    warm_up()  # the compiled code is loaded (or compiled and cached) before any timing
    res = {"default": default_ratio(args.pairs), "scaling": scaling(ks, args.scale_reps)}
    if args.rota:
        res["rota"] = default_ratio(args.pairs, rota_scenario())
    if args.priority:
        res["priority"] = default_ratio(args.pairs, priority_scenario())
    if args.reassign:
        res["reassign"] = default_ratio(args.pairs, reassign_scenario())
    if args.hires:
        res["hires"] = default_ratio(args.pairs, hires_scenario())
    if args.against is not None:
        res["against"] = against(args.against, args.pairs)
    print(markdown(res))
    if args.json is not None:
        args.json.write_text(json.dumps(res, indent=2), encoding="utf-8")
    return res


if __name__ == "__main__":
    main()
