"""Demand: the daily profile, who calls how often, newcomers and retries.

The simulator's demand is a Poisson process per customer at a Gamma(r,
alpha) distributed rate (the NBD half of BG/NBD), a Poisson stream of
newcomers whose first call is their arrival, and retries after failures.
In a log starting at time 0 a customer first seen at u with n calls is
either one of the N customers active at the start (they could have been
seen from 0 on) or a newcomer who arrived at u. That is a marked Poisson
process whose likelihood has closed forms (Gamma integrals), so N, the
newcomer rate and (r, alpha) are fitted jointly, customers never seen
included through the zero term. Time runs in "operational time" (the daily
profile integrated), as the simulator draws calls.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln

from simulator.calibration.evidence import Estimate, Floats, LogArrays, wald_interval
from simulator.calibration.mle import covariance, fit_mle
from simulator.scenario import weekly_profile

DAY_S, WEEK_S = 86_400.0, 7 * 86_400.0


@dataclass(frozen=True, slots=True)
class Profile:
    weekday: Floats  # mean calls per hour of a weekday
    weekend: Floats
    overall: Floats  # every day alike, normalised to mean 1
    rows: int
    # the scenario's keys: weekday and weekend on one scale (mean 1 over a week); no weekend
    # when the window lacks weekdays or weekend days (then hourly_profile is `overall`)
    hourly: Floats
    weekend_hourly: Floats | None

    def week(self) -> list[float]:
        """The weights the simulator runs (`simulator.scenario.weekly_profile`)."""
        weekend = None if self.weekend_hourly is None else [float(v) for v in self.weekend_hourly]
        return weekly_profile([float(v) for v in self.hourly], weekend)


def daily_profile(log: LogArrays) -> Profile:
    """Calls by local hour (retries excluded: they follow failures, not the clock), on
    weekdays and weekend days apart, each divided by how many such days the window has."""
    first = log.retry == False  # noqa: E712 (numpy mask)
    days = max(round(log.span_s / DAY_S), 1)
    weekday_of = (np.floor(_local_start(log) / DAY_S) + np.arange(days) + 3) % 7  # 1970-01-01: a Thursday
    weekend_days = int(np.sum(weekday_of >= 5))
    weekday_days = days - weekend_days

    def per_hour(mask: np.ndarray, count_days: int) -> Floats:
        counts = np.bincount(log.local_hour[mask], minlength=24).astype(np.float64)
        return counts / count_days if count_days else np.full(24, np.nan)

    overall = np.bincount(log.local_hour[first], minlength=24).astype(np.float64)
    overall = overall / overall.mean() if overall.sum() > 0 else np.ones(24)
    weekday, weekend = (
        per_hour(first & ~log.weekend, weekday_days),
        per_hour(first & log.weekend, weekend_days),
    )
    hourly, weekend_hourly = overall, None
    if weekday_days and weekend_days and weekday.sum() > 0 and weekend.sum() > 0:
        scale = (5 * weekday.sum() + 2 * weekend.sum()) / 168
        hourly, weekend_hourly = weekday / scale, weekend / scale
    return Profile(weekday, weekend, overall, int(first.sum()), hourly, weekend_hourly)


def _local_start(log: LogArrays) -> float:
    """The window's start in local wall-clock time (the first order's offset)."""
    return float(log.local_s[0] - log.t[0]) if log.n else log.start_at


def _week_integral(local_s: Floats, week: list[float]) -> Floats:
    """Seconds of operational time from a Monday 00:00 (1970-01-05) to each local time."""
    weights = np.asarray(week, dtype=np.float64)
    weights = weights / weights.mean()
    period = len(weights) * 3600.0
    cumulative = np.concatenate([[0.0], np.cumsum(weights)]) * 3600.0
    cycles, offset = np.divmod(np.asarray(local_s, dtype=np.float64) - 4 * DAY_S, period)
    hour = np.minimum((offset // 3600).astype(np.int64), len(weights) - 1)
    result: Floats = cycles * period + cumulative[hour] + weights[hour] * (offset - hour * 3600.0)
    return result


def operational_weeks(log: LogArrays, week: list[float]) -> tuple[Floats, float]:
    """Each order's time, and the window's span, with the profile integrated from the
    window's start, so that a Poisson rate becomes constant (weeks)."""
    start = _local_start(log)
    origin = _week_integral(np.array([start]), week)[0]
    op: Floats = (_week_integral(log.local_s, week) - origin) / WEEK_S
    span = (_week_integral(np.array([start + log.span_s]), week)[0] - origin) / WEEK_S
    return op, float(span)


