"""What a run measured: one plain row per order, summaries computed afterwards.

Ciw's lesson: the engine only appends rows; analysis happens outside it, so
the hot loop stays cheap and any new figure is a function of the rows. Only
orders placed inside the measured window (after the warm-up) count, and
customers count as lost when their departure falls inside it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np

from simulator.population import FAILURE, SEGMENTS, Customer

COMPLETED = "completed"
ABANDONED = "abandoned"
EXPIRED = "expired"
REFUSED_NO_CAR = "refused_no_car"
REFUSED_BY_POLICY = "refused_by_policy"
FAILURES = (ABANDONED, EXPIRED, REFUSED_NO_CAR, REFUSED_BY_POLICY)
CLASSES = ("vip", "other")
DAY_S, HOUR_S = 86_400.0, 3_600.0


class OrderRow(NamedTuple):
    requested_at: float
    customer_index: int
    segment: str
    vip: bool
    first_order: bool
    retry: bool
    outcome: str
    queued: bool
    queue_wait_s: float  # until a car was assigned, or until the order failed
    pickup_wait_s: float  # until pickup; nan unless completed
    fare: float


@dataclass(frozen=True, slots=True)
class Window:
    start_at: float
    end_at: float

    def __contains__(self, at: float) -> bool:
        return self.start_at <= at < self.end_at


@dataclass(frozen=True, slots=True)
class LostCustomers:
    """Customers who left for good during the measured window.

    The share is the churn rate firms report: customers lost during the window
    over `base`, the customers active at its start (newcomers who joined and
    left inside the window count as lost too). A group that has no one at the
    start, the `new` segment, is measured over everyone of it at risk instead
    (active at the start plus those who joined); `base_kind` says which.
    """

    active_at_start: int
    joined_during: int
    lost_to_failures: int
    lost_to_base_churn: int
    base_kind: str = "active at start"

    @property
    def at_risk(self) -> int:
        return self.active_at_start + self.joined_during

    @property
    def base(self) -> int:
        return self.active_at_start if self.base_kind == "active at start" else self.at_risk

    @property
    def lost(self) -> int:
        return self.lost_to_failures + self.lost_to_base_churn

    @property
    def share(self) -> float:
        return self.lost / self.base if self.base else 0.0

    @property
    def share_to_failures(self) -> float:
        return self.lost_to_failures / self.base if self.base else 0.0


@dataclass(frozen=True, slots=True)
class OrderSummary:
    placed: int
    completed: int
    queued: int
    failed_by_cause: dict[str, int]
    mean_queue_wait_s: float
    wait_p50_s: float
    wait_p90_s: float
    wait_p99_s: float

    @property
    def failed(self) -> int:
        return sum(self.failed_by_cause.values())

    def rate(self, outcome: str) -> float:
        return self.failed_by_cause.get(outcome, 0) / self.placed if self.placed else 0.0


@dataclass(frozen=True, slots=True)
class DayRow:
    day: int
    placed: int
    completed: int
    failed: int
    revenue: float
    lost_customers: int


@dataclass(frozen=True, slots=True)
class HourRow:
    """One hour of the day over the measured days: per-day counts and time averages."""

    hour: int
    placed: float  # orders per day placed in this hour
    failed: float  # of them, failed per day
    queue_length: float  # orders waiting for a car, time-averaged
    cars_on_duty: float

    @property
    def failure_rate(self) -> float:
        return self.failed / self.placed if self.placed else 0.0


@dataclass(frozen=True, slots=True)
class SimulationResult:
    scenario: str
    policy: str
    seed: int
    window: Window
    lost: LostCustomers
    lost_by_segment: dict[str, LostCustomers]
    orders: OrderSummary
    orders_by_segment: dict[str, OrderSummary]
    orders_by_class: dict[str, OrderSummary]
    first_orders: int
    first_order_failures: int
    lost_future_revenue: float
    revenue: float
    utilisation: float
    days: list[DayRow] = field(default_factory=list)
    hours: list[HourRow] = field(default_factory=list)

    @property
    def peak_hour_failure_rate(self) -> float:
        """The failure rate in the busiest hour of the day (most orders placed), where a fleet
        is sized or not; the worst hour by rate would be a quiet hour's one unlucky order."""
        if not self.hours:
            return math.nan
        return max(self.hours, key=lambda hour: hour.placed).failure_rate

    @property
    def first_order_failure_rate(self) -> float:
        return self.first_order_failures / self.first_orders if self.first_orders else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data, derived shares included."""
        body = asdict(self)
        body["lost"].update(share=self.lost.share, share_to_failures=self.lost.share_to_failures,
                            base=self.lost.base)
        for name, lost in self.lost_by_segment.items():
            body["lost_by_segment"][name].update(share=lost.share, base=lost.base,
                                                  share_to_failures=lost.share_to_failures)
        body["first_order_failure_rate"] = self.first_order_failure_rate
        return body


def summarise_orders(rows: list[OrderRow]) -> OrderSummary:
    failed = {outcome: 0 for outcome in FAILURES}
    completed = queued = 0
    queue_wait = 0.0
    waits: list[float] = []
    for row in rows:
        queued += row.queued
        queue_wait += row.queue_wait_s
        if row.outcome == COMPLETED:
            completed += 1
            waits.append(row.pickup_wait_s)
        else:
            failed[row.outcome] += 1
    p50, p90, p99 = (np.percentile(waits, [50, 90, 99]).tolist() if waits
                     else [math.nan] * 3)
    return OrderSummary(placed=len(rows), completed=completed, queued=queued,
                        failed_by_cause=failed,
                        mean_queue_wait_s=queue_wait / len(rows) if rows else math.nan,
                        wait_p50_s=p50, wait_p90_s=p90, wait_p99_s=p99)


def lost_customers(
    customers: list[Customer], window: Window, over: str = "active at start"
) -> LostCustomers:
    """Departures inside the window; `over` is the share's base ("active at start" or "at risk")."""
    at_risk = [c for c in customers
               if c.joined_at < window.end_at and c.depart_at >= window.start_at]
    at_start = sum(c.joined_at < window.start_at for c in at_risk)
    lost = [c for c in at_risk if c.depart_at in window]
    to_failures = sum(c.depart_cause == FAILURE for c in lost)
    return LostCustomers(at_start, len(at_risk) - at_start, to_failures,
                         len(lost) - to_failures, over)


