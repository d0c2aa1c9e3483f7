"""Reading CRM exports: the mapping, the bad-export rules (one case each), incomplete rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sla_sim.crm.checks import GROUP_AT, Problems
from sla_sim.crm.load import MAX_LISTED, load_export, pseudonym
from sla_sim.crm.mapping import load_mapping, preset_names
from sla_sim.crm.to_log import to_log
from sla_sim.errors import ScenarioError
from sla_sim.events import CODE

MAPPING = {
    "columns": {"lead_id": "Id", "created_at": "Created", "channel": "Source",
                "owner": "Owner", "mql_at": "MQL", "first_touch_at": "Touched",
                "sql_at": "SQL", "closed_at": "Closed", "stage": "Stage", "amount": "Amount"},
    "values": {"stage": {"won": ["Closed Won"], "lost": ["Closed Lost"], "open": ["Open"]}},
    "timezone": "America/New_York",
}  # fmt: skip

GOOD = [
    {"Id": "a1", "Created": "2025-03-03 10:00", "Source": "web", "Owner": "Ann Lee",
     "MQL": "2025-03-03 10:05", "Touched": "2025-03-03 11:00", "SQL": "2025-03-04 09:00",
     "Closed": "2025-04-01 12:00", "Stage": "Closed Won", "Amount": "1200"},
    {"Id": "a2", "Created": "2025-03-05 16:00", "Source": "paid", "Owner": "Bo Chan",
     "MQL": "2025-03-05 16:00", "Touched": "", "SQL": "", "Closed": "",
     "Stage": "Open", "Amount": ""},
    {"Id": "a3", "Created": "2025-03-07 09:30", "Source": "web", "Owner": "Ann Lee",
     "MQL": "", "Touched": "", "SQL": "", "Closed": "", "Stage": "Open", "Amount": ""},
]  # fmt: skip


def _write(tmp_path: Path, rows: list[dict[str, str]], mapping: dict | None = None,
           fmt: str = "csv") -> tuple[Path, dict]:  # fmt: skip
    df = pd.DataFrame(rows)
    p = tmp_path / f"leads.{fmt}"
    if fmt == "csv":
        df.to_csv(p, index=False)
    else:
        df.to_parquet(p, index=False)
    return p, mapping or MAPPING


def _problems(err: pytest.ExceptionInfo[ScenarioError]) -> list[str]:
    return [str(i) for i in err.value.issues]


def test_good_export_reads_and_maps(tmp_path: Path) -> None:
    for fmt in ("csv", "parquet"):
        p, m = _write(tmp_path, GOOD, fmt=fmt)
        ex = load_export(p, m, salt="s")
        assert ex.n_leads == 3
        assert ex.incomplete == {}
        # naive local times read in the mapping's zone: 10:00 New York (EST) is 15:00 UTC
        assert ex.leads["created_at"][0] == pd.Timestamp("2025-03-03 15:00", tz="UTC")
        assert ex.exported_at == pd.Timestamp("2025-04-01 16:00", tz="UTC")  # latest seen
        assert list(ex.leads["stage"]) == ["won", "open", "open"]
        assert ex.leads["owner"][0] == pseudonym("Ann Lee", "s")
        mapped = to_log(ex)
        cols = mapped.log.columns()
        count = {e: int((cols["event"] == CODE[e]).sum()) for e in
                 ("created", "mql", "attempt", "sql", "opp_open", "won")}  # fmt: skip
        assert count == {"created": 3, "mql": 2, "attempt": 1, "sql": 1, "opp_open": 1,
                         "won": 1}  # fmt: skip
        assert mapped.terminal["won"] == 1
        assert mapped.terminal["in_flight"] == 2


def test_unparseable_date_names_row_column_value(tmp_path: Path) -> None:
    rows = [dict(r) for r in GOOD]
    rows[1]["Created"] = "31/31/2025"
    p, m = _write(tmp_path, rows)
    with pytest.raises(ScenarioError) as err:
        load_export(p, m)
    assert _problems(err) == ["leads row 2, column 'Created': unparseable date (got '31/31/2025')"]


def test_event_out_of_order(tmp_path: Path) -> None:
    rows = [dict(r) for r in GOOD]
    rows[0]["Touched"] = "2025-03-03 09:00"  # first touch before created
    p, m = _write(tmp_path, rows)
    with pytest.raises(ScenarioError) as err:
        load_export(p, m)
    msgs = _problems(err)
    assert any("row 1, column 'Touched': is before created_at (Created)" in s
               and "2025-03-03 09:00" in s for s in msgs), msgs  # fmt: skip


def test_duplicate_ids(tmp_path: Path) -> None:
    rows = [dict(r) for r in GOOD]
    rows[2]["Id"] = "a1"
    p, m = _write(tmp_path, rows)
    with pytest.raises(ScenarioError) as err:
        load_export(p, m)
    msgs = _problems(err)
    assert msgs == ["leads row 3, column 'Id': duplicate lead id (the id is not shown: export"
                    " ids stay private) (got 'the id of row 1')"]  # fmt: skip
    assert "a1" not in " ".join(msgs)  # the id itself stays private


def test_unknown_stage_value(tmp_path: Path) -> None:
    rows = [dict(r) for r in GOOD]
    rows[1]["Stage"] = "Negotiation"
    p, m = _write(tmp_path, rows)
    with pytest.raises(ScenarioError) as err:
        load_export(p, m)
    (msg,) = _problems(err)
    assert msg.startswith("leads row 2, column 'Stage': unknown stage value")
    assert "'Negotiation'" in msg


def test_mapping_names_missing_column(tmp_path: Path) -> None:
    m = {**MAPPING, "columns": {**MAPPING["columns"], "sql_at": "SQL Date"}}
    p, _ = _write(tmp_path, GOOD)
    with pytest.raises(ScenarioError) as err:
        load_export(p, m)
    (msg,) = _problems(err)
    assert msg.startswith("columns.sql_at: names a column that is not in leads.csv")
    assert "'SQL Date'" in msg


def test_first_twenty_problems_listed_and_the_rest_counted(tmp_path: Path) -> None:
    rows = [dict(GOOD[1], Id=f"x{i}", Created="not a date") for i in range(30)]
    p, m = _write(tmp_path, rows)
    with pytest.raises(ScenarioError) as err:
        load_export(p, m)
    issues = err.value.issues
    # one rule broken in a whole column is one issue naming its rows, not twenty alike
    assert [str(i) for i in issues] == [
        "leads rows 1, 2, 3, 4, 5 and 25 more (30 rows), column 'Created': unparseable date"
        " (got 'not a date')"]
    # a few rows are listed one by one
    rows = [dict(GOOD[1], Id=f"y{i}", Created="not a date" if i < GROUP_AT else
                 GOOD[1]["Created"]) for i in range(10)]  # fmt: skip
    p, m = _write(tmp_path, rows)
    with pytest.raises(ScenarioError) as err:
        load_export(p, m)
    assert [str(i)[:31] for i in err.value.issues] == [
        f"leads row {r}, column 'Created': " for r in range(1, GROUP_AT + 1)]


def test_problems_beyond_the_listed_are_counted_by_row() -> None:
    """Twenty issues are listed, in row order; the rows of the others are counted, a grouped
    issue counting all its rows."""
    probs = Problems()
    vals = pd.Series([f"v{i}" for i in range(100)])
    for k in range(MAX_LISTED + 4):  # one row each, rows 1..24
        probs.add_mask("leads", f"c{k}", np.arange(100) == k, vals, "rule", 0)
    probs.add_mask("leads", "g", np.arange(100) >= 90, vals, "grouped", 1)  # 10 rows, one issue
    with pytest.raises(ScenarioError) as err:
        probs.raise_if_any("x")
    issues = [str(i) for i in err.value.issues]
    assert len(issues) == MAX_LISTED + 1
    assert issues[0] == "leads row 1, column 'c0': rule (got 'v0')"
    assert issues[-1] == "export: 14 more problem(s) not listed (got 34)"


def test_incomplete_rows_are_counted_not_dropped(tmp_path: Path) -> None:
    rows = [dict(r) for r in GOOD]
    rows[1]["Source"] = ""
    rows[1]["Owner"] = ""
    rows.append(dict(GOOD[2], Id="a4", Created=""))  # cannot be placed: counted
    p, m = _write(tmp_path, rows)
    ex = load_export(p, m)
    assert ex.incomplete == {"leads without channel": 1, "MQLs without owner": 1,
                             "leads without created_at (not placed)": 1}  # fmt: skip
    assert ex.n_leads == 3
    assert "(none)" in set(ex.leads["channel"])


def test_activities_are_checked_too(tmp_path: Path) -> None:
    p, _ = _write(tmp_path, GOOD)
    acts = pd.DataFrame({"Lead": ["a1", "a1", "zz"], "When": ["2025-03-03 12:00", "yesterday",
                                                                "2025-03-04 12:00"],
                         "Result": ["Reached", "Reached", "Voicemail"]})  # fmt: skip
    acts.to_csv(tmp_path / "acts.csv", index=False)
    m = {**MAPPING, "columns": {**MAPPING["columns"], "activity_lead_id": "Lead",
                                "activity_at": "When", "activity_outcome": "Result"},
         "values": {**MAPPING["values"], "activity_outcome": {"reached": ["Reached"]}}}
    with pytest.raises(ScenarioError) as err:
        load_export(p, m, activities=tmp_path / "acts.csv")
    msgs = _problems(err)
    assert "activities row 2, column 'When': unparseable date (got 'yesterday')" in msgs
    assert any(s.startswith("activities row 3, column 'Result': unknown activity outcome")
               for s in msgs)  # fmt: skip


def test_mapping_errors_are_clear() -> None:
    with pytest.raises(ScenarioError) as err:
        load_mapping({"columns": {"lead_id": "Id", "created": "C"}, "timezone": "Mars/Base"})
    text = str(err.value)
    assert "unknown canonical field(s) ['created']" in text
    assert "timezone" in text
    assert "IANA" in text
    with pytest.raises(ScenarioError, match=r"values\.stage"):
        load_mapping({"columns": {"lead_id": "I", "created_at": "C", "channel": "S",
                                  "stage": "St"}})  # fmt: skip


def test_presets_load() -> None:
    names = preset_names()
    assert "olist" in names
    assert len(names) >= 3
    for name in names:
        load_mapping(f"preset:{name}")
