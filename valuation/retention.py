"""The failure hazard k0, k1, k_new, k_prior_trips: fitted, and checked on held-out orders.

No published figure gives the chance that one "no car" makes a customer leave
(DOMAIN.md), so these four numbers must come from the firm's own log: one row
per order outcome, labelled by whether the customer ordered again within a
window W, with the state the live scorer saw at that moment (`valuation.replay`).

    P(no order within W) = 1 - (1 - pi) (1 - q)
    pi = 1 - (1 - p_now) exp(-w * (k0 (1 + k1 phi) / (1 + k_prior_trips n) + k_new [n = 0]))
    q  = ((alpha + age) / (alpha + age + W))^(r + x)

with n the trips completed before this order (Knox & van Oest 2014: prior
purchases soften a failure durably).

pi is the chance of leaving after this order (w its severity, 0 when served on
time); q the chance that a customer who stays is silent anyway (the Gamma
posterior's Laplace transform), so slow callers are not mistaken for lost ones.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from valuation.orderlog import OrderLog
from valuation.params import WEEK_S, ValuationParams, failure_hazard
from valuation.replay import replay

Floats = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RetentionRows:
    """Order outcomes whose whole window lies inside the log, with what the scorer knew."""

    at_s: Floats
    severity: Floats
    left: NDArray[np.bool_]  # no further order within the window
    phi: Floats
    newcomer: Floats  # 1.0 if no completed trip before this order
    completed: Floats  # completed trips before this order
    log_stay_base: Floats  # log((1 - p_now)(1 - q)): staying and ordering, before failures

    def p_left(self, k0: float, k1: float, k_new: float, k_prior_trips: float = 0.0) -> Floats:
        hazard = failure_hazard(self.phi, self.completed, k0, k1, k_new, k_prior_trips)
        result: Floats = -np.expm1(self.log_stay_base - self.severity * hazard)
        return result


def retention_rows(
    log: OrderLog, params: ValuationParams, end_at: float, window_weeks: float
) -> RetentionRows:
    """Only rows whose window ends by `end_at`: keeping early returns near the end while
    dropping the silences there would bias the labels toward "stayed"."""
    log = log.until(end_at)
    states, _ = replay(log, params)
    window_s = window_weeks * WEEK_S
    next_gap = np.full(len(log.at_s), np.inf)
    same_next = log.customer[1:] == log.customer[:-1]
    next_gap[:-1] = np.where(same_next, log.at_s[1:] - log.at_s[:-1], np.inf)
    use = log.at_s + window_s <= end_at
    x_before = states.repeat_orders[use]
    is_repeat = states.is_repeat[use]
    age = states.tenure_weeks[use]
    p_now = np.where(is_repeat, params.a / (params.a + params.b + x_before), 0.0)
    silent = ((params.alpha + age) / (params.alpha + age + window_weeks)) ** (
        params.r + x_before + is_repeat)
    return RetentionRows(
        at_s=log.at_s[use],
        severity=log.severity[use],
        left=next_gap[use] > window_s,
        phi=states.phi[use],
        newcomer=states.newcomer[use].astype(np.float64),
        completed=states.completed[use].astype(np.float64),
        log_stay_base=np.log1p(-p_now) + np.log1p(-silent),
    )


def fit_retention(
    log: OrderLog, params: ValuationParams, end_at: float, window_weeks: float = 8.0
) -> ValuationParams:
    """k0, k1, k_new, k_prior_trips jointly by maximum likelihood (analytic gradient),
    starting from `params`; the rest of `params` is kept."""
    rows = retention_rows(log, params, end_at, window_weeks)
    if len(rows.left) == 0:
        raise ValueError("no order outcome has an observed window; extend the log")
    result = minimize(neg_log_likelihood, np.array(params.hazard_ks), args=(rows,), jac=True,
                      method="L-BFGS-B", bounds=[(0.0, 50.0)] * 4)
    k0, k1, k_new, k_prior_trips = (float(v) for v in result.x)
    return replace(params, k0=k0, k1=k1, k_new=k_new, k_prior_trips=k_prior_trips)


def neg_log_likelihood(theta: Floats, rows: RetentionRows) -> tuple[float, Floats]:
    """Mean negative log-likelihood of theta = (k0, k1, k_new, k_prior_trips) and its gradient.

    Written out by hand because L-BFGS-B on a million rows is too slow with finite
    differences; a test checks it against them.
    """
    k0, k1, k_new, k_prior_trips = theta
    w, y, phi, n = rows.severity, rows.left, rows.phi, rows.completed
    softening = 1.0 / (1.0 + k_prior_trips * n)
    push = k0 * (1.0 + k1 * phi)  # the unsoftened failure hazard
    log_no_left = rows.log_stay_base - w * (push * softening + k_new * rows.newcomer)
    p_left = -np.expm1(log_no_left)
    ll = np.where(y, np.log(p_left), log_no_left)
    d_hazard = w * np.where(y, np.exp(log_no_left) / p_left, -1.0)  # d ll / d hazard
    grad = np.array([np.sum(d_hazard * (1.0 + k1 * phi) * softening),
                     np.sum(d_hazard * k0 * phi * softening),
                     np.sum(d_hazard * rows.newcomer),
                     -np.sum(d_hazard * push * n * softening**2)])
    return -float(np.sum(ll)) / len(y), -grad / len(y)


@dataclass(frozen=True, slots=True)
class RetentionCalibrationRow:
    decile: int  # 1 = outcomes with the lowest predicted chance of leaving
    outcomes: int
    failed_share: float  # share of these outcomes that were failures
    predicted_left: float  # mean predicted P(no order within the window)
    observed_left: float


def retention_calibration(
    log: OrderLog, params: ValuationParams, cutoff_at: float, end_at: float,
    window_weeks: float = 8.0, bins: int = 10,
) -> list[RetentionCalibrationRow]:
    """Outcomes after the cutoff, predicted with `params` (fitted before it), by decile."""
    rows = retention_rows(log, params, end_at, window_weeks)
    held_out = rows.at_s > cutoff_at
    predicted = rows.p_left(*params.hazard_ks)[held_out]
    left, failed = rows.left[held_out], rows.severity[held_out] > 0
    order = np.argsort(predicted, kind="stable")
    return [
        RetentionCalibrationRow(
            decile=decile, outcomes=len(idx), failed_share=float(np.mean(failed[idx])),
            predicted_left=float(np.mean(predicted[idx])),
            observed_left=float(np.mean(left[idx])),
        )
        for decile, idx in enumerate(np.array_split(order, bins), start=1) if len(idx)
    ]