def lost_future_revenue(customers: list[Customer], window: Window, mean_fare: float,
                        base_rate_per_s: float, horizon_s: float) -> float:
    """Expected revenue over `horizon_s` of the customers a failure drove away.

    Each would have kept calling at their own rate until base churn took them:
    rate * fare * E[min(horizon, base lifetime)].
    """
    if base_rate_per_s > 0:
        expected_life_s = -math.expm1(-base_rate_per_s * horizon_s) / base_rate_per_s
    else:
        expected_life_s = horizon_s
    return sum(c.rate_per_s * mean_fare * expected_life_s for c in customers
               if c.depart_cause == FAILURE and c.depart_at in window)


def daily_series(rows: list[OrderRow], customers: list[Customer], window: Window) -> list[DayRow]:
    days = max(1, math.ceil((window.end_at - window.start_at) / 86_400.0 - 1e-9))
    placed, completed, failed, lost = [0] * days, [0] * days, [0] * days, [0] * days
    revenue = [0.0] * days
    for row in rows:
        day = min(int((row.requested_at - window.start_at) // 86_400.0), days - 1)
        placed[day] += 1
        if row.outcome == COMPLETED:
            completed[day] += 1
            revenue[day] += row.fare
        else:
            failed[day] += 1
    for customer in customers:
        if customer.depart_at in window:
            lost[min(int((customer.depart_at - window.start_at) // 86_400.0), days - 1)] += 1
    return [DayRow(d, placed[d], completed[d], failed[d], revenue[d], lost[d])
            for d in range(days)]


def hourly_series(rows: list[OrderRow], window: Window,
                  cars_on_duty: list[float]) -> list[HourRow]:
    """Orders, failures and the queue by hour of day: where in the day the firm is short."""
    days = max((window.end_at - window.start_at) / DAY_S, 1e-9)
    placed, failed, queue_s = [0] * 24, [0] * 24, [0.0] * 24
    for row in rows:
        hour = int(row.requested_at % DAY_S // HOUR_S)
        placed[hour] += 1
        failed[hour] += row.outcome != COMPLETED
        start, end = row.requested_at, row.requested_at + row.queue_wait_s
        while start < end:  # a wait running over the hour counts in both hours
            boundary = min(end, start - start % HOUR_S + HOUR_S)
            queue_s[int(start % DAY_S // HOUR_S)] += boundary - start
            start = boundary
    return [HourRow(h, placed[h] / days, failed[h] / days, queue_s[h] / (days * HOUR_S),
                    cars_on_duty[h]) for h in range(24)]


def group_rows(rows: list[OrderRow]) -> tuple[dict[str, list[OrderRow]], dict[str, list[OrderRow]]]:
    by_segment: dict[str, list[OrderRow]] = {name: [] for name in SEGMENTS}
    by_class: dict[str, list[OrderRow]] = {name: [] for name in CLASSES}
    for row in rows:
        by_segment[row.segment].append(row)
        by_class["vip" if row.vip else "other"].append(row)
    return by_segment, by_class
