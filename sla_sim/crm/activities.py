"""The activity table of an export (calls, e-mails, meetings): read, checked against the
lead table, and in canonical form (see :func:`read_activities`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sla_sim.crm.checks import Problems, after_export, map_values, present, pseudonyms
from sla_sim.crm.mapping import ACTIVITY_FIELDS, CrmMapping
from sla_sim.crm.read import read_raw
from sla_sim.crm.tables import duplicated, pick, same_id_form
from sla_sim.crm.values import date_hint, parse_times
from sla_sim.errors import Issue, ScenarioError

__all__ = ["read_activities"]


def read_activities(path: Path, mp: CrmMapping, lid: pd.Series, keep: np.ndarray,
                    leads: pd.DataFrame, exported: pd.Timestamp, probs: Problems,
                    incomplete: dict[str, int], salt: str) -> pd.DataFrame:  # fmt: skip
    """The activities of the lead rows kept (``lead`` is the position among them), each
    problem added to ``probs``, each count to ``incomplete``; a date-only activity on its
    lead's creation day is placed at the creation."""
    cols = {k: v for k, v in mp.columns.items() if k in ACTIVITY_FIELDS}
    need = [f for f in ("activity_lead_id", "activity_at") if f not in cols]
    if need:
        raise ScenarioError([Issue(f"columns.{f}", "must be mapped to read an activity table",
                                   None) for f in need], source="mapping")  # fmt: skip
    table = read_raw(path)
    picked = {k: pick(v, table.header) for k, v in cols.items()}
    missing = [Issue(f"columns.{k}", f"names a column that is not in the activity table"
                     f" ({path.name})", cols[k]) for k, c in picked.items()
               if c is None and (k in ("activity_lead_id", "activity_at")
                                 or mp.missing_columns == "error")]  # fmt: skip
    if missing:
        raise ScenarioError(missing, source=f"mapping (activities {path.name})")
    cols = {k: c for k, c in picked.items() if c is not None}
    dups = duplicated(list(cols.values()), table.header, path.name)
    if dups:
        raise ScenarioError(dups, source=f"mapping (activities {path.name})")
    raw = table.frame(list(cols.values()))
    at, day_only = parse_times(raw[cols["activity_at"]], mp.date_format, mp.timezone)
    bad = present(raw[cols["activity_at"]]) & at.isna().to_numpy()
    probs.add_mask("activities", cols["activity_at"], bad, raw[cols["activity_at"]],
                   "unparseable date" + date_hint(raw[cols["activity_at"]][bad]), 1)
    # lead positions after dropping unplaceable leads
    unique_rows = np.flatnonzero(keep & ~lid.duplicated(keep="first").to_numpy(bool))
    lid, act_lid, how = same_id_form(lid, raw[cols["activity_lead_id"]].astype("string"
                                                                           ).str.strip())
    if how:
        incomplete[f"activities whose lead id was {how}"] = len(act_lid)
    j = pd.Index(lid.to_numpy()[unique_rows]).get_indexer(act_lid.to_numpy())
    new_pos = np.full(len(lid), -1, dtype=np.int64)
    new_pos[keep] = np.arange(int(keep.sum()))
    lead = np.where(j >= 0, new_pos[unique_rows[np.maximum(j, 0)]] if len(unique_rows)
                    else -1, -1)
    unknown = lead < 0
    if unknown.any():
        incomplete["activities of leads not in the lead table (ignored)"] = int(unknown.sum())
    created = leads["created_at"].to_numpy(dtype="datetime64[ns]")[keep]
    at_np = at.to_numpy(dtype="datetime64[ns]")
    early = ~unknown & (at_np < created[np.maximum(lead, 0)]) if len(created) else unknown & False
    same_day = early & day_only & (at_np + np.timedelta64(1, "D") > created[np.maximum(
        lead, 0)]) if len(created) else early  # a Task's Date: the day, not the hour
    if same_day.any():
        incomplete["date-only activity_at on the day of its lead's created_at (placed at its"
                   " time)"] = int(same_day.sum())  # fmt: skip
        at_np = np.where(same_day, created[np.maximum(lead, 0)], at_np)
        at = pd.Series(at_np, index=at.index).dt.tz_localize("UTC")
        early &= ~same_day
    if (day_only & ~unknown).any():
        incomplete["activities with a date only (placed at midnight, or at their lead's"
                   " creation that day; if all are, first touch and contact decay are not"
                   " measured from them)"] = int((day_only & ~unknown).sum())  # fmt: skip
    probs.add_mask("activities", cols["activity_at"], early, raw[cols["activity_at"]],
                   "is before created_at of its lead", 3)
    late, rule = after_export(at, mp.exported_at, exported)
    probs.add_mask("activities", cols["activity_at"], late, raw[cols["activity_at"]], rule, 3)
    out = pd.DataFrame({"lead": lead, "at": at})
    if day_only.any():  # the day, not the hour: see timed_touches()
        out["date_only"] = day_only
    if "activity_outcome" in cols:
        c = cols["activity_outcome"]
        rev = mp.reverse_values("activity_outcome")
        oc = map_values(raw[c], rev)
        badv = present(raw[c]) & oc.isna().to_numpy()
        probs.add_mask("activities", c, badv, raw[c],
                       f"unknown activity outcome (values.activity_outcome lists {sorted(rev)})",
                       2)  # fmt: skip
        out["outcome"] = oc.astype("string")
    if "activity_owner" in cols:
        out["owner"] = pseudonyms(raw[cols["activity_owner"]], salt)
    if "activity_duration_minutes" in cols:
        c = cols["activity_duration_minutes"]
        d = pd.to_numeric(raw[c], errors="coerce")
        badd = present(raw[c]) & (d.isna() | (d < 0)).to_numpy()
        probs.add_mask("activities", c, badd, raw[c], "not a number of minutes >= 0", 1)
        out["duration_minutes"] = d.astype(float)
    no_time = at.isna().to_numpy() & ~bad
    if no_time.any():
        incomplete["activities without a time (ignored)"] = int(no_time.sum())
    good = ~unknown & ~at.isna().to_numpy()
    return out.loc[good].reset_index(drop=True)
