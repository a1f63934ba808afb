"""Trips and fares: how long a trip takes and what it costs.

Durations (pickup to end) get scipy.stats' lognormal or exponential fit,
whichever has the lower AIC; the mean's interval is the t interval of the
sample mean and sigma's the chi-square interval of the log durations' sd.
Fares are fitted as base + per minute by least squares (`linregress`),
which is how the simulator charges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from simulator.calibration.evidence import Estimate, Floats, LogArrays

MIN_TRIPS = 20


@dataclass(frozen=True, slots=True)
class TripFit:
    kind: Estimate
    mean_min: Estimate
    sigma: Estimate
    fare_base: Estimate
    fare_per_min: Estimate
    duration_min: Floats
    fare: Floats


def fit_trips(log: LogArrays) -> TripFit:
    done = log.completed & np.isfinite(log.picked_up) & np.isfinite(log.ended)
    minutes = (log.ended[done] - log.picked_up[done]) / 60.0
    fares = log.fare[done]
    keep = minutes > 0
    minutes, fares = minutes[keep], fares[keep]
    if len(minutes) < MIN_TRIPS:
        why = f"{len(minutes)} completed orders with pickup and end times (need {MIN_TRIPS})"
        fb = Estimate.fallback
        return TripFit(
            fb("lognormal", why), fb(15.0, why), fb(0.5, why), fb(3.0, why), fb(0.8, why), minutes, fares
        )
    source = log.source(len(minutes), "completed trips")
    logs = np.log(minutes)
    sigma = float(np.std(logs, ddof=1))
    aic_lognormal = -2 * float(np.sum(stats.lognorm.logpdf(minutes, sigma, 0, math.exp(logs.mean())))) + 4
    aic_exponential = -2 * float(np.sum(stats.expon.logpdf(minutes, 0, minutes.mean()))) + 2
    kind = "lognormal" if aic_lognormal <= aic_exponential else "exponential"
    mean = float(minutes.mean())
    half = stats.t.ppf(0.975, len(minutes) - 1) * minutes.std(ddof=1) / math.sqrt(len(minutes))
    k = len(minutes) - 1
    sigma_ci = (
        sigma * math.sqrt(k / stats.chi2.ppf(0.975, k)),
        sigma * math.sqrt(k / stats.chi2.ppf(0.025, k)),
    )
    base, per_min = _fares(minutes, fares, log)
    return TripFit(
        Estimate(kind, f"lower AIC, {source}"),
        Estimate(mean, source, mean - half, mean + half),
        Estimate(sigma, source, *sigma_ci)
        if kind == "lognormal"
        else Estimate.fallback(0.5, "exponential fits better; sigma unused"),
        base,
        per_min,
        minutes,
        fares,
    )


def _fares(minutes: Floats, fares: Floats, log: LogArrays) -> tuple[Estimate, Estimate]:
    priced = np.isfinite(fares)
    if priced.sum() < MIN_TRIPS or np.ptp(minutes[priced]) == 0:
        return Estimate.fallback(3.0, "too few fares"), Estimate.fallback(0.8, "too few fares")
    fit = stats.linregress(minutes[priced], fares[priced])
    z = 1.959963984540054
    source = log.source(int(priced.sum()), "fares with trip times")
    base = max(float(fit.intercept), 0.0)
    per_min = max(float(fit.slope), 0.0)
    return (
        Estimate(
            base, source, fit.intercept - z * fit.intercept_stderr, fit.intercept + z * fit.intercept_stderr
        ),
        Estimate(per_min, source, fit.slope - z * fit.stderr, fit.slope + z * fit.stderr),
    )
