"""Estimators for right-censored data: what a CRM snapshot needs.

A lead still open at ``exported_at`` is a censored observation: its duration is at least the
time observed so far, and its outcome is unknown. Dropping it, or counting it as a failure,
biases durations low and conversion rates low. The tools here:

- :func:`kaplan_meier` — the survival curve, via ``scipy.stats.ecdf`` on ``CensoredData``;
- :func:`aalen_johansen` — cumulative incidence of competing outcomes (won / lost / open),
  written with numpy on durations binned to a grid (exact for the binned data; ties within a
  bin are treated as simultaneous), with Poisson-bootstrap intervals computed on the binned
  counts (the sum of n Poisson(1) weights is Poisson(n), so resampling the counts of each cell
  is the Poisson bootstrap of the subjects);
- :func:`censored_fit` — maximum likelihood of a gamma or log-normal duration under right
  censoring, parametrised by (mean, cv) as scenario distributions are, with a 95% interval
  from the observed information; the point estimate agrees with
  ``scipy.stats.<dist>.fit(CensoredData)`` (tested);
- :func:`cure_fit` — a mixture cure model: a share ``pi`` of subjects ever has the event, with
  a gamma or log-normal time among them; the rest never do ("never converts").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import optimize, special, stats

__all__ = ["CIF", "DurationFit", "aalen_johansen", "censored_fit", "cure_fit", "kaplan_meier"]

Z95 = 1.959963984540054


def kaplan_meier(t: np.ndarray, observed: np.ndarray) -> stats._survival.ECDFResult:
    """Kaplan-Meier estimate (``scipy.stats.ecdf``) of durations ``t`` with events where
    ``observed`` and right-censoring elsewhere."""
    t = np.asarray(t, float)
    obs = np.asarray(observed, bool)
    data = stats.CensoredData(uncensored=t[obs], right=t[~obs])
    return stats.ecdf(data)


@dataclass
class CIF:
    """Cumulative incidence per cause on a time grid, with Poisson-bootstrap draws."""

    grid: np.ndarray  # upper edges of the bins
    cif: np.ndarray  # (causes, bins)
    boot: np.ndarray  # (draws, causes, bins)
    n: int

    def at(self, t: float) -> np.ndarray:
        """CIF of every cause at time ``t`` (the last bin edge <= t)."""
        i = int(np.searchsorted(self.grid, t, side="right")) - 1
        if i < 0:
            return np.zeros(self.cif.shape[0])
        return self.cif[:, min(i, self.cif.shape[1] - 1)]

    def boot_at(self, t: float) -> np.ndarray:
        """Bootstrap draws (draws, causes) at time ``t``."""
        i = int(np.searchsorted(self.grid, t, side="right")) - 1
        if i < 0:
            return np.zeros(self.boot.shape[:2])
        return self.boot[:, :, min(i, self.boot.shape[2] - 1)]


def _aj(counts: np.ndarray, censored: np.ndarray) -> np.ndarray:
    """Aalen-Johansen CIF from per-bin event counts (..., causes, bins) and censorings
    (..., bins); censorings in a bin are taken to happen after its events."""
    events = counts.sum(axis=-2)
    leaving = events + censored
    at_risk = np.flip(np.cumsum(np.flip(leaving, -1), -1), -1)  # n at the start of each bin
    with np.errstate(invalid="ignore", divide="ignore"):
        frac = np.where(at_risk > 0, events / np.maximum(at_risk, 1), 0.0)
        surv_after = np.cumprod(1.0 - frac, axis=-1)
        surv_before = np.concatenate([np.ones_like(surv_after[..., :1]), surv_after[..., :-1]],
                                     axis=-1)  # fmt: skip
        hazard = np.where(at_risk[..., None, :] > 0, counts / np.maximum(at_risk[..., None, :],
                                                                        1), 0.0)  # fmt: skip
    return np.cumsum(surv_before[..., None, :] * hazard, axis=-1)


def aalen_johansen(t: np.ndarray, cause: np.ndarray, n_causes: int, bin_width: float,
                   draws: int = 200, seed: int = 0) -> CIF:  # fmt: skip
    """Cumulative incidence of causes 1..n_causes (0 = censored) of durations ``t``."""
    t = np.asarray(t, float)
    cause = np.asarray(cause, np.int64)
    nb = int(np.ceil((t.max() if len(t) else 0.0) / bin_width)) + 1
    b = np.minimum((t / bin_width).astype(np.int64), nb - 1)
    counts = np.zeros((n_causes, nb))
    for k in range(1, n_causes + 1):
        counts[k - 1] = np.bincount(b[cause == k], minlength=nb)
    cens = np.bincount(b[cause == 0], minlength=nb).astype(float)
    cif = _aj(counts, cens)
    rng = np.random.default_rng(seed)
    boot = np.empty((draws, n_causes, nb))
    for d in range(draws):  # Poisson bootstrap on the cells
        boot[d] = _aj(rng.poisson(counts).astype(float), rng.poisson(cens).astype(float))
    grid = (np.arange(nb) + 1) * bin_width
    return CIF(grid, cif, boot, len(t))


@dataclass
class DurationFit:
    """A fitted (mean, cv) distribution with 95% intervals and the data behind it."""

    kind: str
    mean: float
    cv: float
    mean_ci: tuple[float, float]
    cv_ci: tuple[float, float]
    events: int
    censored: int
    pi: float = 1.0  # share that ever has the event (cure model); 1 for plain fits
    pi_ci: tuple[float, float] = (1.0, 1.0)


def _logpdf_logsf(kind: str, t: np.ndarray, mean: float, cv: float
                  ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    if kind == "gamma":
        k = 1.0 / cv**2
        theta = mean / k
        lt = np.log(t)
        logpdf = (k - 1) * lt - t / theta - special.gammaln(k) - k * math.log(theta)
        sf = special.gammaincc(k, t / theta)
        return logpdf, np.log(np.maximum(sf, 1e-300))
    if kind == "lognormal":
        s = math.sqrt(math.log1p(cv**2))
        mu = math.log(mean) - s * s / 2
        z = (np.log(t) - mu) / s
        logpdf = -np.log(t) - math.log(s) - 0.5 * math.log(2 * math.pi) - 0.5 * z * z
        return logpdf, special.log_ndtr(-z)
    if kind == "exponential":
        return -np.log(mean) - t / mean, -t / mean
    raise ValueError(f"unknown distribution {kind!r}")


def _hessian(f, x: np.ndarray, h: float = 1e-4) -> np.ndarray:  # type: ignore[no-untyped-def]
    n = len(x)
    H = np.empty((n, n))
    for i in range(n):
        for j in range(i, n):
            e_i, e_j = np.eye(n)[i] * h, np.eye(n)[j] * h
            H[i, j] = H[j, i] = (f(x + e_i + e_j) - f(x + e_i - e_j) - f(x - e_i + e_j)
                                 + f(x - e_i - e_j)) / (4 * h * h)  # fmt: skip
    return H


def _ci_log(v: float, se_log: float) -> tuple[float, float]:
    return (float(v * math.exp(-Z95 * se_log)), float(v * math.exp(Z95 * se_log)))


def censored_fit(t: np.ndarray, observed: np.ndarray, kind: str = "gamma") -> DurationFit:
    """Maximum likelihood (mean, cv) of durations ``t`` (> 0) with right-censoring where
    ``observed`` is False; intervals from the observed information on the log scale."""
    t = np.maximum(np.asarray(t, float), 1e-9)
    obs = np.asarray(observed, bool)
    if obs.sum() < 2:
        raise ValueError("fewer than 2 observed durations")
    tu, tc = t[obs], t[~obs]
    m0 = float(np.mean(tu))
    c0 = float(np.std(tu) / m0) if np.std(tu) > 0 else 1.0

    def nll(x: np.ndarray) -> float:
        mean, cv = math.exp(x[0]), math.exp(x[1])
        if kind == "exponential":
            cv = 1.0
        lp, _ = _logpdf_logsf(kind, tu, mean, cv)
        _, ls = _logpdf_logsf(kind, tc, mean, cv)
        v = -(lp.sum() + ls.sum())
        return float(v) if np.isfinite(v) else 1e300

    if kind == "exponential":
        mean = float(t.sum() / obs.sum())
        se = 1.0 / math.sqrt(obs.sum())
        return DurationFit(kind, mean, 1.0, _ci_log(mean, se), (1.0, 1.0), int(obs.sum()),
                           int((~obs).sum()))  # fmt: skip
    x0 = np.log([m0, max(min(c0, 5.0), 0.05)])
    res = optimize.minimize(nll, x0, method="Nelder-Mead",
                            options={"xatol": 1e-7, "fatol": 1e-7, "maxiter": 4000})
    res = optimize.minimize(nll, res.x, method="BFGS")
    cov = _safe_inv(_hessian(nll, res.x))
    mean, cv = float(math.exp(res.x[0])), float(math.exp(res.x[1]))
    return DurationFit(kind, mean, cv, _ci_log(mean, math.sqrt(cov[0, 0])),
                       _ci_log(cv, math.sqrt(cov[1, 1])), int(obs.sum()),
                       int((~obs).sum()))  # fmt: skip


def _safe_inv(H: np.ndarray) -> np.ndarray:
    try:
        cov = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        return np.full(H.shape, np.inf)
    d = np.diag(cov)
    if np.any(~np.isfinite(d)) or np.any(d < 0):
        return np.full(H.shape, np.inf)
    return cov


def cure_fit(t: np.ndarray, observed: np.ndarray, kind: str = "gamma") -> DurationFit:
    """Mixture cure model: P(event ever) = pi, time among those ~ ``kind``(mean, cv).

    Likelihood: an event at t contributes ``pi f(t)``, a subject censored at t contributes
    ``1 - pi + pi S(t)``. ``pi`` is identified when follow-up is long against the times.
    """
    t = np.maximum(np.asarray(t, float), 1e-9)
    obs = np.asarray(observed, bool)
    if obs.sum() < 5:
        raise ValueError("fewer than 5 events")
    tu, tc = t[obs], t[~obs]

    def nll(x: np.ndarray) -> float:
        pi = special.expit(x[0])
        mean, cv = math.exp(x[1]), math.exp(x[2])
        lp, _ = _logpdf_logsf(kind, tu, mean, cv)
        _, ls = _logpdf_logsf(kind, tc, mean, cv)
        v = -(len(tu) * math.log(pi) + lp.sum()
              + np.log1p(-pi + pi * np.exp(ls)).sum())  # fmt: skip
        return float(v) if np.isfinite(v) else 1e300

    pi0 = min(max(obs.mean() * 1.2, 0.01), 0.99)
    m0 = float(np.mean(tu))
    c0 = max(min(float(np.std(tu) / m0), 5.0), 0.1)
    x0 = np.array([special.logit(pi0), math.log(m0), math.log(c0)])
    res = optimize.minimize(nll, x0, method="Nelder-Mead",
                            options={"xatol": 1e-7, "fatol": 1e-7, "maxiter": 6000})
    res = optimize.minimize(nll, res.x, method="BFGS")
    cov = _safe_inv(_hessian(nll, res.x))
    pi = float(special.expit(res.x[0]))
    se_l = math.sqrt(cov[0, 0])
    pi_ci = (float(special.expit(res.x[0] - Z95 * se_l)),
             float(special.expit(res.x[0] + Z95 * se_l)))  # fmt: skip
    mean, cv = float(math.exp(res.x[1])), float(math.exp(res.x[2]))
    return DurationFit(kind, mean, cv, _ci_log(mean, math.sqrt(cov[1, 1])),
                       _ci_log(cv, math.sqrt(cov[2, 2])), int(obs.sum()), int((~obs).sum()),
                       pi, pi_ci)  # fmt: skip


def censored_loglik(fit: DurationFit, t: np.ndarray, observed: np.ndarray) -> float:
    """Log-likelihood of right-censored durations under a plain (non-cure) fit."""
    t = np.maximum(np.asarray(t, float), 1e-9)
    obs = np.asarray(observed, bool)
    lp, _ = _logpdf_logsf(fit.kind, t[obs], fit.mean, fit.cv)
    _, ls = _logpdf_logsf(fit.kind, t[~obs], fit.mean, fit.cv)
    return float(lp.sum() + ls.sum())


def best_censored_fit(t: np.ndarray, observed: np.ndarray,
                      kinds: tuple[str, ...] = ("gamma", "lognormal")) -> DurationFit:  # fmt: skip
    """The censored fit of the family (same number of parameters) with the highest
    likelihood: the data, not a base scenario, chooses the shape."""
    fits = [censored_fit(t, observed, k) for k in kinds]
    return max(fits, key=lambda f: censored_loglik(f, t, observed))


def ks_distance(fit: DurationFit, t: np.ndarray, observed: np.ndarray) -> tuple[float, float]:
    """(largest distance between the Kaplan-Meier distribution of ``t`` and ``fit``'s, its 5%
    critical value ``1.36 / sqrt(events)``): a parametric shape farther than that from the
    data's own curve is rejected (Kolmogorov-Smirnov; censoring makes the test approximate)."""
    t = np.maximum(np.asarray(t, float), 1e-9)
    obs = np.asarray(observed, bool)
    km = kaplan_meier(t, obs).cdf
    x = np.unique(t[obs])
    _, ls = _logpdf_logsf(fit.kind, x, fit.mean, fit.cv)
    d = float(np.abs(km.evaluate(x) - (-np.expm1(ls))).max())
    return d, 1.36 / math.sqrt(max(int(obs.sum()), 1))


