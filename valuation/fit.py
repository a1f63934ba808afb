"""Maximum-likelihood refits of every population parameter from the firm's own order log.

Deterministic: fixed starting points, L-BFGS-B, no sampling. (1) BG/NBD and
Gamma-Gamma from their closed-form likelihoods; (2) the failure hazard k0, k1,
k_new from one row per order, labelled by whether the customer ordered again
within a window; (3) the value per second c from a caller-weighted percentile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize

from valuation.bgnbd import BgNbd, GammaGamma, bgnbd_log_likelihood, gamma_gamma_log_likelihood
from valuation.orderlog import OrderLog, Rfm, rfm_summary
from valuation.params import WEEK_S, ValuationParams
from valuation.replay import RowStates, replay
from valuation.score import score_many

Floats = NDArray[np.float64]


def _minimize_log(objective: Callable[[Floats], float], start: Floats) -> Floats:
    """Positive parameters fitted on the log scale; raises if the optimiser gives up."""
    result = minimize(lambda z: objective(np.exp(z)), np.log(start), method="L-BFGS-B",
                      options={"maxiter": 500})
    if not np.all(np.isfinite(result.x)):
        raise ValueError(f"fit did not converge: {result.message}")
    fitted: Floats = np.exp(result.x)
    return fitted


def fit_bgnbd(rfm: Rfm) -> BgNbd:
    """FHL 2005 likelihood over (x, t_x, T); customers without orders contribute nothing."""
    seen = rfm.T > 0

    def neg_ll(theta: Floats) -> float:
        model = BgNbd(*theta)
        return -float(np.mean(bgnbd_log_likelihood(model, rfm.x[seen], rfm.t_x[seen],
                                                   rfm.T[seen])))

    return BgNbd(*_minimize_log(neg_ll, np.array([1.0, 1.0, 1.0, 1.0])))


def fit_gamma_gamma(rfm: Rfm) -> GammaGamma:
    """Gamma-Gamma over customers with at least one fare (q is kept above 1)."""
    has_fare = (rfm.trips > 0) & (rfm.mean_fare > 0)
    n, mean = rfm.trips[has_fare], rfm.mean_fare[has_fare]

    def neg_ll(theta: Floats) -> float:
        return -float(np.mean(gamma_gamma_log_likelihood(GammaGamma(*theta), n, mean)))

    start = np.array([1.0, 2.0, float(np.mean(mean))])
    return GammaGamma(*_minimize_log(neg_ll, start))


def retention_rows(
    log: OrderLog, states: RowStates, end_at: float, window_weeks: float
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(usable, left): rows whose window is observed, and whether no order followed in it."""
    window_s = window_weeks * WEEK_S
    same_next = np.zeros(len(log.at_s), dtype=bool)
    same_next[:-1] = log.customer[1:] == log.customer[:-1]
    next_gap = np.full(len(log.at_s), np.inf)
    next_gap[:-1] = np.where(same_next[:-1], log.at_s[1:] - log.at_s[:-1], np.inf)
    # Only rows whose whole window lies inside the log: keeping early returns near the end
    # while dropping the silences there would bias the labels toward "stayed".
    usable = log.at_s + window_s <= end_at
    return usable, next_gap > window_s


def fit_retention(
    log: OrderLog, params: ValuationParams, end_at: float, window_weeks: float = 8.0
) -> ValuationParams:
    """k0, k1, k_new by maximum likelihood; the rest of `params` is taken as already fitted.

    P(no order within W) = 1 - (1 - pi) * (1 - q): pi = 1 - (1 - p) * exp(-w * hazard)
    is the chance of leaving after this order (w its severity, 0 when served on
    time) and q = ((alpha + age) / (alpha + age + W))^(r + x) the chance that a
    customer who stays is silent anyway, so slow callers are not mistaken for lost ones.
    """
    log = log.until(end_at)
    states, _ = replay(log, params)
    usable, left = retention_rows(log, states, end_at, window_weeks)
    w, y = log.severity[usable], left[usable]
    x_before, phi = states.repeat_orders[usable], states.phi[usable]
    x_after = x_before + states.is_repeat[usable]
    age = states.tenure_weeks[usable]
    newcomer = states.newcomer[usable].astype(np.float64)
    p = np.where(states.is_repeat[usable], params.a / (params.a + params.b + x_before), 0.0)
    silent = ((params.alpha + age) / (params.alpha + age + window_weeks)) ** (params.r + x_after)
    log_stay_base = np.log1p(-p) + np.log1p(-silent)  # log((1 - p)(1 - q))
    if len(y) == 0:
        raise ValueError("no order outcome has an observed window; extend the log")

    def neg_ll(theta: Floats) -> tuple[float, Floats]:
        k0, k1, k_new = theta
        hazard = k0 * (1.0 + k1 * phi) + k_new * newcomer
        log_no_left = log_stay_base - w * hazard
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


def weighted_percentile(values: Floats, weights: Floats, percentile: float) -> float:
    """Smallest value whose cumulative weight reaches the percentile (deterministic, no interp)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    position = np.searchsorted(cumulative, percentile / 100.0 * cumulative[-1], side="left")
    return float(values[order][min(position, len(values) - 1)])


def fit_value_per_s(
    value_at_risk: Floats, calls_per_week: Floats, params: ValuationParams,
    percentile: float = 95.0,
) -> float:
    """c such that the percentile of callers, weighted by how often they call, reaches the cap."""
    pivot = weighted_percentile(value_at_risk, calls_per_week, percentile)
    if pivot <= 0:
        raise ValueError("value at risk is zero at the chosen percentile; cannot set c")
    return pivot / params.max_head_start_s


def fit_params(
    log: OrderLog, end_at: float, base: ValuationParams, window_weeks: float = 8.0,
    percentile: float = 95.0,
) -> ValuationParams:
    """All three fits in order; horizons, half-lives, cap, floor and tiers are kept from `base`."""
    log = log.until(end_at)
    rfm = rfm_summary(log, end_at)
    bg, gg = fit_bgnbd(rfm), fit_gamma_gamma(rfm)
    params = replace(base, r=bg.r, alpha=bg.alpha, a=bg.a, b=bg.b,
                     gg_p=gg.p, gg_q=max(gg.q, 1.0 + 1e-6), gg_gamma=gg.gamma)
    params = fit_retention(log, params, end_at, window_weeks)
    _, final = replay(log, params)
    seen = final.orders > 0
    scores = score_many(final, end_at, params)
    c = fit_value_per_s(scores.value_at_risk[seen], scores.orders_per_week[seen], params,
                        percentile)
    return replace(params, value_per_s=c)
