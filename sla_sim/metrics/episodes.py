"""Per-MQL-episode view of an event log: one row per (lead, episode) with its key times."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sla_sim.events import CODE

EP_BASE = 1 << 16  # key = lead * EP_BASE + episode


@dataclass
class Episodes:
    """Arrays aligned on MQL episodes (NaN where the event has not happened)."""

    key: np.ndarray
    lead: np.ndarray
    team: np.ndarray
    mql: np.ndarray
    routed: np.ndarray
    assigned: np.ndarray
    first_attempt: np.ndarray
    kth_attempt: np.ndarray  # start of the attempt number sla.attempts_required
    contact: np.ndarray  # first attempt that reached the lead (its end)
    disposition: np.ndarray  # sql, disqualified or recycled
    disposition_code: np.ndarray  # event code of the disposition, -1 if none
    n_attempts: np.ndarray

    def __len__(self) -> int:
        return len(self.key)


def episode_keys(cols: dict[str, np.ndarray], mask: np.ndarray) -> np.ndarray:
    """(lead, episode) of the masked rows as one sortable int64 key."""
    return cols["lead"][mask].astype(np.int64) * EP_BASE + cols["episode"][mask].astype(np.int64)


def _first_time(ep_key: np.ndarray, keys: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Earliest time per episode key (NaN where the key has no row)."""
    out = np.full(len(ep_key), np.nan)
    if len(keys) == 0 or len(ep_key) == 0:
        return out
    idx = np.searchsorted(ep_key, keys)
    ok = (idx < len(ep_key)) & (ep_key[np.minimum(idx, len(ep_key) - 1)] == keys)
    idx, t = idx[ok], times[ok]
    earliest = np.full(len(ep_key), np.inf)
    np.minimum.at(earliest, idx, t)  # order-independent: rows need not be sorted
    hit = np.isfinite(earliest)
    out[hit] = earliest[hit]
    return out


def build_episodes(cols: dict[str, np.ndarray], attempts_required: int) -> Episodes:
    """Join mql, routed, assigned, attempts and disposition rows on (lead, episode)."""
    ev, t = cols["event"], cols["time_h"]
    is_mql = ev == CODE["mql"]
    key = episode_keys(cols, is_mql)
    order = np.argsort(key, kind="stable")
    key = key[order]
    mql_t = t[is_mql][order]
    team = cols["team"][is_mql][order].astype(np.int64)

    def first(code: str, extra: np.ndarray | None = None) -> np.ndarray:
        m = ev == CODE[code]
        if extra is not None:
            m &= extra
        return _first_time(key, episode_keys(cols, m), t[m])

    att = ev == CODE["attempt"]
    disp_mask = np.isin(ev, [CODE["sql"], CODE["disqualified"], CODE["recycled"]])
    dk = episode_keys(cols, disp_mask)
    disposition = _first_time(key, dk, t[disp_mask])
    disp_code = np.full(len(key), -1, dtype=np.int64)
    if len(dk) and len(key):
        idx = np.searchsorted(key, dk)
        ok = (idx < len(key)) & (key[np.minimum(idx, len(key) - 1)] == dk)
        disp_code[idx[ok]] = ev[disp_mask][ok]
    ak = episode_keys(cols, att)
    n_att = np.zeros(len(key), dtype=np.int64)
    if len(ak) and len(key):
        idx = np.searchsorted(key, ak)
        ok = (idx < len(key)) & (key[np.minimum(idx, len(key) - 1)] == ak)
        n_att = np.bincount(idx[ok], minlength=len(key))
    return Episodes(
        key=key,
        lead=key // EP_BASE,
        team=team,
        mql=mql_t,
        routed=first("routed"),
        assigned=first("assigned"),
        first_attempt=first("attempt", cols["attempt"] == 0),
        kth_attempt=first("attempt", cols["attempt"] == attempts_required - 1),
        contact=first("contact"),
        disposition=disposition,
        disposition_code=disp_code,
        n_attempts=n_att,
    )