def km_quantiles(t: np.ndarray, observed: np.ndarray, n: int = 200) -> list[float]:
    """``n`` values (the mid-quantiles ``(i + 0.5) / n``) of the Kaplan-Meier distribution of
    durations ``t`` censored where not ``observed``, for resampling; quantiles beyond the
    curve's last event (mass the follow-up did not reach) are the longest follow-up, a lower
    bound."""
    t = np.maximum(np.asarray(t, float), 1e-9)
    obs = np.asarray(observed, bool)
    cdf = kaplan_meier(t, obs).cdf
    x = np.unique(t[obs])
    F = cdf.evaluate(x)
    p = (np.arange(n) + 0.5) / n
    i = np.searchsorted(F, p, side="left")
    out = np.where(i < len(x), x[np.minimum(i, len(x) - 1)], float(t.max()))
    return [float(v) for v in out]


def cohort_spread(t: np.ndarray, observed: np.ndarray, cohort: np.ndarray, fit: DurationFit,
                  min_size: int = 30, min_events_speed: int = 5) -> dict[str, Any]:  # fmt: skip
    """How much P(ever has the event) and the time to it vary between cohorts beyond sampling
    error.

    Per cohort (``cohort`` labels, at least ``min_size`` subjects) the cure fraction is
    fitted with the time distribution of ``fit`` held fixed (censored subjects contribute
    ``1 - pi F(t)``), with its standard error on the logit scale; the between-cohort variance
    ``tau2`` of the logits is the DerSimonian-Laird estimate. A forecast of a new cohort draws
    its logit with variance ``se^2 + tau2``, not ``se^2`` alone.

    The speed: per cohort with at least ``min_events_speed`` events, the log of the mean time
    is fitted jointly with the cure fraction (the shape ``fit.cv`` held; the cure fraction a
    nuisance, so the standard error of the log mean carries their confounding in a censored
    cohort), and ``tau2_log_mean`` is the DerSimonian-Laird between-cohort variance of the log
    means: a new cohort's time to the event is ``fit``'s scaled by ``exp(N(0, tau2))``."""
    t = np.maximum(np.asarray(t, float), 1e-9)
    obs = np.asarray(observed, bool)
    out: dict[str, Any] = {}
    speed: dict[str, Any] = {}
    for c in np.unique(cohort):
        m = cohort == c
        if m.sum() < min_size or obs[m].sum() < 1:
            continue
        _, ls = _logpdf_logsf(fit.kind, t[m & ~obs], fit.mean, fit.cv)
        F = -np.expm1(ls)
        k = int(obs[m].sum())

        def nll(x: float, F: np.ndarray = F, k: int = k) -> float:
            pi = float(special.expit(x))
            return -(k * math.log(pi) + float(np.log1p(-pi * F).sum()))

        x = float(optimize.minimize_scalar(nll, bounds=(-12, 6), method="bounded").x)
        h = 1e-3
        info = (nll(x + h) - 2 * nll(x) + nll(x - h)) / h**2
        if info > 0:
            out[str(c)] = {"p": float(special.expit(x)), "logit": x,
                           "se_logit": 1 / math.sqrt(info), "n": int(m.sum()), "events": k}
        if k >= min_events_speed:
            s = _cohort_speed(t[m], obs[m], fit, x)
            if s is not None:
                speed[str(c)] = s
    return {"cohorts": out, "tau2_logit": _dersimonian_laird(
                [v["logit"] for v in out.values()], [v["se_logit"] for v in out.values()]),
            "speed": speed, "tau2_log_mean": _dersimonian_laird(
                [v["log_mean"] for v in speed.values()],
                [v["se_log_mean"] for v in speed.values()])}  # fmt: skip


