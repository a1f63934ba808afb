"""The churn response as a censored time-to-next-order problem, fitted directly.

Came-back labels in a fixed window ("did the customer order again within 7
days?") confuse a customer who left with one who calls rarely, and see only
the part of a failure's push that acts inside the window. So this fit
models every gap from one order of a customer to their next, up to the
log's end (a customer whose next order never comes is censored there), as
the simulator draws it (`simulator.population`):

* non-retry calls come at the customer's own rate lambda, Gamma(r, alpha)
  across customers; given the calls since their first order (n over h
  weeks) lambda is Gamma(r + n, alpha + h), so a gap has the Gamma-Poisson
  predictive law (the NBD half of BG/NBD, Fader, Hardie & Lee 2005);
* a failed order is retried (within 30 minutes) with probability rho;
* the customer leaves at a base hazard mu, plus after each failure
  `rise * f * exp(-s / memory)` with f = 1 / (1 + completed_before / halving)
  (Knox & van Oest 2014), and, a customer with no completed trip, at once
  with probability p_first on each failure (no retry, no further order).

Before each gap the customer is known to be alive (they just ordered), so
the departure hazard over the gap is the sum of the pushes of all their
failures so far, in closed form. A censored last gap integrates "left at s
and made no call before" over s (Gauss-Legendre). All seven parameters are
fitted jointly by maximum likelihood, intervals from the observed
information; the memory's half-life is held at a default (the push's time
course trades off against its height in logs of a few weeks).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit, log_expit, logsumexp

from simulator.calibration.evidence import LogArrays
from simulator.calibration.mle import central_covariance

Floats = NDArray[np.float64]
WEEK_S = 604_800.0
NAMES = ("r", "alpha", "base_per_week", "retry", "first_failure", "rise_per_week", "k_prior_trips")
NODES, WEIGHTS = np.polynomial.legendre.leggauss(12)


@dataclass(frozen=True, slots=True)
class Gaps:
    """One row per order: what came next and what the customer had been through (weeks)."""

    a0: Floats  # non-retry calls since the first one
    h: Floats  # weeks since the first call
    gap: Floats  # weeks to the next order, or to the log's end if none
    censored: NDArray[np.bool_]
    next_retry: NDArray[np.bool_]
    failed: NDArray[np.bool_]
    newcomer: NDArray[np.bool_]  # no completed trip before this order
    pair_unit: NDArray[np.int64]  # (unit, earlier-or-same failure) pairs of one customer
    pair_age: Floats  # weeks from the failure to the unit's order
    pair_completed: Floats  # trips the customer had completed at that failure


@dataclass(frozen=True, slots=True)
class DepartureFit:
    theta: Floats  # log r, log alpha, log mu, logit rho, logit p_first, log rise, log k
    cov: Floats
    memory_weeks: float
    units: int
    failures: int

    def value(self, name: str) -> float:
        i = NAMES.index(name)
        return float(expit(self.theta[i]) if name in ("retry", "first_failure") else math.exp(self.theta[i]))

    def interval(self, name: str) -> tuple[float, float]:
        i = NAMES.index(name)
        se = math.sqrt(self.cov[i, i]) if math.isfinite(self.cov[i, i]) else math.inf
        ends = (self.theta[i] - 1.96 * se, self.theta[i] + 1.96 * se)
        if name in ("retry", "first_failure"):
            return float(expit(ends[0])), float(expit(ends[1]))
        return tuple(float(math.exp(min(x, 700.0))) for x in ends)  # type: ignore[return-value]


def gaps(log: LogArrays, max_age_weeks: float) -> Gaps:
    keep = log.customer >= 0
    cust, t = log.customer[keep], log.t[keep] / WEEK_S
    failed, done, retry = log.failed[keep], log.completed[keep], log.retry[keep]
    order = np.lexsort((t, cust))
    cust, t, failed, done, retry = cust[order], t[order], failed[order], done[order], retry[order]
    starts = np.r_[True, cust[1:] != cust[:-1]]
    first_of = np.maximum.accumulate(np.where(starts, np.arange(len(t)), 0))
    calls = np.cumsum(~retry)
    a0: Floats = (calls - calls[first_of]).astype(np.float64)  # calls in (first, this]
    completed = np.cumsum(done) - done
    completed -= completed[first_of]
    ends = np.r_[starts[1:], True]
    nxt = np.minimum(np.arange(len(t)) + 1, len(t) - 1)
    gap = np.where(ends, log.span_s / WEEK_S - t, t[nxt] - t)
    unit, fail = _pairs(cust, t, np.flatnonzero(failed), max_age_weeks)
    return Gaps(a0, t - t[first_of], np.maximum(gap, 1e-9), ends, ~ends & retry[nxt], failed,
                completed == 0, unit, t[unit] - t[fail], completed[fail].astype(np.float64))


def _pairs(cust: NDArray[np.int64], t: Floats, failures: NDArray[np.int64],
           max_age: float) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Every (order, failure) of one customer with the failure at or before the order, not too old."""
    last = np.searchsorted(cust, cust[failures], side="right")
    counts = last - failures
    fail = np.repeat(failures, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    unit = fail + offsets
    young = t[unit] - t[fail] <= max_age
    return unit[young], fail[young]


def neg_log_likelihood(theta: Floats, g: Gaps, memory: float) -> float:
    r, alpha, mu = np.exp(theta[:3])
    log_rho, log_no_retry = log_expit(theta[3]), log_expit(-theta[3])
    p_first, rise, k = expit(theta[4]), math.exp(theta[5]), math.exp(theta[6])
    push = rise * memory * np.bincount(
        g.pair_unit, np.exp(-g.pair_age / memory) / (1 + k * g.pair_completed), len(g.gap)
    )  # integrated failure hazard still to come at each order
    a, b = r + g.a0, alpha + g.h
    pi = np.where(g.failed & g.newcomer, p_first, 0.0)
    stay = np.log1p(-pi)
    spent = mu * g.gap + push * -np.expm1(-g.gap / memory)
    observed = np.log(a / b) + (a + 1) * np.log(b / (b + g.gap)) - spent
    ll = np.where(g.next_retry, stay + log_rho, stay + np.where(g.failed, log_no_retry, 0.0) + observed)
    c = np.flatnonzero(g.censored)
    s = (NODES[None, :] + 1) / 2 * g.gap[c, None]
    decay = np.exp(-s / memory)
    log_hazard = np.log(mu + push[c, None] / memory * decay)
    log_alive = -mu * s - push[c, None] * (1 - decay)
    log_quiet = a[c, None] * np.log(b[c, None] / (b[c, None] + s))
    left = logsumexp(log_hazard + log_alive + log_quiet, b=WEIGHTS[None, :], axis=1) + np.log(g.gap[c] / 2)
    none = np.logaddexp(a[c] * np.log(b[c] / (b[c] + g.gap[c])) - spent[c], left)
    no_retry = np.where(g.failed[c], log_no_retry, 0.0)
    with np.errstate(divide="ignore"):
        ll[c] = np.logaddexp(np.log(pi[c]), stay[c] + no_retry + none)
    return float(-ll.sum())


def fit_departures(log: LogArrays, memory_days: float) -> DepartureFit:
    memory = memory_days / math.log(2) / 7
    g = gaps(log, 8 * memory)
    start = np.array([0.0, 0.0, math.log(0.01), 0.0, -1.0, math.log(0.05), math.log(0.1)])
    bounds = [(-8, 6), (-8, 8), (-12, 2), (-10, 10), (-12, 8), (-12, 3), (-10, 6)]
    result = minimize(neg_log_likelihood, start, args=(g, memory), method="L-BFGS-B", bounds=bounds)
    theta = np.asarray(result.x, dtype=np.float64)
    cov = central_covariance(lambda x: neg_log_likelihood(x, g, memory), theta)
    return DepartureFit(theta, cov, memory, len(g.gap), int(g.failed.sum()))