@dataclass(frozen=True, slots=True)
class Population:
    customers: Estimate
    trips_per_week_mean: Estimate
    trips_per_week_shape: Estimate
    new_customers_per_day: Estimate
    seen: int


def _first_last_counts(log: LogArrays, op_weeks: Floats) -> tuple[Floats, Floats, Floats]:
    keep = (log.customer >= 0) & ~log.retry
    cust, at = log.customer[keep], op_weeks[keep]
    n_ids = int(cust.max()) + 1 if len(cust) else 0
    counts = np.bincount(cust, minlength=n_ids).astype(np.float64)
    first, last = np.full(n_ids, np.inf), np.full(n_ids, -np.inf)
    np.minimum.at(first, cust, at)
    np.maximum.at(last, cust, at)
    seen = counts > 0
    return first[seen], last[seen], counts[seen]


def population_neg_ll(u: Floats, last: Floats, n: Floats, span_w: float) -> Callable[[Floats], float]:
    """The marked-process negative log-likelihood of theta = (log N, log newcomers/week,
    log r, log alpha, logit p, logit p1) for customers first seen at u, last seen at `last`,
    n calls. A newcomer leaves after their first call with p1, after later calls (and every
    customer active at the start after each call) with p: newcomers whose first order fails
    leave far more often (first_failure_leave_probability), and a single p read those
    one-call newcomers as rare callers, which biased the rate shape low."""
    one = n == 1

    def neg_ll(theta: Floats) -> float:
        log_n, log_nu, log_r, log_alpha, logit_p, logit_p1 = theta
        r, alpha = math.exp(log_r), math.exp(log_alpha)
        log_p, log_q = -np.logaddexp(0.0, -logit_p), -np.logaddexp(0.0, logit_p)
        log_p1, log_q1 = -np.logaddexp(0.0, -logit_p1), -np.logaddexp(0.0, logit_p1)
        expected = math.exp(log_n) * -math.expm1(r * (log_alpha - math.log(alpha + span_w)))
        expected += math.exp(log_nu) * span_w
        prior = r * log_alpha - gammaln(r)
        # after the last call: gone (p) at once, or still there (1 - p) and silent until the end
        tail = np.logaddexp(log_p - (r + n) * np.log(alpha + last), log_q - (r + n) * np.log(alpha + span_w))
        gone, stays = np.where(one, log_p1, log_p), np.where(one, log_q1, log_q)
        tail_new = np.logaddexp(
            gone - (r + n - 1) * np.log(alpha + last - u), stays - (r + n - 1) * np.log(alpha + span_w - u)
        )
        log_a = prior + (n - 1) * log_q + gammaln(r + n) + tail
        log_b = prior + np.where(one, 0.0, log_q1 + (n - 2) * log_q) + gammaln(r + n - 1) + tail_new
        return expected - float(np.sum(np.logaddexp(log_n + log_a, log_nu + log_b)))

    return neg_ll


