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
from scipy.special import gammaln

from simulator.calibration.evidence import Estimate, Floats, LogArrays, wald_interval
from simulator.calibration.mle import covariance, fit_mle

DAY_S, WEEK_S = 86_400.0, 7 * 86_400.0


@dataclass(frozen=True, slots=True)
class Profile:
    weekday: Floats  # mean calls per hour of a weekday
    weekend: Floats
    overall: Floats  # normalised to mean 1: the scenario's hourly_profile
    rows: int


def daily_profile(log: LogArrays) -> Profile:
    """Calls by local hour (retries excluded: they follow failures, not the clock)."""
    first = log.retry == False  # noqa: E712 (numpy mask)
    days = max(log.span_s / DAY_S, 1.0)
    day_index = np.floor(np.arange(round(days)) + log.start_at / DAY_S)
    weekend_days = max(int(np.sum((day_index + 3) % 7 >= 5)), 0)
    weekday_days = max(round(days) - weekend_days, 0)

    def per_hour(mask: np.ndarray, count_days: int) -> Floats:
        counts = np.bincount(log.local_hour[mask], minlength=24).astype(np.float64)
        return counts / count_days if count_days else np.full(24, np.nan)

    overall = np.bincount(log.local_hour[first], minlength=24).astype(np.float64)
    if overall.sum() == 0:
        overall = np.ones(24)
    return Profile(
        per_hour(first & ~log.weekend, weekday_days),
        per_hour(first & log.weekend, weekend_days),
        overall / overall.mean(),
        int(first.sum()),
    )


def operational_weeks(log: LogArrays, profile: Floats) -> Floats:
    """Each order's time with the profile integrated, so a Poisson rate becomes constant."""
    cumulative = np.concatenate([[0.0], np.cumsum(profile)]) * 3600.0
    day, offset = np.divmod(log.t, DAY_S)
    hour = np.minimum((offset // 3600).astype(np.int64), 23)
    op = day * DAY_S + cumulative[hour] + profile[hour] * (offset - hour * 3600.0)
    result: Floats = op / WEEK_S
    return result


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
    log r, log alpha, logit p) for customers first seen at u, last seen at `last`, n calls."""

    def neg_ll(theta: Floats) -> float:
        log_n, log_nu, log_r, log_alpha, logit_p = theta
        r, alpha = math.exp(log_r), math.exp(log_alpha)
        log_p, log_q = -np.logaddexp(0.0, -logit_p), -np.logaddexp(0.0, logit_p)
        expected = math.exp(log_n) * -math.expm1(r * (log_alpha - math.log(alpha + span_w)))
        expected += math.exp(log_nu) * span_w
        base = r * log_alpha - gammaln(r) + (n - 1) * log_q
        # after the last call: gone (p) at once, or still there (1 - p) and silent until the end
        tail = np.logaddexp(log_p - (r + n) * np.log(alpha + last), log_q - (r + n) * np.log(alpha + span_w))
        tail_new = np.logaddexp(
            log_p - (r + n - 1) * np.log(alpha + last - u), log_q - (r + n - 1) * np.log(alpha + span_w - u)
        )
        log_a = base + gammaln(r + n) + tail
        log_b = base + gammaln(r + n - 1) + tail_new
        return expected - float(np.sum(np.logaddexp(log_n + log_a, log_nu + log_b)))

    return neg_ll


def fit_population(log: LogArrays, profile: Floats) -> Population:
    """N, newcomers per day, the Gamma of call rates and a per-call dropout p (a nuisance
    that absorbs customers leaving, whatever made them leave), with Wald intervals."""
    u, last, n = _first_last_counts(log, operational_weeks(log, profile))
    span_w = log.span_s / WEEK_S
    if len(n) < 30 or span_w < 1.0:
        raise ValueError("fewer than 30 identified customers or less than a week of log")
    neg_ll = population_neg_ll(u, last, n, span_w)
    start = np.array(
        [math.log(len(n) * 1.5), math.log(max(len(n) * 0.01 / span_w, 0.1)), 0.0, math.log(2.0), -3.0]
    )
    theta, cov = fit_mle(neg_ll, start)
    if not np.all(np.isfinite(np.diag(cov))):  # dropout at its bound (p -> 0): hold it fixed there
        cov = covariance(lambda four: neg_ll(np.append(four, theta[4])), theta[:4])
    se = np.sqrt(np.maximum(np.diag(cov), 0.0))
    values = np.exp(theta)
    source = log.source(int(n.sum()), f"calls of {len(n):,} customers")

    def est(value: float, se_log: float, scale: float = 1.0) -> Estimate:
        low, high = wald_interval(value * scale, se_log, log_scale=True)
        return Estimate(value * scale, source, low, high)

    with np.errstate(invalid="ignore"):
        var_mean = cov[2, 2] + cov[3, 3] - 2 * cov[2, 3]
    se_mean = math.sqrt(var_mean) if np.isfinite(var_mean) and var_mean > 0 else math.inf
    return Population(
        customers=est(values[0], se[0]),
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
    mean gap (exponential: the mean is the MLE, its interval from the Gamma of a sum)."""
    from scipy.stats import binomtest, chi2

    failed = log.failed & (log.customer >= 0)
    n_failed, n_retry = int(failed.sum()), int(log.retry.sum())
    if n_failed == 0:
        return Retries(Estimate.fallback(0.0, "no failed orders"), Estimate.fallback(5.0))
    ci = binomtest(min(n_retry, n_failed), n_failed).proportion_ci()
    probability = Estimate(n_retry / n_failed, log.source(n_failed, "failed orders"), ci.low, ci.high)
    if n_retry < 5:
        return Retries(probability, Estimate.fallback(5.0, "fewer than 5 retries"))
    gaps = _retry_gaps_min(log)
    mean = float(np.mean(gaps))
    k = len(gaps)
    low, high = 2 * k * mean / chi2.ppf(0.975, 2 * k), 2 * k * mean / chi2.ppf(0.025, 2 * k)
    return Retries(probability, Estimate(mean, log.source(k, "retries"), low, high))


def _retry_gaps_min(log: LogArrays) -> Floats:
    order = np.lexsort((log.t, log.customer))
    t, retry = log.t[order], log.retry[order]
    previous = np.concatenate([[np.nan], t[:-1]])
    previous_end = previous + np.concatenate([[np.nan], log.ended[order][:-1]])
    gap_from = np.where(np.isfinite(previous_end), previous_end, previous)
    gaps: Floats = np.maximum((t - gap_from)[retry], 0.0) / 60.0
    return gaps
