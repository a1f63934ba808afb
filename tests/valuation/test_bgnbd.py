"""Closed forms against lifetimes (test-only oracle, to 1e-9) and against direct integration."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import integrate, stats

from valuation.bgnbd import (
    BgNbd,
    GammaGamma,
    bgnbd_conditional_expected_orders,
    bgnbd_expected_orders,
    bgnbd_log_likelihood,
    bgnbd_p_alive,
    bgnbd_p_no_orders,
    gamma_gamma_expected_fare,
    gamma_gamma_log_likelihood,
)

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # lifetimes sets a pandas option deprecated in pandas 3
    lifetimes = pytest.importorskip("lifetimes")
pd = pytest.importorskip("pandas")

MODELS = [BgNbd(0.5, 2.0, 0.8, 3.0), BgNbd(0.243, 4.414, 0.793, 2.426), BgNbd(2.0, 10.0, 1.5, 6.0)]
X = np.array([0, 1, 2, 5, 14, 40, 0, 3], dtype=float)
T_X = np.array([0, 4.5, 10.0, 20.0, 30.0, 38.0, 0.0, 1.0])
T = np.array([39.0, 39.0, 20.5, 38.0, 31.0, 39.0, 2.0, 50.0])


def _bg(model: BgNbd) -> object:
    fitter = lifetimes.BetaGeoFitter()
    fitter.params_ = pd.Series({"r": model.r, "alpha": model.alpha, "a": model.a, "b": model.b})
    return fitter


@pytest.mark.parametrize("model", MODELS)
def test_log_likelihood_matches_lifetimes(model: BgNbd) -> None:
    """Summed BG/NBD log-likelihood equals lifetimes' (it returns the negative mean)."""
    ours = bgnbd_log_likelihood(model, X, T_X, T)
    theirs = lifetimes.BetaGeoFitter._negative_log_likelihood(
        np.log([model.r, model.alpha, model.a, model.b]), X, T_X, T, np.ones_like(X), 0.0)
    assert -np.mean(ours) == pytest.approx(theirs, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("model", MODELS)
def test_conditional_forecasts_match_lifetimes(model: BgNbd) -> None:
    """P(alive), E[X(t)] and E[Y(t) | history] agree with lifetimes to 1e-9."""
    fitter = _bg(model)
    assert bgnbd_p_alive(model, X, T_X, T) == pytest.approx(
        fitter.conditional_probability_alive(X, T_X, T), rel=1e-9, abs=1e-12)
    for t in (1.0, 13.0, 52.0):
        assert bgnbd_conditional_expected_orders(model, t, X, T_X, T) == pytest.approx(
            fitter.conditional_expected_number_of_purchases_up_to_time(t, X, T_X, T),
            rel=1e-9, abs=1e-12)
    ts = np.array([0.5, 10.0, 100.0])
    assert bgnbd_expected_orders(model, ts) == pytest.approx(
        fitter.expected_number_of_purchases_up_to_time(ts), rel=1e-9)


def test_gamma_gamma_matches_lifetimes() -> None:
    """Gamma-Gamma likelihood and posterior mean fare agree with lifetimes to 1e-9."""
    model = GammaGamma(6.25, 3.74, 15.44)
    n, mean = np.array([1.0, 2.0, 5.0, 30.0]), np.array([20.0, 30.0, 10.0, 14.5])
    theirs = lifetimes.GammaGammaFitter._negative_log_likelihood(
        np.log([model.p, model.q, model.gamma]), n, mean, np.ones_like(n), 0.0)
    assert -np.mean(gamma_gamma_log_likelihood(model, n, mean)) == pytest.approx(theirs, rel=1e-9)
    fitter = lifetimes.GammaGammaFitter()
    fitter.params_ = pd.Series({"p": model.p, "q": model.q, "v": model.gamma})
    expected = fitter.conditional_expected_average_profit(pd.Series(n), pd.Series(mean))
    assert gamma_gamma_expected_fare(model, n, mean) == pytest.approx(expected.to_numpy(),
                                                                      rel=1e-9)


def _quad(f: object, lo: float, hi: float) -> float:
    return float(integrate.quad(f, lo, hi, epsabs=0.0, epsrel=1e-11, limit=200)[0])


def test_p_no_orders_and_p_alive_match_direct_integration() -> None:
    """P(alive) and P(no order in the next t weeks) equal integrals over the prior.

    Independent of lifetimes (which lacks the second quantity): the individual BG/NBD
    likelihood splits into a lambda part and a p part, each integrated numerically.
    """
    model, t = BgNbd(0.5, 2.0, 0.8, 3.0), 8.0

    def lam_part(x: float, span: float) -> float:
        return _quad(lambda lam: lam**x * np.exp(-lam * span)
                     * stats.gamma.pdf(lam, model.r, scale=1 / model.alpha), 0.0, np.inf)

    def p_part(power_p: float, power_q: float) -> float:
        return _quad(lambda p: p**power_p * (1 - p) ** power_q
                     * stats.beta.pdf(p, model.a, model.b), 0.0, 1.0)

    for x, t_x, big_t in ((0.0, 0.0, 10.0), (3.0, 6.0, 12.0), (1.0, 1.0, 20.0), (7.0, 19, 20)):
        alive = p_part(0, x) * lam_part(x, big_t)
        gone = p_part(1, x - 1) * lam_part(x, t_x) if x > 0 else 0.0
        alive_silent = p_part(0, x) * lam_part(x, big_t + t)
        assert float(bgnbd_p_alive(model, x, t_x, big_t)) == pytest.approx(
            alive / (alive + gone), rel=1e-7)
        assert float(bgnbd_p_no_orders(model, t, x, t_x, big_t)) == pytest.approx(
            (gone + alive_silent) / (alive + gone), rel=1e-7)
