"""The flat fast paths (`record_outcome`, `assess_prepared`, the scorer, `HistoryBook`) give
bit for bit what the plain formulas give, over thousands of random histories.

The references below are the update and the score as they were written before the fast
paths (helpers, keywords, `max`/`min` builtins, `decay_factor` per factor): the simulator's
rows must not move by one bit when the scalar valuation is restructured for speed.
Histories are drawn field by field, not only through updates, so that late reports,
clock skew, newcomers with failures and every tier branch all occur.
"""

from __future__ import annotations

import dataclasses
import math
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np

from dispatch.model import FailureCause, Tier
from simulator.histories import HistoryBook
from valuation.history import (
    CustomerHistory,
    decay_factor,
    failure_severity,
    record_cancelled,
    record_completed,
    record_failed,
)
from valuation.params import WEEK_S, ValuationParams, failure_hazard
from valuation.score import LN2, Prepared, assess, assess_prepared
from valuation.scorer import make_scorer

N = 4000
CAUSES = list(FailureCause)


def _reference_record(h: CustomerHistory, at_s: float, params: ValuationParams, completed: int,
                      failed: int, fare: float, severity: float) -> CustomerHistory:
    if h.orders == 0:
        keep_l, keep_s, w_l, w_s, repeat, first_at, last_at = 1.0, 1.0, 1.0, 1.0, 0.0, at_s, at_s
    else:
        gap_s = at_s - h.last_event_at
        long_f = decay_factor(abs(gap_s), params.value_half_life_weeks)
        short_f = decay_factor(abs(gap_s), params.failure_half_life_weeks)
        if gap_s >= 0:
            keep_l, keep_s, w_l, w_s = long_f, short_f, 1.0, 1.0
            repeat, first_at, last_at = h.repeat_orders * long_f + 1.0, h.first_seen_at, at_s
        else:
            keep_l, keep_s, w_l, w_s = 1.0, 1.0, long_f, short_f
            repeat_at = max(at_s, h.first_seen_at)
            repeat = h.repeat_orders + decay_factor(h.last_event_at - repeat_at,
                                                    params.value_half_life_weeks)
            first_at, last_at = min(h.first_seen_at, at_s), h.last_event_at
    last_failed_at = h.last_failed_at
    if failed:
        last_failed_at = at_s if h.failed == 0 else max(last_failed_at, at_s)
    return CustomerHistory(
        orders=h.orders + 1, completed=h.completed + completed, failed=h.failed + failed,
        cancelled=h.cancelled + (1 - completed - failed), first_seen_at=first_at,
        last_event_at=last_at, last_failed_at=last_failed_at, repeat_orders=repeat,
        fare_sum=h.fare_sum * keep_l + fare * w_l * completed,
        fare_count=h.fare_count * keep_l + w_l * completed,
        phi=h.phi * keep_s + severity * w_s,
        recent_failures=h.recent_failures * keep_s + w_s * failed)


def _reference_assess(h: CustomerHistory, now_s: float, params: ValuationParams,
                      vip: bool) -> tuple[Any, ...]:
    since_event_w = max(now_s - h.last_event_at, 0.0) / WEEK_S
    long_decay = 2.0 ** (-since_event_w / params.value_half_life_weeks)
    short_decay = 2.0 ** (-since_event_w / params.failure_half_life_weeks)
    x = h.repeat_orders * long_decay
    rate = LN2 / params.value_half_life_weeks
    tenure_w = max(now_s - h.first_seen_at, 0.0) / WEEK_S if h.orders > 0 else 0.0
    age = -math.expm1(-rate * tenure_w) / rate
    fare = params.gg_p * (params.gg_gamma + h.fare_sum * long_decay) / (
        params.gg_p * (h.fare_count * long_decay) + params.gg_q - 1.0)
    lam = (params.r + x) / (params.alpha + age)
    p = params.a / (params.a + params.b + x)
    p_now = p if h.orders > 0 else 0.0
    trips = lam * params.horizon_weeks
    exposure = trips * p
    survival = -math.expm1(-exposure) / exposure if exposure > 0 else 1.0
    value = fare * trips * survival
    phi = h.phi * short_decay
    newcomer = h.completed == 0
    kappa = -math.expm1(-failure_hazard(phi, h.completed, *params.hazard_ks))
    at_risk = value * (1.0 - p_now) * kappa
    if vip:
        head = params.max_head_start_s
    else:
        head = min(params.max_head_start_s, at_risk / params.value_per_s)
        head = max(head, params.effective_floor_s) if newcomer else head
    tier = (Tier.VIP if vip else Tier.AT_RISK if phi >= params.at_risk_phi else Tier.NEW
            if newcomer else Tier.REGULAR if lam >= params.regular_orders_per_week
            else Tier.OCCASIONAL)
    return value, p_now, kappa, at_risk, head, tier, lam


def _bits(values: tuple[Any, ...] | CustomerHistory) -> list[Any]:
    """Floats as their eight bytes (so -0.0 differs from 0.0), everything else as is."""
    items = dataclasses.astuple(values) if isinstance(values, CustomerHistory) else values
    return [struct.pack("<d", v) if isinstance(v, float) else (type(v), v) for v in items]