def _cohort_speed(t: np.ndarray, obs: np.ndarray, fit: DurationFit, logit0: float
                  ) -> dict[str, float] | None:  # fmt: skip
    """One cohort's log mean time to the event, fitted jointly with its cure fraction (shape
    held at ``fit``'s), and its standard error; None when not identified."""
    tu, tc = t[obs], t[~obs]

    def nll(x: np.ndarray) -> float:
        pi, mean = special.expit(x[0]), math.exp(x[1])
        lp, _ = _logpdf_logsf(fit.kind, tu, mean, fit.cv)
        _, ls = _logpdf_logsf(fit.kind, tc, mean, fit.cv)
        v = -(len(tu) * math.log(pi) + lp.sum() + np.log1p(-pi + pi * np.exp(ls)).sum())
        return float(v) if np.isfinite(v) else 1e300

    res = optimize.minimize(nll, np.array([logit0, math.log(fit.mean)]), method="Nelder-Mead",
                            options={"xatol": 1e-6, "fatol": 1e-8, "maxiter": 2000})
    cov = _safe_inv(_hessian(nll, res.x))
    var = float(cov[1, 1])
    if not (np.isfinite(var) and var > 0):
        return None
    return {"mean": float(math.exp(res.x[1])), "log_mean": float(res.x[1]),
            "se_log_mean": math.sqrt(var), "events": int(obs.sum())}


