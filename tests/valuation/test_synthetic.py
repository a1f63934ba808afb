"""The synthetic population follows the generative story the fits assume."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from valuation.orderlog import FAILED
from valuation.params import ValuationParams
from valuation.synthetic import Population, draw_order_log


def test_same_seed_same_log() -> None:
    """A seeded Generator reproduces the log exactly; another seed does not."""
    params, pop = ValuationParams(), Population(2_000, fail_prob=0.2)
    one = draw_order_log(params, pop, np.random.default_rng(3))
    two = draw_order_log(params, pop, np.random.default_rng(3))
    other = draw_order_log(params, pop, np.random.default_rng(4))
    assert np.array_equal(one.at_s, two.at_s) and np.array_equal(one.outcome, two.outcome)
    assert not np.array_equal(one.at_s, other.at_s)


def test_failures_fares_and_orders_match_the_parameters() -> None:
    """Failure share, mean fare and first-year orders per customer are as configured."""
    params = ValuationParams()
    pop = Population(40_000, horizon_weeks=10.0, acquisition_weeks=1e-9, fail_prob=0.2)
    log = draw_order_log(params, pop, np.random.default_rng(5))
    assert np.mean(log.outcome == FAILED) == pytest.approx(0.2, abs=0.01)
    fares = log.fare[log.outcome != FAILED]
    assert fares.mean() == pytest.approx(params.population_mean_fare, rel=0.05)
    assert np.all(log.severity[log.outcome == FAILED] == params.severity_no_car)
    assert len(np.unique(log.customer)) == pop.n_customers  # everyone orders once at birth


def test_no_failures_and_k_zero_give_textbook_bgnbd_counts() -> None:
    """Without failures, orders per customer in t weeks match the BG/NBD E[X(t)] (+1 first)."""
    from valuation.bgnbd import BgNbd, bgnbd_expected_orders

    params = ValuationParams()
    pop = Population(40_000, horizon_weeks=20.0, acquisition_weeks=1e-9)
    log = draw_order_log(params, pop, np.random.default_rng(6))
    repeats = len(log.at_s) / pop.n_customers - 1.0
    expected = float(bgnbd_expected_orders(BgNbd(0.5, 2.0, 0.8, 3.0), 20.0))
    assert repeats == pytest.approx(expected, rel=0.04)


def test_prior_trips_keep_failed_customers_ordering() -> None:
    """Softening changes nothing without failures, and with them keeps more customers ordering."""
    pop, hard = Population(20_000, fail_prob=0.0), ValuationParams(k0=1.0)
    soft = dataclasses.replace(hard, k_prior_trips=0.5)
    plain = draw_order_log(hard, pop, np.random.default_rng(7))
    assert np.array_equal(plain.at_s, draw_order_log(soft, pop, np.random.default_rng(7)).at_s)
    failing = dataclasses.replace(pop, fail_prob=0.3)
    hard_log = draw_order_log(hard, failing, np.random.default_rng(7))
    soft_log = draw_order_log(soft, failing, np.random.default_rng(7))
    assert len(soft_log.at_s) > 1.1 * len(hard_log.at_s)


def test_empty_population_gives_empty_log() -> None:
    """Zero customers is a valid, empty log."""
    log = draw_order_log(ValuationParams(), Population(0), np.random.default_rng(0))
    assert len(log.at_s) == 0 and log.n_customers == 0
