"""``measure`` and ``calibrate`` on a large synthetic CRM export: time and peak memory.

    python benchmarks/crm_scale.py [--leads 1000000] [--activities 3000000] [--format parquet]
                                   [--json out.json]

A synthetic export (lead table + activity table + mapping) is generated with numpy: leads over
twelve months in five channels, a Beta score, MQL at a score of 60, a handoff delay, one
owner of 200, activities on MQLs (Poisson numbers scaled to the requested total) with outcomes
from a decaying contact curve, SQLs, opportunities, won/lost closes and amounts, and leads still
open at the export date. Then, each in a fresh child process (so that its peak resident set is
its own, read with ``getrusage(RUSAGE_CHILDREN)`` by a thin wrapper):

- measure: ``load_export`` + ``measure_export`` (the event log and every metric),
- calibrate: ``load_export`` + ``calibrate``,
- report (``--report-leads``, default 10,000, its own small export): ``measure_export`` and
  then ``write_report`` (the charts and report of ``sla-sim measure``), timed alone; its wall
  time and its CPU time (the report's cost is the same whatever the export's size, and CPU
  time is what a shared machine does not distort).

Goals: measure and calibrate each under 60 s and 3 GB on the 2-core reference machine with
1,000,000 leads and 3,000,000 activities; the report under 5 s for a 10,000-lead export.
Prints a Markdown table and, with ``--json``, the raw numbers.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CHANNELS = ["inbound", "paid", "events", "outbound", "partner"]


def make_export(folder: Path, n: int, n_act: int, fmt: str, seed: int = 1) -> Path:
    """Write leads.<fmt>, activities.<fmt> and mapping.yaml; return the mapping's path."""
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp("2025-01-01", tz="UTC").value
    span = 365 * 86400 * 10**9
    created = t0 + np.sort(rng.integers(0, span, n))
    ch = rng.choice(len(CHANNELS), n, p=[0.37, 0.27, 0.12, 0.16, 0.08])
    score = 100 * rng.beta(3, 3.3, n)
    mql = score >= 60
    hour = 3_600 * 10**9
    routed = created + (rng.exponential(0.25, n) * hour).astype(np.int64)
    owner = rng.integers(0, 200, n)
    # activities: Poisson per MQL, scaled to the requested total
    lam = n_act / max(int(mql.sum()), 1)
    k = np.where(mql, rng.poisson(lam, n), 0)
    lead_of = np.repeat(np.arange(n), k)
    m = len(lead_of)
    gap = rng.exponential(30.0, m) * hour  # hours between attempts
    start = np.zeros(m)
    firsts = np.r_[0, np.cumsum(k)[:-1]][k > 0]
    cum = np.cumsum(gap)
    base = np.repeat(cum[firsts] - gap[firsts], k[k > 0])
    start = routed[lead_of] + (cum - base).astype(np.int64)
    age_h = (start - created[lead_of]) / hour
    reach = rng.random(m) < 0.12 + 0.38 * np.exp2(-age_h / 12)
    reached_lead = np.zeros(n, bool)
    reached_lead[lead_of[reach]] = True
    first_reach = np.full(n, np.iinfo(np.int64).max)
    np.minimum.at(first_reach, lead_of[reach], start[reach])
    sql = reached_lead & (rng.random(n) < 0.3)
    disq = reached_lead & ~sql & (rng.random(n) < 0.5)
    opp = sql
    cycle = (rng.gamma(1 / 0.36, 40 * 0.36, n) * 24 * hour).astype(np.int64)
    closed = first_reach + 3 * hour + cycle
    exported = t0 + span
    is_closed = opp & (closed < exported)
    won = is_closed & (rng.random(n) < 0.25)
    lost = is_closed & ~won
    keep = start < exported

    def ts(v: np.ndarray, ok: np.ndarray) -> pd.Series:
        return pd.Series(pd.to_datetime(np.where(ok, v, 0), utc=True)).where(ok)

    leads = pd.DataFrame({
        "Lead ID": np.char.add("L", np.arange(n).astype(str)),
        "Created": ts(created, np.ones(n, bool)),
        "Source": np.asarray(CHANNELS)[ch],
        "Owner": np.char.add("Rep ", owner.astype(str)),
        "Score": score,
        "MQL": ts(created, mql),
        "Routed": ts(routed, mql & (routed < exported)),
        "SQL": ts(first_reach, sql & (first_reach < exported)),
        "Disqualified": ts(first_reach, disq & (first_reach < exported)),
        "Opp": ts(first_reach + 3 * hour, opp & (first_reach + 3 * hour < exported)),
        "Closed": ts(closed, is_closed),
        "Stage": np.where(won, "Won", np.where(lost, "Lost", "Open")),
        "Amount": np.where(won, rng.lognormal(9.8, 0.8, n), np.nan),
        "AE": np.where(opp, np.char.add("AE ", rng.integers(0, 40, n).astype(str)), None),
    })  # fmt: skip
    acts = pd.DataFrame({
        "Lead": leads["Lead ID"].to_numpy()[lead_of[keep]],
        "When": ts(start[keep], np.ones(int(keep.sum()), bool)),
        "Result": np.where(reach[keep], "Reached", "No answer"),
        "By": np.char.add("Rep ", owner[lead_of[keep]].astype(str)),
        "Minutes": rng.lognormal(2.0, 0.55, int(keep.sum())),
    })  # fmt: skip
    for name, df in (("leads", leads), ("activities", acts)):
        p = folder / f"{name}.{fmt}"
        df.to_parquet(p, index=False) if fmt == "parquet" else df.to_csv(p, index=False)
    mapping = {
        "columns": {"lead_id": "Lead ID", "created_at": "Created", "channel": "Source",
                    "owner": "Owner", "score": "Score", "mql_at": "MQL", "routed_at": "Routed",
                    "sql_at": "SQL", "disqualified_at": "Disqualified",
                    "opportunity_opened_at": "Opp", "closed_at": "Closed", "stage": "Stage",
                    "amount": "Amount", "opportunity_owner": "AE", "activity_lead_id": "Lead",
                    "activity_at": "When", "activity_outcome": "Result",
                    "activity_owner": "By", "activity_duration_minutes": "Minutes"},
        "values": {"stage": {"won": ["Won"], "lost": ["Lost"], "open": ["Open"]},
                   "activity_outcome": {"reached": ["Reached"], "no_answer": ["No answer"]}},
        "timezone": "America/New_York",
        "exported_at": pd.Timestamp(exported, tz="UTC").isoformat(),
        "activity_file": f"activities.{fmt}",
        "salt": "benchmark",
    }  # fmt: skip
    mp = folder / "mapping.yaml"
    mp.write_text(yaml.safe_dump(mapping, sort_keys=False))
    return mp


