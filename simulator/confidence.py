"""Confidence intervals from one long run, by batch means.

Consecutive orders in one run are correlated (a long queue makes several
callers in a row wait), so a binomial interval over orders would be too
narrow. Batch means cut the run into a few long batches in time order, whose
means are nearly independent, and put `simulator.stats.mean_ci`'s Student t
interval on them. Used where a textbook value is checked against a single
long run; comparisons between policies use replications instead.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from simulator.stats import Estimate, mean_ci


def batch_means_ci(values: Sequence[float], batches: int = 20,
                   confidence: float = 0.95) -> Estimate:
    """Interval for the long-run mean of a correlated series (values in time order)."""
    series = np.asarray(values, dtype=float)
    if series.size < 2 * batches:
        raise ValueError(f"need at least {2 * batches} values for {batches} batches")
    usable = series.size - series.size % batches
    return mean_ci(series[:usable].reshape(batches, -1).mean(axis=1), confidence)
