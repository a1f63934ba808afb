"""Confidence intervals over replications, and percentiles of waits.

A replication is one independent run of the whole model, so its summary
figures (lost customers, abandonment share, mean wait) are the sample that
the Student t interval is built on; orders inside one run are correlated and
are never treated as independent observations.

Policies are compared on common random numbers: replication r of every
policy draws the same arrivals, patiences and trip lengths. The two results
of replication r are then strongly positively correlated, and the variance
of their difference, Var(a) + Var(b) - 2 Cov(a, b), is much smaller than the
Var(a) + Var(b) an unpaired comparison pays. That is why `paired_difference`
takes the per-replication differences first and only then builds a t
interval, and why the replication order of the two samples must match.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as scipy_stats

DEFAULT_CONFIDENCE = 0.95
DEFAULT_PERCENTILES: tuple[float, ...] = (50.0, 90.0, 99.0)


@dataclass(frozen=True, slots=True)
class Estimate:
    """A mean with its two-sided confidence interval.

    With a single replication the spread is unknown, so the interval is
    infinite rather than falsely narrow; with identical values it is a point.
    """

    mean: float
    low: float
    high: float
    half_width: float
    std: float  # sample standard deviation (ddof=1) of the values the mean is taken over
    n: int
    confidence: float

    def contains(self, value: float) -> bool:
        return self.low <= value <= self.high

    def as_dict(self) -> dict[str, float | int]:
        """Plain numbers for results.json and results.csv."""
        return {"mean": self.mean, "low": self.low, "high": self.high,
                "half_width": self.half_width, "std": self.std, "n": self.n,
                "confidence": self.confidence}


def _sample(values: ArrayLike, what: str) -> NDArray[np.float64]:
    sample = np.asarray(values, dtype=np.float64)
    if sample.ndim != 1:
        raise ValueError(f"{what}: expected a flat list of per-replication values, "
                         f"got shape {sample.shape}")
    if sample.size == 0:
        raise ValueError(f"{what}: no values")
    if not np.all(np.isfinite(sample)):
        raise ValueError(f"{what}: values must be finite, got {sample[~np.isfinite(sample)][:3]}")
    return sample


def _check_confidence(confidence: float) -> None:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")


def _t_interval(sample: NDArray[np.float64], confidence: float) -> Estimate:
    n = int(sample.size)
    mean = float(sample.mean())
    if n == 1:
        return Estimate(mean, -math.inf, math.inf, math.inf, math.nan, 1, confidence)
    std = float(sample.std(ddof=1))
    quantile = float(scipy_stats.t.ppf(0.5 + confidence / 2.0, df=n - 1))
    half_width = quantile * std / math.sqrt(n)
    return Estimate(mean, mean - half_width, mean + half_width, half_width, std, n, confidence)


def mean_ci(values: ArrayLike, confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
    """Mean of per-replication values with a Student t confidence interval."""
    _check_confidence(confidence)
    return _t_interval(_sample(values, "mean_ci"), confidence)


def paired_difference(treatment: ArrayLike, baseline: ArrayLike,
                      confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
    """Mean of `treatment - baseline`, replication by replication (common random numbers).

    Both samples must list replications in the same order: element r of each
    comes from the same seed.
    """
    _check_confidence(confidence)
    a = _sample(treatment, "paired_difference treatment")
    b = _sample(baseline, "paired_difference baseline")
    if a.size != b.size:
        raise ValueError(f"paired_difference needs one baseline value per replication: "
                         f"{a.size} treatment vs {b.size} baseline values")
    return _t_interval(a - b, confidence)


def unpaired_difference(treatment: ArrayLike, baseline: ArrayLike,
                        confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
    """Mean of `treatment` minus mean of `baseline` from independent runs (Welch's t).

    For results that do not share seeds; with common random numbers use
    `paired_difference`, which is never wider on positively correlated runs.
    `std` is the standard error of the difference here, not a sample sd.
    """
    _check_confidence(confidence)
    a = _sample(treatment, "unpaired_difference treatment")
    b = _sample(baseline, "unpaired_difference baseline")
    mean = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return Estimate(mean, -math.inf, math.inf, math.inf, math.nan,
                        int(a.size + b.size), confidence)
    var_a, var_b = float(a.var(ddof=1)) / a.size, float(b.var(ddof=1)) / b.size
    standard_error = math.sqrt(var_a + var_b)
    if standard_error == 0.0:
        return Estimate(mean, mean, mean, 0.0, 0.0, int(a.size + b.size), confidence)
    dof = (var_a + var_b) ** 2 / (var_a**2 / (a.size - 1) + var_b**2 / (b.size - 1))
    half_width = float(scipy_stats.t.ppf(0.5 + confidence / 2.0, df=dof)) * standard_error
    return Estimate(mean, mean - half_width, mean + half_width, half_width, standard_error,
                    int(a.size + b.size), confidence)


def percentiles(values: Iterable[float],
                levels: Sequence[float] = DEFAULT_PERCENTILES) -> dict[float, float]:
    """Percentiles (0-100) of a set of observations, e.g. waits of one segment.

    An empty set gives NaN for every level (a segment that placed no orders
    has no wait, which is not a wait of zero); NaN observations are dropped,
    so waits of orders that never got a car can be passed as NaN.
    """
    for level in levels:
        if not 0.0 <= level <= 100.0:
            raise ValueError(f"percentile levels must be in [0, 100], got {level}")
    raw = np.asarray(values if isinstance(values, np.ndarray) else list(values),
                     dtype=np.float64).ravel()
    observed = raw[~np.isnan(raw)]
    if observed.size == 0:
        return {float(level): math.nan for level in levels}
    found = np.percentile(observed, list(levels))
    return {float(level): float(value) for level, value in zip(levels, found, strict=True)}