CHILD = """
import sys, time, json, resource
sys.path.insert(0, {root!r})
t0 = time.perf_counter()
from sla_sim.crm.load import load_export
ex = load_export({leads!r}, {mapping!r})
t1 = time.perf_counter()
if {what!r} == "measure":
    from sla_sim.crm.measure import measure_export
    from sla_sim.scenario.presets import preset
    out = measure_export(ex, preset("default"))
    n = len(out.table)
elif {what!r} == "report":
    import tempfile
    from sla_sim.crm.measure import measure_export
    from sla_sim.scenario.presets import preset
    me = measure_export(ex, preset("default"))
    folder = tempfile.mkdtemp()
    me.save(folder)
    from sla_sim.report.document import write_report
    t1 = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    n = len(write_report(me.results, folder))
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime
else:
    from sla_sim.crm.calibrate import calibrate
    from sla_sim.scenario.presets import preset
    out = calibrate(ex, preset("default"))
    n = len(out.estimates)
t2 = time.perf_counter()
print(json.dumps({{"load_s": t1 - t0, "work_s": t2 - t1, "total_s": t2 - t0, "items": n,
                  "cpu_s": locals().get("cpu"),
                  "self_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20}}))
"""

WRAPPER = """
import subprocess, sys, resource, json
r = subprocess.run([sys.executable, "-c", sys.argv[1]], capture_output=True, text=True)
if r.returncode:
    sys.stderr.write(r.stderr); sys.exit(r.returncode)
d = json.loads(r.stdout.strip().splitlines()[-1])
d["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20
print(json.dumps(d))
"""


def run_child(what: str, leads: Path, mapping: Path) -> dict:
    code = CHILD.format(root=str(ROOT), leads=str(leads), mapping=str(mapping), what=what)
    r = subprocess.run([sys.executable, "-c", WRAPPER, code], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"{what} failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leads", type=int, default=1_000_000)
    ap.add_argument("--activities", type=int, default=3_000_000)
    ap.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    ap.add_argument("--report-leads", type=int, default=10_000)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        t = time.perf_counter()
        mp = make_export(folder, a.leads, a.activities, a.format)
        gen = time.perf_counter() - t
        acts = folder / f"activities.{a.format}"
        n_act = (len(pd.read_parquet(acts, columns=["Lead"])) if a.format == "parquet"
                 else len(pd.read_csv(acts, usecols=["Lead"])))
        res = {w: run_child(w, folder / f"leads.{a.format}", mp)
               for w in ("measure", "calibrate")}  # fmt: skip
        small = folder / "report"
        small.mkdir()
        smp = make_export(small, a.report_leads, 3 * a.report_leads, a.format)
        res["report"] = run_child("report", small / f"leads.{a.format}", smp)
    print(f"synthetic export: {a.leads:,} leads, {n_act:,} activities ({a.format}),"
          f" generated in {gen:.1f} s; {platform.processor() or platform.machine()},"
          f" Python {platform.python_version()}\n")
    print("| command | load (s) | work (s) | total (s) | peak RSS (GB) | goal |")
    print("| --- | ---: | ---: | ---: | ---: | --- |")
    for w, r in res.items():
        if w == "report":
            ok = "met" if r["work_s"] < 5 else "NOT met"
            print(f"| report of {a.report_leads:,} leads | - | {r['work_s']:.1f} (CPU"
                  f" {r['cpu_s']:.1f}) | - | {r['peak_rss_gb']:.2f} | < 5 s: {ok} |")
            continue
        ok = "met" if r["total_s"] < 60 and r["peak_rss_gb"] < 3 else "NOT met"
        print(f"| {w} | {r['load_s']:.1f} | {r['work_s']:.1f} | {r['total_s']:.1f} |"
              f" {r['peak_rss_gb']:.2f} | < 60 s, < 3 GB: {ok} |")
    if a.json:
        a.json.write_text(json.dumps({"leads": a.leads, "activities": n_act,
                                      "format": a.format, "results": res}, indent=2))


if __name__ == "__main__":
    main()
