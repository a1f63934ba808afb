"""Patience: how long callers wait for a car before they give up.

Callers who abandoned show their patience; callers who got a car (or whom
the dispatcher gave up on) waited at least that long: right-censored. The
censored fit is scipy.stats' (`CensoredData`), lognormal or exponential,
whichever has the lower AIC; the Kaplan-Meier curve (`scipy.stats.ecdf`) is
kept for the report. The interval of the mean comes from the observed
information of the same censored likelihood (delta method). This is the
number the whole study is most sensitive to: who abandons decides who is lost.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from simulator.calibration.evidence import Estimate, Floats, LogArrays, wald_interval
from simulator.calibration.mle import covariance

MIN_ABANDONED = 20


@dataclass(frozen=True, slots=True)
class PatienceFit:
    kind: Estimate  # "lognormal" or "exponential"
    mean_min: Estimate
    sigma: Estimate
    observed_min: Floats  # abandoned: the wait they gave up after
    censored_min: Floats  # served or dropped: they would have waited at least this long
    km: Any = None  # scipy.stats ECDFResult of the Kaplan-Meier estimate


def waits(log: LogArrays) -> tuple[Floats, Floats]:
    """(abandoned waits, censored waits) in minutes, from the rows with the times for them."""
    gave_up = (log.outcome == "abandoned") & np.isfinite(log.ended)
    served = log.completed & np.isfinite(log.picked_up)
    dropped = log.failed & (log.outcome != "abandoned") & np.isfinite(log.ended)
    observed = log.ended[gave_up] / 60.0
    censored = np.concatenate([log.picked_up[served], log.ended[dropped]]) / 60.0
    return np.maximum(observed, 1e-3), np.maximum(censored, 1e-3)


def fit_patience(log: LogArrays, default_mean_min: float = 15.0) -> PatienceFit:
    observed, censored = waits(log)
    if len(observed) < MIN_ABANDONED:
        why = f"{len(observed)} abandoned orders with an end time (need {MIN_ABANDONED})"
        return PatienceFit(
            Estimate.fallback("lognormal", why),
            Estimate.fallback(default_mean_min, why),
            Estimate.fallback(0.5, why),
            observed,
            censored,
        )
    data = stats.CensoredData(uncensored=observed, right=censored)
    source = log.source(len(observed), f"abandoned and {len(censored):,} served or dropped waits")
    lognormal, exponential = _lognormal(data, observed, censored), _exponential(observed, censored)
    chosen = lognormal if lognormal[0] <= exponential[0] else exponential
    _, kind, mean, mean_ci, sigma = chosen
    sigma_est = (
        Estimate(sigma, source)
        if kind == "lognormal"
        else Estimate.fallback(0.5, "exponential fits better; sigma unused")
    )
    return PatienceFit(
        Estimate(kind, f"lower AIC than {'exponential' if kind == 'lognormal' else 'lognormal'}, {source}"),
        Estimate(mean, source, *mean_ci),
        sigma_est,
        observed,
        censored,
        stats.ecdf(data),
    )


def _lognormal(
    data: stats.CensoredData, observed: Floats, censored: Floats
) -> tuple[float, str, float, tuple[float, float], float]:
    shape, _, scale = stats.lognorm.fit(data, floc=0)
    mu, sigma = math.log(scale), float(shape)
    log_obs, log_cen = np.log(observed), np.log(censored)

    def neg_ll(theta: Floats) -> float:
        m, s = theta[0], math.exp(theta[1])
        return -float(
            np.sum(stats.norm.logpdf(log_obs, m, s) - log_obs) + np.sum(stats.norm.logsf(log_cen, m, s))
        )

    theta = np.array([mu, math.log(sigma)])
    cov = covariance(neg_ll, theta)
    mean = math.exp(mu + sigma**2 / 2)
    grad = np.array([mean, mean * sigma**2])
    se = math.sqrt(max(float(grad @ cov @ grad), 0.0)) if np.all(np.isfinite(cov)) else math.inf
    return 2 * neg_ll(theta) + 4, "lognormal", mean, wald_interval(mean, se / mean, True), sigma


def _exponential(observed: Floats, censored: Floats) -> tuple[float, str, float, tuple[float, float], float]:
    """Closed form: mean = total time at risk / events; se of log mean = 1 / sqrt(events)."""
    events, exposure = len(observed), float(observed.sum() + censored.sum())
    mean = exposure / events
    neg_ll = events * math.log(mean) + exposure / mean
    return 2 * neg_ll + 2, "exponential", mean, wald_interval(mean, 1 / math.sqrt(events), True), 0.5
