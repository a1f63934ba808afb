"""Replay of a log equals folding the scalar history updates, customer by customer."""

from __future__ import annotations

import numpy as np
import pytest

from dispatch.model import FailureCause
from valuation.history import new_history, record_cancelled, record_completed, record_failed
from valuation.orderlog import CANCELLED, COMPLETED, FAILED, OrderLog
from valuation.params import DEFAULT_PARAMS, ValuationParams
from valuation.replay import replay
from valuation.score import score
from valuation.synthetic import Population, draw_order_log


def _mixed_log() -> tuple[OrderLog, ValuationParams]:
    params = DEFAULT_PARAMS
    log = draw_order_log(params, Population(300, fail_prob=0.3), np.random.default_rng(5))
    outcome = log.outcome.copy()
    outcome[::7] = CANCELLED  # exercise every outcome
    severity = np.where(outcome == CANCELLED, 0.0, log.severity)
    log = OrderLog(log.customer, log.at_s, outcome, np.where(outcome == COMPLETED, log.fare, 0.0),
                    severity, log.n_customers)
    return log, params


def test_final_states_equal_scalar_updates() -> None:
    """Every customer's replayed history equals record_* applied to their orders in turn."""
    log, params = _mixed_log()
    _, final = replay(log, params)
    histories = [new_history() for _ in range(log.n_customers)]
    for c, at, out, fare in zip(log.customer, log.at_s, log.outcome, log.fare, strict=True):
        h = histories[c]
        if out == COMPLETED:
            histories[c] = record_completed(h, float(at), float(fare))
        elif out == FAILED:
            histories[c] = record_failed(h, float(at), FailureCause.NO_CAR)
        else:
            histories[c] = record_cancelled(h, float(at))
    for c, h in enumerate(histories):
        row = final.row(c)
        assert (row.orders, row.completed, row.failed, row.cancelled) == (
            h.orders, h.completed, h.failed, h.cancelled)
        for name in ("first_seen_at", "last_event_at", "repeat_orders", "fare_sum", "phi",
                     "fare_count", "recent_failures"):
            assert getattr(row, name) == pytest.approx(getattr(h, name), rel=1e-12, abs=1e-12)
        if h.failed:
            assert row.last_failed_at == h.last_failed_at


def test_row_states_are_what_the_scorer_saw() -> None:
    """Before each order, the row state (completed trips included) equals the scalar history
    scored at that moment."""
    log, params = _mixed_log()
    rows, _ = replay(log, params)
    h, customer = new_history(), -1
    for i in range(len(log.at_s)):
        if log.customer[i] != customer:
            h, customer = new_history(), int(log.customer[i])
        at = float(log.at_s[i])
        seen = score(h, at, params)
        assert rows.newcomer[i] == (h.completed == 0)
        assert rows.completed[i] == h.completed
        assert rows.is_repeat[i] == (h.orders > 0)
        lam = (params.r + rows.repeat_orders[i]) / (params.alpha + rows.tenure_weeks[i])
        assert lam == pytest.approx(seen.orders_per_week, rel=1e-9)
        if log.outcome[i] == COMPLETED:
            h = record_completed(h, at, float(log.fare[i]))
        elif log.outcome[i] == FAILED:
            h = record_failed(h, at, FailureCause.NO_CAR)
        else:
            h = record_cancelled(h, at)
