"""Lead generation per channel: a non-homogeneous Poisson process, drawn in vectorised batches.

The rate is piecewise constant per clock hour: the channel's monthly volume times the weekday,
hour-of-day and month profiles (each normalised to mean 1) times any campaign burst. Counts per
hour are Poisson (or, with ``daily_volume_cv > 0``, Poisson with a gamma-distributed multiplier
per local day, i.e. negative binomial days); times are uniform within the hour. For a
piecewise-constant rate this is exact, and needs no thinning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from sla_sim.scenario.schema import Scenario
from sla_sim.streams import Streams

HOURS_PER_MONTH = 365.25 / 12 * 24


@dataclass(frozen=True)
class HourGrid:
    """Local calendar features of each clock hour of the horizon."""

    weekday: np.ndarray  # 0 = Monday
    hour: np.ndarray  # local hour 0..23
    month: np.ndarray  # 0 = January
    day: np.ndarray  # local day index from 0


_GRIDS: dict[tuple[str, str, int], HourGrid] = {}
_GRIDS_MAX = 8


def hour_grid(origin: datetime, n_hours: int) -> HourGrid:
    """Local weekday, hour, month and day index of every hour bin from ``origin``.

    Built once per distinct (origin, zone, length) and shared (pandas takes milliseconds, and
    every replication of a scenario asks for the same grid); its arrays are read-only.
    """
    key = (origin.isoformat(), str(origin.tzinfo), n_hours)  # the zone sets the local features
    grid = _GRIDS.get(key)
    if grid is None:
        if len(_GRIDS) >= _GRIDS_MAX:
            _GRIDS.clear()
        grid = _GRIDS[key] = _build_hour_grid(origin, n_hours)
    return grid


def _build_hour_grid(origin: datetime, n_hours: int) -> HourGrid:
    idx = pd.date_range(origin, periods=n_hours, freq="h")  # aware, in the scenario zone
    days = idx.tz_localize(None).normalize()  # local calendar days (midnight may not exist)
    day_codes = pd.factorize(days)[0]
    arrays = [np.array(idx.day_of_week, dtype=np.int64), np.array(idx.hour, dtype=np.int64),
              np.array(idx.month - 1, dtype=np.int64), np.array(day_codes, dtype=np.int64)]
    for a in arrays:
        a.flags.writeable = False
    return HourGrid(*arrays)


def base_profile(sc: Scenario, grid: HourGrid) -> np.ndarray:
    """Relative rate per hour bin (mean about 1) from the weekday, hour and month profiles."""
    a = sc.arrivals
    wd = np.asarray(a.weekday_weights) / np.mean(a.weekday_weights)
    hr = np.asarray(a.hour_weights) / np.mean(a.hour_weights)
    mo = np.asarray(a.month_weights) / np.mean(a.month_weights)
    return wd[grid.weekday] * hr[grid.hour] * mo[grid.month]


def channel_rate(sc: Scenario, channel: int, profile: np.ndarray) -> np.ndarray:
    """Expected leads per hour bin for one channel, bursts included."""
    ch = sc.channels[channel]
    rate = profile * (ch.leads_per_month / HOURS_PER_MONTH)
    for b in sc.arrivals.bursts:
        if b.channel == ch.name:
            lo = int(np.floor(b.start_day * 24))
            hi = int(np.ceil((b.start_day + b.duration_days) * 24))
            rate[lo:hi] = rate[lo:hi] * b.multiplier
    return rate


def draw_channel_arrivals(
    sc: Scenario, channel: int, profile: np.ndarray, grid: HourGrid, streams: Streams,
    end_h: float,
) -> np.ndarray:
    """Sorted arrival times (model hours) of one channel's leads over [0, end_h)."""
    rng = streams(f"arrivals:{sc.channels[channel].name}")
    rate = channel_rate(sc, channel, profile)
    cv = sc.arrivals.daily_volume_cv
    if cv > 0:
        shape = 1.0 / cv**2
        mult = rng.gamma(shape, 1.0 / shape, size=int(grid.day.max()) + 1)
        rate = rate * mult[grid.day]
    counts = rng.poisson(rate)
    if counts.dtype == np.int64 and counts.ndim == 1:  # the same times, less numpy
        from sla_sim.model.passes import hour_times  # numba: on first use

        times = hour_times(np.ascontiguousarray(counts), rng.random(int(counts.sum())))
        times.sort()
        return times[:int(np.searchsorted(times, end_h))]  # sorted: those < end_h lead
    bins = np.repeat(np.arange(len(rate), dtype=np.float64), counts)
    times = bins + rng.random(len(bins))
    times.sort()
    return times[times < end_h]
