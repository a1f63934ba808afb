"""Maximum-likelihood refits of every population parameter from the firm's own order log.

`fit_params` runs them all; the failure hazard lives in `valuation.retention`.

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
from valuation.params import ValuationParams
from valuation.replay import replay
from valuation.retention import fit_retention
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