def fit_population(log: LogArrays, week: list[float]) -> Population:
    """N, newcomers per day, the Gamma of call rates and a per-call dropout p (a nuisance
    that absorbs customers leaving, whatever made them leave), with Wald intervals."""
    op, span_w = operational_weeks(log, week)
    u, last, n = _first_last_counts(log, op)
    if len(n) < 30 or log.span_s < WEEK_S:
        raise ValueError("fewer than 30 identified customers or less than a week of log")
    neg_ll = population_neg_ll(u, last, n, span_w)
    start = np.array(
        [math.log(len(n) * 1.5), math.log(max(len(n) * 0.01 / span_w, 0.1)), 0.0, math.log(2.0), -3.0, -2.0]
    )
    theta, cov = fit_mle(neg_ll, start)
    if not np.all(np.isfinite(np.diag(cov))):  # a dropout at its bound (p -> 0): hold both there
        cov = covariance(lambda four: neg_ll(np.append(four, theta[4:])), theta[:4])
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    values = np.exp(theta)
    source = log.source(int(n.sum()), f"calls of {len(n):,} customers")

    def est(value: float, se_log: float, scale: float = 1.0) -> Estimate:
        low, high = wald_interval(value * scale, se_log, log_scale=True)
        return Estimate(value * scale, source, low, high)

    with np.errstate(invalid="ignore"):
        var_mean = cov[2, 2] + cov[3, 3] - 2 * cov[2, 3]
    se_mean = math.sqrt(var_mean) if np.isfinite(var_mean) and var_mean > 0 else math.inf
    low, high = wald_interval(values[0], se[0], log_scale=True)
    if values[0] < 1 or not high < 100 * low:  # a log whose start is no steady state (seeded past)
        raise ValueError(
            f"the window's first four weeks cannot tell the customers active at its start from "
            f"newcomers ({values[0]:.3g} active, 95% {low:.3g}..{high:.3g}); "
            "start the window (--since) where the log is in a steady state"
        )
    return Population(
        customers=Estimate(values[0], source, low, high),
        trips_per_week_mean=est(values[2] / values[3], se_mean),
        trips_per_week_shape=est(values[2], se[2]),
        new_customers_per_day=est(values[1], se[1], 1.0 / 7.0),
        seen=len(n),
    )


@dataclass(frozen=True, slots=True)
class Retries:
    probability: Estimate
    mean_delay_min: Estimate


def fit_retries(log: LogArrays) -> Retries:
    """Share of failed orders followed by the same customer within the retry window, and the
    mean gap (exponential: the mean is the MLE, its interval from the Gamma of a sum).

    Only failures of customers with a completed order earlier in the log count: a newcomer
    whose first order fails may leave at once (the first-failure exit), and one who left
    cannot retry, so counting their failures read the retry share low (0.28 for a true
    0.3 in the river-town round trip, the interval missing it)."""
    from scipy.stats import binomtest, chi2

    order = np.lexsort((log.t, log.customer))  # each customer's orders together, in time
    eligible, followed = _failures_of_returning_customers(log, order)
    n_failed, n_retry = int(eligible.sum()), int((eligible & followed).sum())
    if n_failed == 0:
        return Retries(Estimate.fallback(0.0, "no failed orders"), Estimate.fallback(5.0))
    ci = binomtest(n_retry, n_failed).proportion_ci()
    source = log.source(n_failed, "failed orders of customers with a completed order before")
    probability = Estimate(n_retry / n_failed, source, ci.low, ci.high)
    if int(log.retry.sum()) < 5:
        return Retries(probability, Estimate.fallback(5.0, "fewer than 5 retries"))
    gaps = _retry_gaps_min(log, order)
    mean = float(np.mean(gaps))
    k = len(gaps)
    low, high = 2 * k * mean / chi2.ppf(0.975, 2 * k), 2 * k * mean / chi2.ppf(0.025, 2 * k)
    return Retries(probability, Estimate(mean, log.source(k, "retries"), low, high))


def _failures_of_returning_customers(
    log: LogArrays, order: NDArray[np.intp]
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Per order: a failure of a known customer who had completed an order before it, and
    whether the customer's next order is a retry of it."""
    customer, completed = log.customer[order], log.completed[order]
    starts = np.ones(log.n, dtype=bool)
    starts[1:] = customer[1:] != customer[:-1]
    done = np.cumsum(completed)
    done_before = done - completed - np.maximum.accumulate(np.where(starts, done - completed, 0))
    eligible_sorted = log.failed[order] & (customer >= 0) & (done_before > 0)
    followed_sorted = np.zeros(log.n, dtype=bool)
    followed_sorted[:-1] = log.retry[order][1:] & ~starts[1:]
    eligible, followed = np.empty(log.n, dtype=bool), np.empty(log.n, dtype=bool)
    eligible[order], followed[order] = eligible_sorted, followed_sorted
    return eligible, followed


def _retry_gaps_min(log: LogArrays, order: NDArray[np.intp]) -> Floats:
    t, retry = log.t[order], log.retry[order]
    previous = np.concatenate([[np.nan], t[:-1]])
    previous_end = previous + np.concatenate([[np.nan], log.ended[order][:-1]])
    gap_from = np.where(np.isfinite(previous_end), previous_end, previous)
    gaps: Floats = np.maximum((t - gap_from)[retry], 0.0) / 60.0
    return gaps
