"""Replays an order log through the history updates, for every customer at once.

The retention fit must see each customer exactly as the live scorer saw them at
the moment of each order, so the replay applies the in-order updates of
`valuation.history` (record_completed / record_failed / record_cancelled), one
order rank at a time across all customers; a test checks it against the scalar
updates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from valuation.history import HistoryArrays
from valuation.orderlog import CANCELLED, COMPLETED, FAILED, OrderLog
from valuation.params import WEEK_S, ValuationParams


@dataclass(frozen=True, slots=True)
class RowStates:
    """What the scorer knew just before each order of the log (same row order as the log)."""

    repeat_orders: NDArray[np.float64]  # decayed x before this order
    tenure_weeks: NDArray[np.float64]  # decayed age at this order
    phi: NDArray[np.float64]
    newcomer: NDArray[np.bool_]  # no completed trip before this order
    completed: NDArray[np.int64]  # completed trips before this order (plain count, no decay)
    is_repeat: NDArray[np.bool_]  # not the customer's first order


def _ranks(customer: NDArray[np.int64]) -> NDArray[np.int64]:
    """Position of each row among its customer's orders (the log is sorted by customer)."""
    idx = np.arange(len(customer))
    starts = np.ones(len(customer), dtype=bool)
    starts[1:] = customer[1:] != customer[:-1]
    group_start = np.maximum.accumulate(np.where(starts, idx, 0))
    ranks: NDArray[np.int64] = idx - group_start
    return ranks


def replay(log: OrderLog, params: ValuationParams) -> tuple[RowStates, HistoryArrays]:
    """Per-row states before each order, and every customer's history after the whole log."""
    n, rows = log.n_customers, len(log.at_s)
    state = HistoryArrays.zeros(n)
    out = RowStates(np.zeros(rows), np.zeros(rows), np.zeros(rows),
                    np.zeros(rows, dtype=bool), np.zeros(rows, dtype=np.int64),
                    np.zeros(rows, dtype=bool))
    ranks = _ranks(log.customer)
    by_rank = np.argsort(ranks, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(ranks))))
    for k in range(len(bounds) - 1):
        sel = by_rank[bounds[k]:bounds[k + 1]]
        _step(log, params, state, out, sel, first=k == 0)
    return out, state


def _step(log: OrderLog, params: ValuationParams, s: HistoryArrays, out: RowStates,
          sel: NDArray[np.int64], first: bool) -> None:
    """One order per customer in `sel`, in place: record the state, then apply the outcome."""
    c, at = log.customer[sel], log.at_s[sel]
    if first:
        s.first_seen_at[c] = at
        s.last_event_at[c] = at
    gap_w = (at - s.last_event_at[c]) / WEEK_S
    long_w = np.exp2(-gap_w / params.value_half_life_weeks)
    short_w = np.exp2(-gap_w / params.failure_half_life_weeks)
    rate = np.log(2.0) / params.value_half_life_weeks
    out.repeat_orders[sel] = s.repeat_orders[c] * long_w
    out.phi[sel] = s.phi[c] * short_w
    out.tenure_weeks[sel] = -np.expm1(-rate * (at - s.first_seen_at[c]) / WEEK_S) / rate
    out.newcomer[sel] = s.completed[c] == 0
    out.completed[sel] = s.completed[c]
    out.is_repeat[sel] = not first
    s.orders[c] += 1
    s.last_event_at[c] = at
    s.repeat_orders[c] = s.repeat_orders[c] * long_w + (0.0 if first else 1.0)
    s.fare_sum[c] *= long_w
    s.fare_count[c] *= long_w
    s.phi[c] = s.phi[c] * short_w + log.severity[sel]
    s.recent_failures[c] *= short_w
    outcome = log.outcome[sel]
    done, fail = outcome == COMPLETED, outcome == FAILED
    s.completed[c[done]] += 1
    s.fare_sum[c[done]] += log.fare[sel][done]
    s.fare_count[c[done]] += 1.0
    s.failed[c[fail]] += 1
    s.last_failed_at[c[fail]] = at[fail]
    s.recent_failures[c[fail]] += 1.0
    s.cancelled[c[outcome == CANCELLED]] += 1
