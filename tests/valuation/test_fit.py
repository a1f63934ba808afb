"""Fits recover the parameters that generated synthetic data, deterministically.

Tolerances (relative, fixed seeds): BG/NBD r and alpha 10%, a and b 15%;
Gamma-Gamma p, q, gamma 15% and the mean fare 3%.
"""

from __future__ import annotations

import numpy as np
import pytest

from valuation.fit import (
    fit_bgnbd,
    fit_gamma_gamma,
    fit_params,
    fit_value_per_s,
    weighted_percentile,
)
from valuation.orderlog import OrderLog, rfm_summary
from valuation.params import DEFAULT_PARAMS, WEEK_S, ValuationParams
from valuation.replay import replay
from valuation.score import score_many
from valuation.synthetic import Population, draw_order_log

END_AT = 78 * WEEK_S
UNDECAYED = ValuationParams(value_half_life_weeks=1e6)  # the textbook, stationary model


@pytest.fixture(scope="module")
def plain_log() -> OrderLog:
    return draw_order_log(UNDECAYED, Population(20_000), np.random.default_rng(11))


@pytest.fixture(scope="module")
def failing_log() -> OrderLog:
    return draw_order_log(UNDECAYED, Population(50_000, fail_prob=0.25),
                          np.random.default_rng(12))


def test_bgnbd_recovers_population(plain_log: OrderLog) -> None:
    """r, alpha, a, b come back from 20,000 customers drawn from the BG/NBD."""
    fitted = fit_bgnbd(rfm_summary(plain_log, END_AT))
    assert fitted.r == pytest.approx(0.5, rel=0.10)
    assert fitted.alpha == pytest.approx(2.0, rel=0.10)
    assert fitted.a == pytest.approx(0.8, rel=0.15)
    assert fitted.b == pytest.approx(3.0, rel=0.15)


def test_gamma_gamma_recovers_fares(plain_log: OrderLog) -> None:
    """p, q, gamma and the population mean fare come back from the same customers."""
    fitted = fit_gamma_gamma(rfm_summary(plain_log, END_AT))
    assert fitted.p == pytest.approx(6.0, rel=0.15)
    assert fitted.q == pytest.approx(4.0, rel=0.15)
    assert fitted.gamma == pytest.approx(7.5, rel=0.15)
    assert fitted.mean_fare == pytest.approx(15.0, rel=0.03)


def test_weighted_percentile_counts_weight_not_rows() -> None:
    """A heavy caller moves the percentile as much as many light ones."""
    values, weights = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 1.0, 1.0, 97.0])
    assert weighted_percentile(values, weights, 50.0) == 4.0
    assert weighted_percentile(values, np.ones(4), 50.0) == 2.0
    assert weighted_percentile(values, np.ones(4), 100.0) == 4.0


def test_value_per_s_puts_the_percentile_at_the_cap(failing_log: OrderLog) -> None:
    """With the fitted c, callers holding 5% of the call weight get the full head start."""
    _, final = replay(failing_log, DEFAULT_PARAMS)
    seen = final.orders > 0
    scores = score_many(final, END_AT, DEFAULT_PARAMS)
    var, rate = scores.value_at_risk[seen], scores.orders_per_week[seen]
    c = fit_value_per_s(var, rate, DEFAULT_PARAMS)
    at_cap = var / c >= DEFAULT_PARAMS.max_head_start_s
    assert rate[at_cap].sum() / rate.sum() == pytest.approx(0.05, abs=0.005)
    with pytest.raises(ValueError):
        fit_value_per_s(np.zeros(3), np.ones(3), DEFAULT_PARAMS)


def test_fit_params_is_deterministic_and_round_trips(plain_log: OrderLog) -> None:
    """Two fits of the same log give byte-equal JSON, which loads back to the same params."""
    first = fit_params(plain_log, END_AT, DEFAULT_PARAMS)
    second = fit_params(plain_log, END_AT, DEFAULT_PARAMS)
    assert first.to_json() == second.to_json()
    assert ValuationParams.from_json(first.to_json()) == first
    kept = ("max_head_start_s", "first_order_floor_s", "horizon_weeks", "at_risk_phi")
    assert all(getattr(first, name) == getattr(DEFAULT_PARAMS, name) for name in kept)
