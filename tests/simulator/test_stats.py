"""Replication statistics: t intervals, paired differences, percentiles."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.stats import (
    Estimate,
    mean_ci,
    paired_difference,
    percentiles,
    unpaired_difference,
)

finite = st.floats(-1e6, 1e6, allow_nan=False)


def _coverage(experiments: int, n: int, confidence: float, seed: int) -> float:
    rng = np.random.default_rng(seed)
    true_mean = 3.0
    hits = sum(mean_ci(rng.normal(true_mean, 2.0, size=n), confidence).contains(true_mean)
               for _ in range(experiments))
    return hits / experiments


@pytest.mark.parametrize(("n", "confidence"), [(5, 0.95), (30, 0.95), (10, 0.90)])
def test_interval_covers_a_known_normal_mean_at_the_nominal_rate(n: int, confidence: float) -> None:
    """Over 4000 samples from a normal, the t interval holds the true mean at the nominal rate."""
    experiments = 4000
    coverage = _coverage(experiments, n, confidence, seed=n)
    binomial_sd = math.sqrt(confidence * (1 - confidence) / experiments)
    assert abs(coverage - confidence) < 4 * binomial_sd


def test_normal_quantile_would_undercover_with_few_replications() -> None:
    """With 5 replications the t quantile is needed: a 1.96 z interval covers clearly less."""
    rng = np.random.default_rng(7)
    z_hits = 0
    experiments = 4000
    for _ in range(experiments):
        estimate = mean_ci(rng.normal(0.0, 1.0, size=5))
        z_half_width = 1.959964 * estimate.std / math.sqrt(5)
        z_hits += abs(estimate.mean) <= z_half_width
    assert z_hits / experiments < 0.92


def test_known_values() -> None:
    """Mean, sample sd and half-width match a hand computation with t(0.975, 3) = 3.182446."""
    estimate = mean_ci([1.0, 2.0, 3.0, 4.0])
    std = math.sqrt(5.0 / 3.0)
    assert estimate.mean == pytest.approx(2.5)
    assert estimate.std == pytest.approx(std)
    assert estimate.half_width == pytest.approx(3.182446 * std / 2.0, rel=1e-6)
    assert estimate.n == 4
    assert estimate.low == pytest.approx(2.5 - estimate.half_width)


@given(st.lists(finite, min_size=2, max_size=30), finite)
def test_interval_is_centred_and_moves_with_a_shift(values: list[float], shift: float) -> None:
    """The interval brackets its mean, and shifting every value shifts the interval alone."""
    base = mean_ci(values)
    moved = mean_ci([v + shift for v in values])
    assert base.low <= base.mean <= base.high
    assert moved.mean == pytest.approx(base.mean + shift, abs=1e-6)
    assert moved.half_width == pytest.approx(base.half_width, rel=1e-6, abs=1e-6)


@given(st.lists(finite, min_size=2, max_size=30))
def test_wider_confidence_gives_a_wider_interval(values: list[float]) -> None:
    """A 99% interval is never narrower than a 90% one on the same data."""
    assert mean_ci(values, 0.99).half_width >= mean_ci(values, 0.90).half_width


def test_single_replication_has_an_unbounded_interval() -> None:
    """One value says nothing about spread: the interval is infinite, not zero."""
    estimate = mean_ci([4.2])
    assert estimate.mean == 4.2
    assert estimate.low == -math.inf and estimate.high == math.inf
    assert estimate.contains(1e300)


def test_identical_values_give_a_point_interval() -> None:
    """No spread at all: the interval collapses to the mean."""
    estimate = mean_ci([2.0, 2.0, 2.0])
    assert (estimate.low, estimate.high, estimate.half_width) == (2.0, 2.0, 0.0)


@pytest.mark.parametrize("bad", [[], [1.0, math.nan], [1.0, math.inf], [[1.0, 2.0]]])
def test_bad_samples_are_refused(bad: list[float]) -> None:
    """Empty, non-finite or nested samples raise a ValueError naming the problem."""
    with pytest.raises(ValueError, match="mean_ci"):
        mean_ci(bad)


@pytest.mark.parametrize("confidence", [0.0, 1.0, -0.5, 95.0])
def test_confidence_must_be_a_probability(confidence: float) -> None:
    """A confidence outside (0, 1) is refused (95 instead of 0.95 is a common slip)."""
    with pytest.raises(ValueError, match="confidence"):
        mean_ci([1.0, 2.0], confidence)


def _correlated_policies(seed: int, replications: int) -> tuple[np.ndarray, np.ndarray]:
    """Two policies on common random numbers: a shared per-seed level plus small own noise."""
    rng = np.random.default_rng(seed)
    shared = rng.normal(0.20, 0.03, size=replications)
    baseline = shared + rng.normal(0.0, 0.003, size=replications)
    treatment = shared - 0.01 + rng.normal(0.0, 0.003, size=replications)
    return treatment, baseline


def test_paired_interval_is_tighter_than_unpaired_on_correlated_runs() -> None:
    """With common random numbers the paired CI is far narrower and still finds the effect."""
    treatment, baseline = _correlated_policies(seed=11, replications=10)
    paired = paired_difference(treatment, baseline)
    unpaired = unpaired_difference(treatment, baseline)
    assert paired.half_width < unpaired.half_width / 3
    assert paired.high < 0.0  # the paired comparison detects the -0.01 effect
    assert unpaired.contains(0.0)  # the unpaired one cannot tell it from noise


def test_paired_difference_covers_the_true_effect_at_the_nominal_rate() -> None:
    """Over many experiments the paired interval holds the true -0.01 effect ~95% of the time."""
    experiments = 2000
    hits = sum(paired_difference(*_correlated_policies(seed, 8)).contains(-0.01)
               for seed in range(experiments))
    assert abs(hits / experiments - 0.95) < 4 * math.sqrt(0.95 * 0.05 / experiments)


def test_paired_difference_is_the_interval_of_the_differences() -> None:
    """Pairing means: the estimate equals mean_ci of the replication-by-replication differences."""
    treatment, baseline = [3.0, 5.0, 4.0], [1.0, 2.0, 2.5]
    assert paired_difference(treatment, baseline) == mean_ci([2.0, 3.0, 1.5])


def test_paired_difference_needs_one_baseline_per_replication() -> None:
    """Samples of different lengths cannot be paired."""
    with pytest.raises(ValueError, match="one baseline value per replication"):
        paired_difference([1.0, 2.0, 3.0], [1.0, 2.0])


def test_unpaired_difference_matches_welch() -> None:
    """The unpaired interval is Welch's: scipy's Welch t-test gives the same standard error."""
    from scipy import stats as scipy_stats

    a, b = [1.0, 2.5, 3.0, 4.5, 2.0], [0.5, 1.0, 1.5, 0.0]
    estimate = unpaired_difference(a, b)
    result = scipy_stats.ttest_ind(a, b, equal_var=False)
    assert estimate.mean / estimate.std == pytest.approx(float(result.statistic))
    low, high = result.confidence_interval(0.95)
    assert estimate.low == pytest.approx(low)
    assert estimate.high == pytest.approx(high)


def test_unpaired_difference_with_too_few_values_is_unbounded() -> None:
    """One value on a side gives no spread estimate for that side."""
    assert unpaired_difference([1.0], [2.0, 3.0]).half_width == math.inf


def test_estimate_converts_to_plain_numbers() -> None:
    """as_dict gives every field as a plain number for JSON and CSV output."""
    estimate = mean_ci([1.0, 3.0])
    row = estimate.as_dict()
    assert row["mean"] == 2.0 and row["n"] == 2
    assert Estimate(**row) == estimate  # type: ignore[arg-type]


def test_percentiles_match_numpy_and_skip_missing_waits() -> None:
    """Percentiles use numpy's linear rule; NaN waits (no car ever came) are left out."""
    waits = [float(v) for v in range(1, 101)] + [math.nan]
    found = percentiles(waits)
    assert found == {50.0: pytest.approx(50.5), 90.0: pytest.approx(90.1),
                     99.0: pytest.approx(99.01)}


def test_percentiles_of_nothing_are_nan() -> None:
    """A segment without orders has no waits: NaN, not zero."""
    found = percentiles([], (50.0, 90.0))
    assert list(found) == [50.0, 90.0]
    assert all(math.isnan(v) for v in found.values())


@given(st.lists(finite, min_size=1, max_size=50))
def test_percentiles_are_ordered_and_within_range(values: list[float]) -> None:
    """p50 <= p90 <= p99, all between the smallest and the largest observation."""
    found = percentiles(np.array(values))
    p50, p90, p99 = found[50.0], found[90.0], found[99.0]
    assert min(values) <= p50 <= p90 <= p99 <= max(values)


def test_percentile_levels_are_checked() -> None:
    """Levels are percents in [0, 100], not fractions above 1 or negative."""
    with pytest.raises(ValueError, match="levels"):
        percentiles([1.0], (150.0,))