def close_spread(t: np.ndarray, closed: np.ndarray, won: np.ndarray, cohort: np.ndarray,
                 fit: DurationFit, min_size: int = 30, min_events: int = 5
                 ) -> dict[str, Any]:  # fmt: skip
    """How much the won share of closed deals and the time to close vary between cohorts of
    opportunities beyond sampling error (every deal closes in time: no cure fraction).

    Per cohort (``cohort`` labels, at least ``min_size`` deals and ``min_events`` closed):
    the logit of won / closed with its binomial standard error, and the log mean time to
    close fitted with ``fit``'s shape held, deals still open censored; ``tau2_logit`` and
    ``tau2_log_mean`` are the DerSimonian-Laird between-cohort variances."""
    t = np.maximum(np.asarray(t, float), 1e-9)
    closed, won = np.asarray(closed, bool), np.asarray(won, bool)
    conv: dict[str, Any] = {}
    speed: dict[str, Any] = {}
    for c in np.unique(cohort):
        m = cohort == c
        k, w = int(closed[m].sum()), int((won & m).sum())
        if m.sum() < min_size or k < min_events:
            continue
        if 0 < w < k:
            p = w / k
            conv[str(c)] = {"p": p, "logit": float(special.logit(p)),
                            "se_logit": 1 / math.sqrt(k * p * (1 - p)), "n": int(m.sum())}
        tu, tc = t[m & closed], t[m & ~closed]

        def nll(x: float, tu: np.ndarray = tu, tc: np.ndarray = tc) -> float:
            lp, _ = _logpdf_logsf(fit.kind, tu, math.exp(x), fit.cv)
            _, ls = _logpdf_logsf(fit.kind, tc, math.exp(x), fit.cv)
            v = -(lp.sum() + ls.sum())
            return float(v) if np.isfinite(v) else 1e300

        x0 = math.log(fit.mean)
        x = float(optimize.minimize_scalar(nll, bounds=(x0 - 5, x0 + 5), method="bounded").x)
        h = 1e-3
        info = (nll(x + h) - 2 * nll(x) + nll(x - h)) / h**2
        if info > 0:
            speed[str(c)] = {"mean": math.exp(x), "log_mean": x,
                             "se_log_mean": 1 / math.sqrt(info), "events": k}
    return {"cohorts": conv, "tau2_logit": _dersimonian_laird(
                [v["logit"] for v in conv.values()], [v["se_logit"] for v in conv.values()]),
            "speed": speed, "tau2_log_mean": _dersimonian_laird(
                [v["log_mean"] for v in speed.values()],
                [v["se_log_mean"] for v in speed.values()])}  # fmt: skip


def _dersimonian_laird(y: list[float], se: list[float]) -> float:
    """DerSimonian-Laird between-group variance of estimates ``y`` with standard errors
    ``se`` (0 with fewer than two)."""
    if len(y) < 2:
        return 0.0
    ya, w = np.asarray(y, float), 1 / np.asarray(se, float) ** 2
    ybar = float((w * ya).sum() / w.sum())
    q = float((w * (ya - ybar) ** 2).sum())
    return max(0.0, (q - (len(ya) - 1)) / (w.sum() - (w**2).sum() / w.sum()))
