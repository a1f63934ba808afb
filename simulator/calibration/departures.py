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
and made no call before" over s (Gauss-Legendre). All eight parameters,
the memory's half-life included, are fitted jointly by maximum likelihood
with an exact gradient (`departure_ll`), and the churn parameters' 95%
intervals are profile-likelihood intervals (`profile`): Wald intervals from
the curvature claimed four orders of magnitude for base departures sitting
on their bound. Where the memory's interval is not bounded (a log of a few
weeks, in which the push's time course trades off against its height) it
is reported as the default, the values are the best fit at that default,
and the other intervals are still taken over every memory.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from simulator.calibration.departure_ll import neg_log_likelihood, quadrature
from simulator.calibration.evidence import LogArrays
from simulator.calibration.profile import Z95, gradient_covariance, minimise, profile_interval

Floats = NDArray[np.float64]
WEEK_S = 604_800.0
NAMES = (
    "r",
    "alpha",
    "base_per_week",
    "retry",
    "first_failure",
    "rise_per_week",
    "k_prior_trips",
    "memory_weeks",
)
LOGIT = ("retry", "first_failure")
PROFILED = (2, 4, 5, 6, 7)  # the churn parameters; r, alpha and rho are near-quadratic (Wald)
MEMORY = 7
BOUNDS = [
    (-8.0, 6.0),
    (-8.0, 8.0),
    (-12.0, 2.0),
    (-10.0, 10.0),
    (-12.0, 8.0),
    (-12.0, 3.0),
    (-10.0, 6.0),
    (math.log(0.5 / 7 / math.log(2)), math.log(365 / 7 / math.log(2))),
]  # half-life 0.5..365 days


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
    cens: NDArray[np.int64]  # the censored rows, and their quadrature (`departure_ll.quadrature`)
    nodes: Floats
    log_w: Floats


@dataclass(frozen=True, slots=True)
class DepartureFit:
    theta: Floats  # log r, log alpha, log mu, logit rho, logit p_first, log rise, log k, log memory
    intervals: dict[str, tuple[float, float]]  # 95%, natural scale: profile likelihood or Wald
    memory_fitted: bool  # False: the log could not bound it, so it was held at the default
    units: int
    failures: int

    @property
    def memory_weeks(self) -> float:
        return math.exp(self.theta[7])

    def value(self, name: str) -> float:
        x = self.theta[NAMES.index(name)]
        return float(expit(x) if name in LOGIT else math.exp(x))

    def interval(self, name: str) -> tuple[float, float]:
        return self.intervals[name]


def gaps(log: LogArrays, from_s: float = 0.0) -> Gaps:
    """The likelihood's rows: gaps that start at or after `from_s`; earlier orders only
    set the state (calls, weeks, trips, failures) the later gaps start from. A gap's
    likelihood is conditioned on its start, so choosing gaps by start time is valid on
    any log; it keeps a simulated past (whose customers cannot leave) out of the fit."""
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
    unit, fail = _pairs(cust, np.flatnonzero(failed))
    rows = t >= from_s / WEEK_S
    renumber = np.cumsum(rows) - 1
    used = rows[unit]
    unit, fail = renumber[unit[used]], fail[used]
    gap = np.maximum(gap, 1e-9)[rows]
    cens = np.flatnonzero(ends[rows])
    return Gaps(
        a0[rows],
        (t - t[first_of])[rows],
        gap,
        ends[rows],
        (~ends & retry[nxt])[rows],
        failed[rows],
        (completed == 0)[rows],
        unit,
        t[rows][unit] - t[fail],
        completed[fail].astype(np.float64),
        cens,
        *quadrature(gap[cens]),
    )


def _pairs(
    cust: NDArray[np.int64], failures: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Every (order, failure) of one customer with the failure at or before the order."""
    last = np.searchsorted(cust, cust[failures], side="right")
    counts = last - failures
    fail = np.repeat(failures, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    return fail + offsets, fail


def fit_departures(log: LogArrays, default_memory_days: float, from_s: float = 0.0) -> DepartureFit:
    """The joint fit, intervals by profile likelihood with every other parameter free. The
    memory is reported when its interval is bounded inside 0.5..365 days; else the values
    are the best fit at the default memory, whose likelihood is within the others' intervals
    (they were profiled over the memory too, so they own up to not knowing it)."""
    g = gaps(log, from_s)

    def fun(theta: Floats) -> tuple[float, Floats]:
        return neg_log_likelihood(theta, g)

    default = math.log(default_memory_days / math.log(2) / 7)
    start = np.array([0.0, 0.0, math.log(0.01), 0.0, -1.0, math.log(0.05), math.log(0.1), default])
    best = minimise(fun, start, BOUNDS, {})
    cov = gradient_covariance(fun, best)
    ends = {i: profile_interval(fun, best, BOUNDS, i, cov) for i in PROFILED}
    fitted = ends[MEMORY][0] > BOUNDS[MEMORY][0] and ends[MEMORY][1] < BOUNDS[MEMORY][1]
    theta = best if fitted else minimise(fun, best, BOUNDS, {MEMORY: default})
    for i in (0, 1, 3):
        se = math.sqrt(cov[i, i]) if np.isfinite(cov[i, i]) else math.inf
        ends[i] = (best[i] - Z95 * se, best[i] + Z95 * se)
    intervals = {NAMES[i]: _natural(NAMES[i], lo, hi) for i, (lo, hi) in ends.items()}
    return DepartureFit(theta, intervals, fitted, len(g.gap), int(g.failed.sum()))


def _natural(name: str, low: float, high: float) -> tuple[float, float]:
    """An interval on theta's scale in the parameter's own; a search bound means unbounded."""
    i = NAMES.index(name)
    lo_open, hi_open = low <= BOUNDS[i][0], high >= BOUNDS[i][1]
    if name in LOGIT:
        return 0.0 if lo_open else float(expit(low)), 1.0 if hi_open else float(expit(high))
    return 0.0 if lo_open else math.exp(low), math.inf if hi_open else math.exp(min(high, 700.0))
