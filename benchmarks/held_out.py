"""Held-out check of ``sla-sim recommend`` on presets and confidences the test suite does not run.

    python benchmarks/held_out.py [--preset smb_inbound --preset enterprise]
        [--confidence 0.8 --confidence 0.9] [--reps 40] [--held-out-reps 200]
        [--held-out-seed 4242] [--workers 1]

For each preset and confidence ``c``: the recommendation as the command makes it (seed
20260101, ``--reps`` replications at most per candidate, no tornado), then

* **held out**: the recommended scenario (``recommended.yaml``) simulated on
  ``--held-out-reps`` replications of a root seed the recommendation never used; for revenue
  (target on the month's basis) and every clause, the share of replications meeting it in the
  worst month and pooled over the months, against ``c`` with the binomial standard error
  ``sqrt(c (1 - c) / n)``;
* **minimal**: one SDR fewer on each team and one AE fewer (the export's marginal rows, on the
  recommendation's own seeds): the worst-month P(met) of the clause that headcount carries;
  and the next cheaper plan the policy search simulated, re-simulated on the same seeds and on
  the held-out seeds: its worst-month P(met) of the sales clauses.

Prints one Markdown block per case (figures in docs/recommend.md, *Held-out check*).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run from a source checkout without installing
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

CLAUSES = ("mql_volume", "acceptance", "handoff", "first_touch", "attempts", "disposition")
SALES = ("first_touch", "attempts", "disposition")


def _months(res) -> list[str]:
    return [p for p in dict.fromkeys(p for p, _ in res.keys) if p != "total"]


def _indicators(res) -> dict[str, np.ndarray]:
    """(replications x months) 1 met / 0 breached / NaN not judged, per clause and revenue."""
    from sla_sim.recommend.commitments import AE_WAIT_BUSINESS_HOURS

    months = _months(res)
    out = {"revenue": np.column_stack([1 - res.column("revenue_target_breach", m)
                                       for m in months])}  # fmt: skip
    for cl in CLAUSES:
        out[cl] = np.column_stack([1 - res.column(f"{cl}_breach", m) for m in months])
    out["ae_capacity"] = np.column_stack([
        (np.nan_to_num(res.column("ae_wait_business_hours_mean", m))
         <= AE_WAIT_BUSINESS_HOURS).astype(float) for m in months])  # fmt: skip
    return out


def _share(ind: np.ndarray, c: float) -> str:
    """Worst month and pooled share, each with n, the standard error at c and z."""
    cols = []
    for j in range(ind.shape[1]):
        x = ind[:, j][~np.isnan(ind[:, j])]
        if len(x):
            cols.append((float(x.mean()), len(x)))
    if not cols:
        return "not judged | | "
    p, n = min(cols)
    se = math.sqrt(c * (1 - c) / n)
    pooled = np.concatenate([ind[:, j][~np.isnan(ind[:, j])] for j in range(ind.shape[1])])
    pse = math.sqrt(c * (1 - c) / len(pooled))
    return (f"{p:.3f} (n={n}, SE {se:.3f}, z {(p - c) / se:+.1f}) | {pooled.mean():.3f}"
            f" (n={len(pooled)}, SE {pse:.3f}) | {'holds' if p >= c - 2 * se else 'FAILS'}")


def case(name: str, c: float, reps: int, n_ho: int, seed_ho: int, workers: int) -> str:
    from sla_sim.batch.replications import run_replications
    from sla_sim.recommend.engine import recommend
    from sla_sim.scenario.presets import preset

    t0 = time.perf_counter()
    rec = recommend(preset(name), confidence=c, reps=reps, seed=20260101, workers=workers,
                    progress=False, tornado=False)  # fmt: skip
    secs = time.perf_counter() - t0
    sc = rec.recommended
    plan = (f"{rec.policies['chosen']}; SDRs " + ", ".join(f"{t.name} {t.reps}" for t in sc.teams)
            + f"; {sc.ae.count} AEs; {sum(ch.leads_per_month for ch in sc.channels):,.0f}"
            " leads/month")
    lines = [f"### {name}, confidence {c:g} ({secs:.0f} s)", "", f"Plan: {plan}. In sample"
             f" (seed 20260101): P(revenue >= target) in the worst month"
             f" {rec.facts['revenue_p_ge_target_worst_month']:.3f} ({rec.facts['revenue_status']});"
             f" binding clause {rec.binding}.", ""]
    res = run_replications(sc, reps=n_ho, seed=seed_ho, workers=workers, progress=False,
                           keep_log_of=None)  # fmt: skip
    ind = _indicators(res)
    lines += [f"Held out (seed {seed_ho}, {n_ho} replications):", "",
              "| clause | worst month | pooled over months | within 2 SE |", "|---|---|---|---|"]
    lines += [f"| {k} | {_share(v, c)} |" for k, v in ind.items()]
    lines += ["", "One fewer (the export's marginal rows, same seeds as the recommendation):", ""]
    for r in rec.marginal:
        if r["step"] != -1:
            continue
        if not r["possible"]:
            lines.append(f"* {r['lever']} {r['from']} -> {r['to']}: not possible")
            continue
        key = "ae_capacity_p_met_worst" if r["lever"] == "ae.count" else "sales_p_met_worst"
        lines.append(f"* {r['lever']} {r['from']} -> {r['to']}: worst-month P(met) {r[key]:.3f}"
                     f" ({'breaks' if r[key] < c else 'does not break'} c = {c:g}); profit"
                     f" {r['profit_per_month']:+,.0f} per month")
    pol = rec.policies
    chosen_cost = next(p["cost_per_month"] for p in pol["plans"] if p["policy"] == pol["chosen"])
    cheaper = [i for i, r in enumerate(pol["frontier"]) if r["cost_per_month"] < chosen_cost]
    if cheaper:
        i = max(cheaper, key=lambda i: pol["frontier"][i]["cost_per_month"])
        row, nxt = pol["frontier"][i], rec.frontier_scenarios[i]
        worst = []
        for k, seed in ((row["replications"], 20260101), (n_ho, seed_ho)):
            r = run_replications(nxt, reps=k, seed=seed, workers=workers, progress=False,
                                 keep_log_of=None)  # fmt: skip
            w = _indicators(r)
            worst.append(min(float(np.nanmean(w[cl][:, j])) for cl in SALES
                             for j in range(w[cl].shape[1])))  # fmt: skip
        lines.append(f"* next cheaper plan simulated ({row['policy']}, {row['sdrs']} SDRs,"
                     f" {row['cost_per_month']:,.0f} against {chosen_cost:,.0f} per month):"
                     f" worst-month P(met) of the sales clauses {worst[0]:.3f} on the same seeds"
                     f" (n={row['replications']}), {worst[1]:.3f} held out (n={n_ho})")
    else:
        lines.append("* no cheaper plan was simulated")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", action="append", default=None)
    ap.add_argument("--confidence", action="append", type=float, default=None)
    ap.add_argument("--reps", type=int, default=40)
    ap.add_argument("--held-out-reps", type=int, default=200)
    ap.add_argument("--held-out-seed", type=int, default=4242)
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args(argv)
    for name in a.preset or ["smb_inbound", "enterprise"]:
        for c in a.confidence or [0.8, 0.9]:
            print(case(name, c, a.reps, a.held_out_reps, a.held_out_seed, a.workers), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