def _params(rng: np.random.Generator) -> ValuationParams:
    return ValuationParams(
        value_half_life_weeks=float(rng.choice([52.0, rng.uniform(0.5, 200.0)])),
        failure_half_life_weeks=float(rng.choice([2.0, rng.uniform(0.1, 20.0)])),
        k_prior_trips=float(rng.choice([0.0, 0.05, rng.uniform(0.0, 3.0)])),
        first_order_floor_s=float(rng.choice([0.0, 180.0, 600.0])),
        max_head_start_s=float(rng.choice([0.0, 300.0])),
        value_per_s=float(rng.uniform(0.01, 2.0)), at_risk_phi=float(rng.uniform(0.0, 2.0)),
        regular_orders_per_week=float(rng.uniform(0.0, 2.0)))


def _histories(rng: np.random.Generator) -> Iterator[tuple[CustomerHistory, float]]:
    """Random histories, each with a time near its last event (before it, at it or after)."""
    for _ in range(N):
        orders = int(rng.choice([0, 1, 2, int(rng.integers(3, 300))]))
        completed = int(rng.integers(0, orders + 1)) if orders else 0
        failed = int(rng.integers(0, orders - completed + 1)) if orders else 0
        first = float(rng.uniform(0.0, 1e8))
        last = first + float(rng.choice([0.0, rng.exponential(5 * WEEK_S)]))
        h = CustomerHistory(
            orders, completed, failed, orders - completed - failed, first, last,
            float(rng.uniform(first, last)), float(rng.exponential(5.0)) if orders > 1 else 0.0,
            float(rng.exponential(300.0)), float(rng.exponential(20.0)),
            float(rng.exponential(0.6)), float(rng.exponential(0.6)))
        shift = rng.choice([0.0, -0.0, rng.normal(0.0, 3 * WEEK_S), -(last - first) - 1.0])
        yield h, last + float(shift)


def test_record_outcome_is_the_plain_update_bit_for_bit() -> None:
    """record_* and the book's updates, in order or late, as the reference builds them."""
    rng = np.random.default_rng(20261202)
    for index, (h, at_s) in enumerate(_histories(rng)):
        params = _params(rng) if index % 7 else ValuationParams()
        fare, late = float(rng.uniform(0.0, 80.0)), bool(rng.random() < 0.3)
        cause = CAUSES[index % len(CAUSES)]
        severity = params.severity_very_late if late else 0.0
        assert _bits(record_completed(h, at_s, fare, late, params)) == _bits(
            _reference_record(h, at_s, params, 1, 0, fare, severity))
        failed = _reference_record(h, at_s, params, 0, 1, 0.0, failure_severity(cause, params))
        assert _bits(record_failed(h, at_s, cause, params)) == _bits(failed)
        assert _bits(record_cancelled(h, at_s, params)) == _bits(
            _reference_record(h, at_s, params, 0, 0, 0.0, 0.0))
        book = HistoryBook(ValuationParams())
        book.params = params  # the set-up swaps in calibrated params after construction
        book.histories["c"] = h
        book.failed("c", at_s, cause)
        assert _bits(book.histories["c"]) == _bits(failed)
        book.completed("new", at_s, fare)
        assert _bits(book.histories["new"]) == _bits(
            _reference_record(CustomerHistory(), at_s, params, 1, 0, fare, 0.0))


def test_assess_and_the_scorer_are_the_plain_formulas_bit_for_bit() -> None:
    """assess, assess_prepared and the scorer's numbers, every tier branch, as the reference."""
    rng = np.random.default_rng(7)
    tiers: set[Tier] = set()
    for index, (h, now_s) in enumerate(_histories(rng)):
        params = _params(rng) if index % 5 else ValuationParams()
        vip = bool(rng.random() < 0.1)
        expected = _reference_assess(h, now_s, params, vip)
        tiers.add(expected[5])
        assert _bits(assess(h, now_s, params, vip)) == _bits(expected)
        assert _bits(assess_prepared(h, now_s, vip, Prepared(params))) == _bits(expected)
        scorer = make_scorer({"c": h}.get, params, frozenset({"c"} if vip else ()), explain=False)
        got = scorer("c", now_s)
        value, p_now, kappa, at_risk, head, tier, _ = expected
        leave_rise = (p_now + (1.0 - p_now) * kappa) - p_now
        assert _bits((got.value, got.value_at_risk, got.head_start_s, got.leave_rise)) == _bits(
            (value, at_risk, head, leave_rise))
        assert got.tier is tier and got.first_order is (h.completed == 0)
    assert tiers == set(Tier)


def test_decay_factor_is_the_plain_formula_bit_for_bit() -> None:
    """The decay both the update and `decay_factor` use, skew, zeros and ints included."""
    rng = np.random.default_rng(3)
    elapsed = [0.0, -0.0, 1.0, -1.0, 0, 7, -7, *rng.normal(0.0, 1e7, N).tolist(),
               *rng.exponential(WEEK_S, N).tolist()]
    for e in elapsed:
        for half_life_weeks in (52.0, 2.0, float(rng.uniform(0.01, 500.0))):
            plain = math.pow(2.0, -max(e, 0.0) / (half_life_weeks * WEEK_S))
            assert _bits((decay_factor(e, half_life_weeks),)) == _bits((plain,))
