"""Profile-likelihood intervals against likelihoods whose intervals are known in closed form."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.calibration.profile import gradient_covariance, minimise, profile_interval

Floats = np.ndarray


def _normal(x: Floats):  # type: ignore[no-untyped-def]
    """-log L of N(mu, sigma) in (mu, log sigma), with its gradient."""
    n = len(x)

    def fun(theta: Floats) -> tuple[float, Floats]:
        mu, log_s = theta
        ss = float(np.sum((x - mu) ** 2))
        value = n * log_s + ss / (2 * math.exp(2 * log_s))
        return value, np.array([-float(np.sum(x - mu)) / math.exp(2 * log_s), n - ss / math.exp(2 * log_s)])

    return fun


def test_a_mean_with_unknown_spread_gets_its_exact_profile_interval() -> None:
    """For a normal sample the profile interval of mu is xbar +- s_ml sqrt(exp(3.84 / n) - 1),
    wider than the Wald interval on small samples; the ends agree to 5% of the half-width."""
    x = np.random.default_rng(5).normal(3.0, 2.0, 12)
    fun, bounds = _normal(x), [(-50.0, 50.0), (-5.0, 5.0)]
    theta = minimise(fun, np.array([0.0, 0.0]), bounds, {})
    s_ml = float(np.sqrt(np.mean((x - x.mean()) ** 2)))
    assert theta == pytest.approx([x.mean(), math.log(s_ml)], abs=1e-3)
    half = s_ml * math.sqrt(math.exp(3.841458820694124 / len(x)) - 1)
    low, high = profile_interval(fun, theta, bounds, 0, gradient_covariance(fun, theta))
    assert low == pytest.approx(x.mean() - half, abs=0.05 * half)
    assert high == pytest.approx(x.mean() + half, abs=0.05 * half)
    assert half > 1.96 * s_ml / math.sqrt(len(x))  # Wald would have been too narrow


def test_a_rate_with_no_events_is_bounded_above_only() -> None:
    """No event in T: the MLE sits at the search bound, the lower end is that bound (the data
    cannot exclude zero) and the upper end is 1.92 / T, where the deviance 2 lambda T is 3.84."""
    exposure = 50.0

    def fun(theta: Floats) -> tuple[float, Floats]:
        rate = math.exp(theta[0])
        return rate * exposure, np.array([rate * exposure])

    bounds = [(-12.0, 3.0)]
    theta = minimise(fun, np.array([0.0]), bounds, {})
    assert theta[0] == pytest.approx(-12.0)
    low, high = profile_interval(fun, theta, bounds, 0, gradient_covariance(fun, theta))
    assert low == -12.0
    assert math.exp(high) == pytest.approx(1.920729410347062 / exposure, rel=0.05)


def test_the_covariance_of_a_quadratic_is_its_inverse_curvature() -> None:
    """Central differences of an exact gradient recover the inverse Hessian; held parameters
    get no variance."""
    h = np.array([[4.0, 1.0, 0.5], [1.0, 3.0, 0.2], [0.5, 0.2, 2.0]])

    def fun(theta: Floats) -> tuple[float, Floats]:
        return float(theta @ h @ theta / 2), h @ theta

    assert gradient_covariance(fun, np.zeros(3)) == pytest.approx(np.linalg.inv(h))
    held = gradient_covariance(fun, np.zeros(3), free=[0, 1])
    assert held[:2, :2] == pytest.approx(np.linalg.inv(h[:2, :2]))
    assert not held[2].any()


def _two_wells(theta: Floats) -> tuple[float, Floats]:
    """0.5 x^2 plus a nuisance y with its best well at 0 and a worse one (about 5 higher) at 3."""
    x, y = theta
    step = 1.0 / (1.0 + math.exp(-4.0 * (y - 1.5)))
    value = 0.5 * x * x + y * y * (y - 3.0) ** 2 / 4.0 + 5.0 * step
    grad_y = y * (y - 3.0) * (2.0 * y - 3.0) / 2.0 + 20.0 * step * (1.0 - step)
    return value, np.array([x, grad_y])


def test_a_profile_point_that_starts_in_a_worse_well_still_finds_the_best_one() -> None:
    """The profile of x is 0.5 x^2 whatever y does, so its interval is +-1.96. A covariance
    that tilts the starting guess along y (shifted = nearest fit + slope * step) sends the
    start into y's worse well; a fit from there alone overstates the deviance by ~10 and the
    interval shrinks (scipy 1.17's L-BFGS-B then stayed in the worse well on hill-city)."""
    bounds = [(-10.0, 10.0), (-10.0, 10.0)]
    theta = minimise(_two_wells, np.array([0.5, 0.2]), bounds, {})
    tilted = np.array([[1.0, 1.5], [1.5, 3.0]])  # y starts at 1.5 x: at the Wald end, in the worse well
    low, high = profile_interval(_two_wells, theta, bounds, 0, tilted)
    assert low == pytest.approx(-1.96, abs=0.1) and high == pytest.approx(1.96, abs=0.1)
