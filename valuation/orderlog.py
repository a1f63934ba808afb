"""The order log as arrays, and its replay into per-customer aggregates.

Fitting needs two views of the same log: the classic RFM summary (x, t_x, T)
for the BG/NBD and Gamma-Gamma likelihoods, and the state each customer was in
just before every outcome, for the retention fit. The replay applies exactly the
updates of `valuation.history`, vectorised across customers (one step per order
rank), so the fit sees what the live scorer would have seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from dispatch.model import FailureCause
from valuation.history import failure_severity
from valuation.params import DEFAULT_PARAMS, WEEK_S, ValuationParams

COMPLETED, FAILED, CANCELLED = 0, 1, 2
"""Outcome codes in `OrderLog.outcome`."""


@dataclass(frozen=True, slots=True)
class OrderRecord:
    """One finished order as a shell reports it; `cause` only for failures."""

    customer_id: str
    at_s: float
    outcome: int
    fare: float = 0.0
    cause: FailureCause | None = None
    very_late: bool = False


@dataclass(frozen=True, slots=True)
class OrderLog:
    """Finished orders, sorted by (customer, time); customers are indexed 0..n_customers-1."""

    customer: NDArray[np.int64]
    at_s: NDArray[np.float64]
    outcome: NDArray[np.int8]
    fare: NDArray[np.float64]
    severity: NDArray[np.float64]  # failure severity; very late trips too; 0 otherwise
    n_customers: int

    def __post_init__(self) -> None:
        columns = (self.customer, self.at_s, self.outcome, self.fare, self.severity)
        if len({len(column) for column in columns}) != 1:
            raise ValueError("order log columns differ in length")

    @classmethod
    def from_arrays(
        cls,
        customer: NDArray[np.int64],
        at_s: NDArray[np.float64],
        outcome: NDArray[np.int8],
        fare: NDArray[np.float64],
        severity: NDArray[np.float64],
        n_customers: int | None = None,
    ) -> OrderLog:
        order = np.lexsort((at_s, customer))
        count = int(customer.max()) + 1 if n_customers is None and len(customer) else 0
        return cls(
            customer=customer[order], at_s=at_s[order], outcome=outcome[order],
            fare=fare[order], severity=severity[order],
            n_customers=count if n_customers is None else n_customers,
        )

    def until(self, end_at: float) -> OrderLog:
        """The orders finished by `end_at`, so a fit never peeks past its own cutoff."""
        keep = self.at_s <= end_at
        return OrderLog(self.customer[keep], self.at_s[keep], self.outcome[keep],
                        self.fare[keep], self.severity[keep], self.n_customers)

    @property
    def end_at(self) -> float:
        return float(self.at_s.max()) if len(self.at_s) else 0.0


def order_log_from_records(
    records: Iterable[OrderRecord], params: ValuationParams = DEFAULT_PARAMS
) -> tuple[OrderLog, list[str]]:
    """Builds the arrays and returns the customer ids in index order."""
    index: dict[str, int] = {}
    rows: list[tuple[int, float, int, float, float]] = []
    for rec in records:
        code = index.setdefault(rec.customer_id, len(index))
        if rec.outcome == FAILED:
            if rec.cause is None:
                raise ValueError(f"failed order of {rec.customer_id!r} has no cause")
            weight = failure_severity(rec.cause, params)
        else:
            weight = params.severity_very_late if rec.very_late else 0.0
        rows.append((code, rec.at_s, rec.outcome, rec.fare, weight))
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    log = OrderLog.from_arrays(
        np.array(cols[0], dtype=np.int64), np.array(cols[1], dtype=np.float64),
        np.array(cols[2], dtype=np.int8), np.array(cols[3], dtype=np.float64),
        np.array(cols[4], dtype=np.float64), n_customers=len(index),
    )
    return log, list(index)


@dataclass(frozen=True, slots=True)
class Rfm:
    """Per-customer summary in weeks; customers without orders have T = 0 and x = 0."""

    x: NDArray[np.float64]
    t_x: NDArray[np.float64]
    T: NDArray[np.float64]
    trips: NDArray[np.float64]
    mean_fare: NDArray[np.float64]  # 0 where there is no completed trip


def rfm_summary(log: OrderLog, end_at: float) -> Rfm:
    """Undecayed (x, t_x, T) over orders of any outcome, and trips with fares, up to end_at."""
    keep = log.at_s <= end_at
    cust, at = log.customer[keep], log.at_s[keep]
    n = log.n_customers
    count = np.bincount(cust, minlength=n).astype(np.float64)
    first = np.full(n, np.inf)
    np.minimum.at(first, cust, at)
    last = np.full(n, -np.inf)
    np.maximum.at(last, cust, at)
    seen = count > 0
    served = keep & (log.outcome == COMPLETED)
    trips = np.bincount(log.customer[served], minlength=n).astype(np.float64)
    fare_sum = np.bincount(log.customer[served], weights=log.fare[served], minlength=n)
    return Rfm(
        x=np.where(seen, count - 1.0, 0.0),
        t_x=np.where(seen, last - first, 0.0) / WEEK_S,
        T=np.where(seen, end_at - first, 0.0) / WEEK_S,
        trips=trips,
        mean_fare=np.divide(fare_sum, trips, out=np.zeros(n), where=trips > 0),
    )
