"""CRM downloads in their real formats, written from a known truth (for the CRM tests).

Salesforce: a Lightning "Details Only" Lead report (UTF-8 with a byte-order mark) and an
Opportunity report; the Classic Lead report in Windows-1252 with its footer block. HubSpot: a
Contacts export and a Deals export. US dates and times (``12/31/2025 4:05 PM``), date-only
Converted / Created / Close dates, money strings (``$12,345.00``), open opportunities with an
expected Close Date in the future, the standard picklists, and personal names and e-mails in
columns no mapping reads (and in the footer).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TZ = "America/New_York"
START = pd.Timestamp("2025-01-01 00:00", tz=TZ)
EXPORTED = pd.Timestamp("2025-09-01 10:00", tz=TZ)
FIRST = ["Zoltan", "Marguerite", "Ophelia", "Bartholomew", "Ingrid", "Thaddeus", "Renée"]
LAST = ["Quackenbush", "Vanderslice", "Oyelaran", "Fairweather", "Brzezinski", "Lindqvist"]
OWNERS = ["Dana Whitfield", "Priya Ramaswamy", "Hector Villanueva"]
OPEN_STAGES = ["Prospecting", "Qualification", "Needs Analysis", "Value Proposition",
               "Id. Decision Makers", "Perception Analysis", "Proposal/Price Quote",
               "Negotiation/Review"]  # fmt: skip


@dataclass(frozen=True)
class Truth:
    """What the exports are drawn from."""

    leads_per_month: dict[str, float]  # per channel (Lead Source)
    convert_p: float = 0.45  # lead -> opportunity
    win_rate: float = 0.3  # won / (won + lost) among closed opportunities
    cycle_days_mean: float = 42.0  # opportunity created -> closed (lognormal, cv 0.5)
    cycle_cv: float = 0.5
    deal_mean: float = 12_000.0


TRUTH = Truth({"Web": 120.0, "Partner Referral": 60.0})
SECRETS = [*FIRST, *LAST, *OWNERS, "@mail-example.test", "Acme Widgets"]


def _us(ts: pd.Series, date_only: bool = False) -> pd.Series:
    """US report format: 12/31/2025 4:05 PM (or 12/31/2025)."""
    t = ts.dt.tz_convert(TZ).dt.strftime("%m/%d/%Y" if date_only else "%m/%d/%Y %I:%M %p")
    return t.str.replace(r"^0|(?<=/)0|(?<= )0(?=\d:)", "", regex=True).where(ts.notna(), "")


def draw(seed: int = 7, truth: Truth = TRUTH) -> pd.DataFrame:
    """One row per lead with its true times and outcome (UTC timestamps)."""
    rng = np.random.default_rng(seed)
    span_h = (EXPORTED - START).total_seconds() / 3600
    rows = []
    for ch, per_month in truth.leads_per_month.items():
        n = rng.poisson(per_month * span_h / (24 * 365.25 / 12))
        rows.append(pd.DataFrame({"channel": ch, "created": START + pd.to_timedelta(
            np.sort(rng.uniform(0, span_h, n)), unit="h")}))
    df = pd.concat(rows, ignore_index=True).sort_values("created", ignore_index=True)
    n = len(df)
    df["created"] = df["created"].dt.floor("min")
    conv = rng.random(n) < truth.convert_p
    conv_at = df["created"] + pd.to_timedelta(rng.exponential(3.0, n), unit="D")
    conv &= (conv_at < EXPORTED).to_numpy()
    df["converted"] = conv_at.where(conv)
    conv_day = df["converted"].dt.tz_convert(TZ).dt.normalize()
    s2 = np.log(1 + truth.cycle_cv**2)
    cycle = np.round(rng.lognormal(np.log(truth.cycle_days_mean) - s2 / 2, np.sqrt(s2), n))
    close_day = conv_day + pd.to_timedelta(cycle, unit="D")
    closed = conv & (close_day < EXPORTED.normalize()).to_numpy()
    won = closed & (rng.random(n) < truth.win_rate)
    df["opened_day"] = conv_day
    df["closed_day"] = close_day.where(closed)
    df["stage"] = np.where(won, "Closed Won", np.where(closed, "Closed Lost", np.asarray(
        OPEN_STAGES)[rng.integers(0, len(OPEN_STAGES), n)]))
    df["expected_close"] = (EXPORTED.normalize() + pd.to_timedelta(
        rng.integers(20, 150, n), unit="D")).where(conv & ~closed)
    df["amount"] = np.round(rng.gamma(4.0, truth.deal_mean / 4.0, n), 2)
    df["opp_id"] = ["006" + f"{i:012d}" for i in range(n)]
    df["lead_id"] = ["00Q" + f"{i:012d}" for i in range(n)]
    df["is_converted"] = conv
    not_conv_status = np.where(rng.random(n) < 0.4, "Closed - Not Converted",
                               np.where(rng.random(n) < 0.5, "Working - Contacted",
                                        "Open - Not Contacted"))  # fmt: skip
    df["lead_status"] = np.where(conv, "Closed - Converted", not_conv_status)
    df["first"] = np.asarray(FIRST)[rng.integers(0, len(FIRST), n)]
    df["last"] = np.asarray(LAST)[rng.integers(0, len(LAST), n)]
    df["owner"] = np.asarray(OWNERS)[rng.integers(0, len(OWNERS), n)]
    return df


def _people(df: pd.DataFrame) -> dict[str, pd.Series]:
    return {"First Name": df["first"], "Last Name": df["last"],
            "Email": (df["first"] + "." + df["last"]).str.lower() + "@mail-example.test",
            "Company / Account": "Acme Widgets"}  # fmt: skip


def salesforce(df: pd.DataFrame, folder: Path, classic: bool = False) -> tuple[Path, Path]:
    """The Lead and Opportunity reports (Lightning, or Classic with its footer)."""
    folder.mkdir(parents=True, exist_ok=True)
    p = _people(df)
    leads = pd.DataFrame({
        "Lead Owner": df["owner"], "First Name": p["First Name"], "Last Name": p["Last Name"],
        "Title": "VP Operations", "Company / Account": p["Company / Account"],
        "Email": p["Email"], "Lead Source": df["channel"], "Lead Status": df["lead_status"],
        "Create Date": _us(df["created"]), "Converted Date": _us(df["converted"], True),
        "Converted Opportunity ID": df["opp_id"].where(df["is_converted"], ""),
        "Lead ID": df["lead_id"],
    })  # fmt: skip
    o = df[df["is_converted"]]
    close = o["closed_day"].where(o["closed_day"].notna(), o["expected_close"])
    opps = pd.DataFrame({
        "Opportunity Owner": o["owner"], "Account Name": "Acme Widgets",
        "Opportunity Name": o["last"] + " - New Business", "Stage": o["stage"],
        "Amount": o["amount"].map("${:,.2f}".format), "Probability (%)": "10%",
        "Close Date": _us(close, True), "Created Date": _us(o["opened_day"], True),
        "Lead Source": o["channel"], "Opportunity ID": o["opp_id"],
    })  # fmt: skip
    lp, op = folder / "leads.csv", folder / "opportunities.csv"
    if classic:
        text = leads.to_csv(index=False, quoting=1, lineterminator="\n")
        footer = ('\n\n"Acme Widgets"\n"Copyright (c) 2000-2025 salesforce.com, inc. All'
                  ' rights reserved."\n"Confidential Information - Do Not Distribute"\n'
                  f'"Generated By:  {OWNERS[0]}  9/1/2025 10:00 AM"\n"Acme Widgets"\n')
        lp.write_bytes((text + footer).encode("cp1252"))
        op.write_bytes((opps.to_csv(index=False, quoting=1, lineterminator="\n") + footer
                        ).encode("cp1252"))  # fmt: skip
    else:
        lp.write_text("\ufeff" + leads.to_csv(index=False, lineterminator="\n"), "utf-8")
        op.write_text("\ufeff" + opps.to_csv(index=False, lineterminator="\n"), "utf-8")
    return lp, op


def hubspot(df: pd.DataFrame, folder: Path) -> tuple[Path, Path]:
    """A Contacts export and a Deals export (one deal per converted contact)."""
    folder.mkdir(parents=True, exist_ok=True)
    p = _people(df)

    def iso(ts: pd.Series) -> pd.Series:
        return ts.dt.tz_convert(TZ).dt.strftime("%Y-%m-%d %H:%M").where(ts.notna(), "")

    won = df["stage"].eq("Closed Won") & df["closed_day"].notna() & df["is_converted"]
    life = np.where(won, "Customer", np.where(df["is_converted"], "Opportunity", np.where(
        df["lead_status"] == "Closed - Not Converted", "Other", "Lead")))
    contacts = pd.DataFrame({
        "Record ID": df["lead_id"].str[3:].astype(int), "First Name": p["First Name"],
        "Last Name": p["Last Name"], "Email": p["Email"], "HubSpot Owner": df["owner"],
        "Create Date": iso(df["created"]), "Original Source": df["channel"],
        "Lifecycle Stage": life,
        "Became an Opportunity Date": iso(df["converted"]),
        "Became a Customer Date": iso(df["closed_day"].where(won)),
    })  # fmt: skip
    o = df[df["is_converted"]]
    close = o["closed_day"].where(o["closed_day"].notna(), o["expected_close"])
    hs_stage = o["stage"].where(o["stage"].isin(["Closed Won", "Closed Lost"]),
                                "Presentation Scheduled")  # fmt: skip
    deals = pd.DataFrame({
        "Record ID": np.arange(len(o)) + 900000, "Deal Name": o["last"] + " deal",
        "Deal Stage": hs_stage, "Amount": o["amount"].round(2), "Close Date": iso(close),
        "Create Date": iso(o["converted"]), "Deal owner": o["owner"],
        "Associated Contact IDs": o["lead_id"].str[3:].astype(int),
    })  # fmt: skip
    cp, dp = folder / "contacts.csv", folder / "deals.csv"
    contacts.to_csv(cp, index=False)
    deals.to_csv(dp, index=False)
    return cp, dp


# Variants a user's download may have that the reports above do not: each takes a report
# written above and rewrites it as the variant (same rows, so the truth is the same).


def read_report(path: Path) -> pd.DataFrame:
    """A report written above, every value as text."""
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")


def with_amounts(opps: Path, folder: Path, amounts: list[str]) -> Path:
    """The Opportunity report with its Amount column rewritten (cycled through ``amounts``)."""
    o = read_report(opps)
    o["Amount"] = [amounts[i % len(amounts)] for i in range(len(o))]
    folder.mkdir(parents=True, exist_ok=True)
    o.to_csv(folder / "opportunities.csv", index=False)
    return folder / "opportunities.csv"


def euro_amounts(opps: Path, folder: Path) -> Path:
    """The Opportunity report with its amounts as a German-locale org writes them
    (``EUR 12.345,67``): the same numbers."""
    o = read_report(opps)
    num = o["Amount"].str.replace(r"[$,]", "", regex=True).astype(float)
    o["Amount"] = ["EUR " + f"{v:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
                   for v in num]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    o.to_csv(folder / "opportunities.csv", index=False)
    return folder / "opportunities.csv"


def duplicate_column(leads: Path, folder: Path, name: str, value: str) -> Path:
    """The Lead report with a second column called ``name`` (first, holding ``value``), as a
    report with the lead's and the account's "Create Date" has."""
    df = read_report(leads)
    df.insert(1, "__dup__", value)
    folder.mkdir(parents=True, exist_ok=True)
    text = df.to_csv(index=False, lineterminator="\n").replace("__dup__", name, 1)
    (folder / "leads.csv").write_text(text, "utf-8")
    return folder / "leads.csv"


def with_value(leads: Path, folder: Path, row: int, column: str, value: str) -> Path:
    """The Lead report with one value replaced."""
    df = read_report(leads)
    df.loc[row, column] = value
    folder.mkdir(parents=True, exist_ok=True)
    df.to_csv(folder / "leads.csv", index=False)
    return folder / "leads.csv"


def _day_first(us: pd.Series, date_only: bool) -> pd.Series:
    fmt_in, fmt_out = (("%m/%d/%Y", "%d/%m/%Y") if date_only
                       else ("%m/%d/%Y %I:%M %p", "%d/%m/%Y %H:%M"))  # fmt: skip
    t = pd.to_datetime(us.where(us != ""), format=fmt_in)
    return t.dt.strftime(fmt_out).where(t.notna(), "")


def european(leads: Path, opps: Path, folder: Path) -> tuple[Path, Path]:
    """The two reports as Excel saves them in a German or French locale ("CSV UTF-8"):
    semicolons, day-first 24-hour dates (31/12/2025 16:05), decimal commas (12.345,67)."""
    df, o = read_report(leads), read_report(opps)
    df["Create Date"] = _day_first(df["Create Date"], False)
    df["Converted Date"] = _day_first(df["Converted Date"], True)
    for c in ("Close Date", "Created Date"):
        o[c] = _day_first(o[c], True)
    num = o["Amount"].str.replace(r"[$,]", "", regex=True).astype(float)
    o["Amount"] = [f"{v:,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
                   for v in num]  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    lp, op = folder / "leads.csv", folder / "opportunities.csv"
    lp.write_text("\ufeff" + df.to_csv(index=False, sep=";", lineterminator="\r\n"), "utf-8")
    op.write_text("\ufeff" + o.to_csv(index=False, sep=";", lineterminator="\r\n"), "utf-8")
    return lp, op


def formatted(leads: Path, folder: Path) -> Path:
    """The Lead report with a title and filter block above its header and a Grand Totals
    row, as a Formatted report re-saved as CSV from Excel has."""
    df = read_report(leads)
    head = ('"Leads with converted lead information"\n"Filtered By:"\n'
            f'"   Lead Owner equals {OWNERS[1]}"\n\n')  # fmt: skip
    total = f'"Grand Totals ({len(df)} records)"' + "," * (len(df.columns) - 1) + "\n"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leads.csv").write_text(head + df.to_csv(index=False, lineterminator="\n")
                                      + total, "utf-8")  # fmt: skip
    return folder / "leads.csv"


def multiline_last(leads: Path, folder: Path) -> Path:
    """The Lead report with a last column of quoted multi-line notes (its last line is one
    cell, like a footer line, but no blank line precedes it)."""
    df = read_report(leads)
    df["Description"] = "Met at the fair,\nasked for a demo"
    folder.mkdir(parents=True, exist_ok=True)
    df.to_csv(folder / "leads.csv", index=False, lineterminator="\n")
    return folder / "leads.csv"


def renamed(leads: Path, folder: Path, names: dict[str, str]) -> Path:
    """The Lead report with columns renamed by the user (``{old: new}``)."""
    folder.mkdir(parents=True, exist_ok=True)
    read_report(leads).rename(columns=names).to_csv(folder / "leads.csv", index=False)
    return folder / "leads.csv"


def several_contacts(deals: Path, folder: Path, other: str = "987654321") -> Path:
    """The HubSpot Deals export with every tenth deal associated with a second contact
    (``12;987654321``, as HubSpot lists several associated contacts) and one deal with no
    contact in the export."""
    d = pd.read_csv(deals, dtype=str, keep_default_na=False)
    col = "Associated Contact IDs"
    d.loc[::10, col] = d.loc[::10, col] + ";" + other
    d.loc[len(d)] = {**d.iloc[1].to_dict(), "Record ID": "999999", col: "987654321"}
    folder.mkdir(parents=True, exist_ok=True)
    d.to_csv(folder / "deals.csv", index=False)
    return folder / "deals.csv"


def unicode_text(leads: Path, folder: Path) -> Path:
    """The Lead report saved from Excel as "Unicode Text": UTF-16 with its byte-order mark,
    tab-separated."""
    folder.mkdir(parents=True, exist_ok=True)
    text = read_report(leads).to_csv(index=False, sep="\t", lineterminator="\r\n")
    (folder / "leads.txt").write_bytes(text.encode("utf-16"))
    return folder / "leads.txt"


def not_csv(leads: Path, folder: Path) -> dict[str, Path]:
    """What a user may download instead of a CSV: an Excel 97-2003 workbook, and a report's
    printable view (an HTML table named .xls, with the owners' names in it)."""
    folder.mkdir(parents=True, exist_ok=True)
    df = read_report(leads).head(5)
    rows = "".join("<tr>" + "".join(f"<td>{v}</td>" for v in r) + "</tr>"
                   for r in df.itertuples(index=False))  # fmt: skip
    html = ('<html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8">'
            "</head><body><table><tr>" + "".join(f"<th>{c}</th>" for c in df.columns)
            + "</tr>" + rows + "</table></body></html>\n")  # fmt: skip
    (folder / "printable.xls").write_text(html, "utf-8")
    (folder / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024)
    return {"html": folder / "printable.xls", "ole": folder / "old.xls"}


def api_ids(opps: Path, folder: Path) -> Path:
    """The Opportunity table with 18-character ids, as the API and Data Loader write them
    (the Lead report's Converted Opportunity ID has the report's 15)."""
    o = read_report(opps)
    o["Opportunity ID"] = o["Opportunity ID"] + "AAQ"
    folder.mkdir(parents=True, exist_ok=True)
    o.to_csv(folder / "opportunities.csv", index=False)
    return folder / "opportunities.csv"


def tasks(leads: Path, folder: Path, every: int = 3) -> Path:
    """A Task export from the API (WhoId of 18 characters, ISO ActivityDate, CallDisposition):
    one call an hour after every ``every``-th lead was created."""
    df = read_report(leads).iloc[::every]
    at = pd.to_datetime(df["Create Date"], format="%m/%d/%Y %I:%M %p") + pd.Timedelta(hours=1)
    t = pd.DataFrame({"WhoId": df["Lead ID"] + "EAW", "ActivityDate": at.dt.strftime(
        "%Y-%m-%dT%H:%M:%S"), "CallDisposition": "Connected"})  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    t.to_csv(folder / "tasks.csv", index=False)
    return folder / "tasks.csv"


def activity_report(leads: Path, folder: Path, every: int = 3) -> Path:
    """An Activity report ("Tasks and Events", Details Only): a call on the day of every
    ``every``-th lead, its "Date" the task's date only (12/31/2025), as reports write it."""
    df = read_report(leads).iloc[::every]
    at = pd.to_datetime(df["Create Date"], format="%m/%d/%Y %I:%M %p") + pd.Timedelta(hours=1)
    t = pd.DataFrame({"Assigned": df["Lead Owner"], "Subject": "Call",
                      "Date": at.dt.strftime("%m/%d/%Y"), "Call Result": "Connected",
                      "Lead ID": df["Lead ID"]})  # fmt: skip
    folder.mkdir(parents=True, exist_ok=True)
    t.to_csv(folder / "activities.csv", index=False)
    return folder / "activities.csv"


def sentence_case(contacts: Path, deals: Path, folder: Path) -> tuple[Path, Path]:
    """The HubSpot exports as the newer HubSpot writes them: sentence-case labels ('Create
    date', 'Lifecycle stage', 'Deal stage') and values ('Closed won', 'Closed lost'), and a
    header with a stray space ('Record ID ')."""
    c, d = read_report(contacts), read_report(deals)
    c = c.rename(columns={"Create Date": "Create date", "Lifecycle Stage": "Lifecycle stage",
                          "Record ID": "Record ID "})  # fmt: skip
    d = d.rename(columns={"Deal Stage": "Deal stage", "Close Date": "Close date"})
    d["Deal stage"] = d["Deal stage"].str.capitalize()
    folder.mkdir(parents=True, exist_ok=True)
    c.to_csv(folder / "contacts.csv", index=False)
    d.to_csv(folder / "deals.csv", index=False)
    return folder / "contacts.csv", folder / "deals.csv"


def hubspot_zoned(contacts: Path, deals: Path, folder: Path) -> tuple[Path, Path]:
    """The HubSpot exports with API-style timestamps: contacts in UTC with a 'Z'
    (2025-03-04T20:04:00.000Z), deals with the account's offset (2025-03-04T15:04:00-05:00),
    and the contacts' MQL date ("Became a Marketing Qualified Lead Date"), their creation."""
    c, d = read_report(contacts), read_report(deals)

    def zoned(s: pd.Series, utc: bool) -> pd.Series:
        t = pd.to_datetime(s.where(s != "")).dt.tz_localize(TZ)
        out = (t.dt.tz_convert("UTC").dt.strftime("%Y-%m-%dT%H:%M:%S.000Z") if utc
               else t.map(lambda x: x.isoformat() if pd.notna(x) else ""))  # fmt: skip
        return out.where(t.notna(), "")

    c["Became a Marketing Qualified Lead Date"] = zoned(c["Create Date"], True)
    for col in ("Create Date", "Became an Opportunity Date", "Became a Customer Date"):
        c[col] = zoned(c[col], True)
    for col in ("Create Date", "Close Date"):
        d[col] = zoned(d[col], False)
    folder.mkdir(parents=True, exist_ok=True)
    c.to_csv(folder / "contacts.csv", index=False)
    d.to_csv(folder / "deals.csv", index=False)
    return folder / "contacts.csv", folder / "deals.csv"


def messy_csv(leads: Path, folder: Path) -> Path:
    """The Lead report with Windows line ends, two empty trailing columns, a quoted
    multi-line note in a middle column and blank lines at the end."""
    df = read_report(leads)
    df.insert(3, "Notes", ["called twice,\r\nno answer" if i % 4 == 0 else ""
                           for i in range(len(df))])  # fmt: skip
    df[""] = ""
    df[" "] = ""
    folder.mkdir(parents=True, exist_ok=True)
    text = df.to_csv(index=False, lineterminator="\r\n") + "\r\n\r\n"
    (folder / "leads.csv").write_bytes(text.encode("utf-8"))
    return folder / "leads.csv"


def mac_csv(leads: Path, folder: Path) -> Path:
    """The Lead report saved by Excel as "CSV (Macintosh)": CR line ends only."""
    folder.mkdir(parents=True, exist_ok=True)
    text = read_report(leads).to_csv(index=False, lineterminator="\r")
    (folder / "leads.csv").write_bytes(text.encode("utf-8"))
    return folder / "leads.csv"


def float_ids(deals: Path, folder: Path) -> Path:
    """The HubSpot Deals export after a pass through a spreadsheet or pandas: the contact ids
    written as floats (``101.0``)."""
    d = read_report(deals)
    d["Associated Contact IDs"] = d["Associated Contact IDs"] + ".0"
    folder.mkdir(parents=True, exist_ok=True)
    d.to_csv(folder / "deals.csv", index=False)
    return folder / "deals.csv"
