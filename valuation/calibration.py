"""Held-out calibration: does the fitted model predict what customers did next?

The log is split at a cutoff. Parameters are fitted on the orders before it;
each customer's BG/NBD forecast for the held-out span is compared with what they
actually did, by decile of predicted orders. A well-calibrated model has
predicted and observed columns close in every decile, not just on average.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from valuation.bgnbd import BgNbd, bgnbd_conditional_expected_orders, bgnbd_p_no_orders
from valuation.orderlog import OrderLog, rfm_summary
from valuation.params import WEEK_S


@dataclass(frozen=True, slots=True)
class CalibrationRow:
    decile: int  # 1 = customers with the fewest predicted orders
    customers: int
    predicted_orders: float  # mean per customer over the held-out span
    observed_orders: float
    predicted_departed: float  # share expected to place no order in the held-out span
    observed_departed: float


def calibration_table(
    log: OrderLog, model: BgNbd, cutoff_at: float, end_at: float, bins: int = 10
) -> list[CalibrationRow]:
    """Customers first seen before the cutoff, forecast from their history up to it."""
    if not cutoff_at < end_at:
        raise ValueError("cutoff_at must be before end_at")
    rfm = rfm_summary(log, cutoff_at)
    seen = rfm.T > 0
    span_w = (end_at - cutoff_at) / WEEK_S
    predicted = bgnbd_conditional_expected_orders(model, span_w, rfm.x, rfm.t_x, rfm.T)[seen]
    p_silent = bgnbd_p_no_orders(model, span_w, rfm.x, rfm.t_x, rfm.T)[seen]
    held_out = (log.at_s > cutoff_at) & (log.at_s <= end_at)
    observed = np.bincount(log.customer[held_out], minlength=log.n_customers)[seen]
    order = np.argsort(predicted, kind="stable")
    rows = []
    for decile, idx in enumerate(np.array_split(order, bins), start=1):
        if len(idx) == 0:
            continue
        rows.append(CalibrationRow(
            decile=decile,
            customers=len(idx),
            predicted_orders=float(np.mean(predicted[idx])),
            observed_orders=float(np.mean(observed[idx])),
            predicted_departed=float(np.mean(p_silent[idx])),
            observed_departed=float(np.mean(observed[idx] == 0)),
        ))
    return rows


def format_table(rows: list[CalibrationRow]) -> str:
    """Plain text for an analyst's terminal or a report."""
    lines = ["decile customers pred_orders obs_orders pred_departed obs_departed"]
    lines += [
        f"{r.decile:6d} {r.customers:9d} {r.predicted_orders:11.3f} {r.observed_orders:10.3f} "
        f"{r.predicted_departed:13.3f} {r.observed_departed:12.3f}"
        for r in rows
    ]
    return "\n".join(lines)
