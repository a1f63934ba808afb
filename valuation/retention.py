"""The failure hazard k0, k1, k_new: fitted, and checked on held-out orders.

No published figure gives the chance that one "no car" makes a customer leave
(DOMAIN.md), so these three numbers must come from the firm's own log: one row
per order outcome, labelled by whether the customer ordered again within a
window W, with the state the live scorer saw at that moment (`valuation.replay`).

    P(no order within W) = 1 - (1 - pi) (1 - q)
    pi = 1 - (1 - p_now) exp(-w * (k0 (1 + k1 phi) + k_new [no completed trip]))
    q  = ((alpha + age) / (alpha + age + W))^(r + x)

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
from valuation.params import WEEK_S, ValuationParams
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
    log_stay_base: Floats  # log((1 - p_now)(1 - q)): staying and ordering, before failures

    def p_left(self, k0: float, k1: float, k_new: float) -> Floats:
        hazard = k0 * (1.0 + k1 * self.phi) + k_new * self.newcomer
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
        log_stay_base=np.log1p(-p_now) + np.log1p(-silent),
    )


def fit_retention(
    log: OrderLog, params: ValuationParams, end_at: float, window_weeks: float = 8.0
) -> ValuationParams:
    """k0, k1, k_new by maximum likelihood (analytic gradient); the rest of `params` is kept."""
    rows = retention_rows(log, params, end_at, window_weeks)
    if len(rows.left) == 0:
        raise ValueError("no order outcome has an observed window; extend the log")
    w, y, phi, newcomer = rows.severity, rows.left, rows.phi, rows.newcomer

    def neg_ll(theta: Floats) -> tuple[float, Floats]:
        k0, k1, k_new = theta
        log_no_left = rows.log_stay_base - w * (k0 * (1.0 + k1 * phi) + k_new * newcomer)
        p_left = -np.expm1(log_no_left)
        ll = np.where(y, np.log(p_left), log_no_left)
        d_hazard = w * np.where(y, np.exp(log_no_left) / p_left, -1.0)
        grad = np.array([np.sum(d_hazard * (1.0 + k1 * phi)), np.sum(d_hazard * k0 * phi),
                         np.sum(d_hazard * newcomer)])
        return -float(np.sum(ll)) / len(y), -grad / len(y)

    result = minimize(neg_ll, np.array([params.k0, params.k1, params.k_new]), jac=True,
                      method="L-BFGS-B", bounds=[(0.0, 50.0)] * 3)
    k0, k1, k_new = (float(v) for v in result.x)
    return replace(params, k0=k0, k1=k1, k_new=k_new)


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
    predicted = rows.p_left(params.k0, params.k1, params.k_new)[held_out]
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
