"""The catalogue of reported figures, and intervals that tolerate missing values.

One replication's `SimulationResult` is a single draw; the figures worth
reporting are means over replications with a Student t interval, and, for
comparisons, the replication-by-replication difference against a baseline
policy (common random numbers: replication r of every policy shares a seed).
Every figure is a flat, dotted metric key read from a `SimulationResult`, so
results.json, results.csv, the terminal table, the report and a DataFrame
all show the same numbers under the same names.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from simulator.metrics import CLASSES, FAILURES, OrderSummary, SimulationResult
from simulator.population import SEGMENTS
from simulator.stats import DEFAULT_CONFIDENCE, Estimate, mean_ci, paired_difference

Read = Callable[[SimulationResult], float]
DAY_SERIES = ("placed", "completed", "failed", "lost_customers", "revenue")
HOUR_SERIES = ("placed", "failed", "queue_length", "cars_on_duty")


@dataclass(frozen=True, slots=True)
class Metric:
    key: str
    label: str
    unit: str  # "share" (0-1), "count", "s", "money"
    read: Read


def _failure_rate(result: SimulationResult, segment: str | None) -> float:
    orders = result.orders if segment is None else result.orders_by_segment[segment]
    return orders.failed / orders.placed if orders.placed else math.nan


def _lost_metrics(segment: str | None) -> list[Metric]:
    def lost(result: SimulationResult) -> Any:
        return result.lost if segment is None else result.lost_by_segment[segment]

    key = "lost" if segment is None else f"lost.{segment}"
    who = "all customers" if segment is None else f"{segment} customers"
    return [
        Metric(f"{key}.share", f"lost, {who}", "share", lambda r: lost(r).share),
        Metric(f"{key}.share_to_failures", f"lost after failures, {who}", "share",
               lambda r: lost(r).share_to_failures),
        Metric(f"{key}.share_base", f"lost to base churn, {who}", "share",
               lambda r: lost(r).share - lost(r).share_to_failures),
        Metric(f"{key}.count", f"customers lost, {who}", "count", lambda r: float(lost(r).lost)),
        Metric(f"{key}.base", f"customers the share is over, {who}", "count",
               lambda r: float(lost(r).base)),
        Metric(f"{key}.at_risk", f"customers at risk (at start or joined), {who}", "count",
               lambda r: float(lost(r).at_risk)),
    ]


def _wait_metrics(segment: str | None) -> list[Metric]:
    def orders(result: SimulationResult) -> Any:
        return result.orders if segment is None else result.orders_by_segment[segment]

    key = "wait" if segment is None else f"wait.{segment}"
    who = "all" if segment is None else segment
    def percentile(level: int) -> Read:
        return lambda r: float(getattr(orders(r), f"wait_p{level}_s"))

    return [Metric(f"{key}.p{level}_s", f"pickup wait p{level}, {who}", "s", percentile(level))
            for level in (50, 90, 99)]


def _order_metrics(segment: str | None) -> list[Metric]:
    key = "orders" if segment is None else f"orders.{segment}"
    who = "all" if segment is None else segment
    return [Metric(f"{key}.failure_rate", f"failed orders share, {who}", "share",
                   lambda r: _failure_rate(r, segment))]


def _group(result: SimulationResult, group: str | None) -> OrderSummary:
    if group is None:
        return result.orders
    return result.orders_by_class[group] if group in CLASSES else result.orders_by_segment[group]


def _queue_metrics(group: str | None) -> list[Metric]:
    """P(wait), mean queue wait and abandonment: the call-centre figures, per segment and class."""
    key = "orders" if group is None else f"orders.{group}"
    who = "all" if group is None else group

    def share(count: Callable[[OrderSummary], int]) -> Read:
        return lambda r: count(_group(r, group)) / _group(r, group).placed \
            if _group(r, group).placed else math.nan

    return [Metric(f"{key}.p_wait", f"P(wait): orders that queued, {who}", "share",
                   share(lambda o: o.queued)),
            Metric(f"{key}.mean_queue_wait_s", f"mean queue wait per order, {who}", "s",
                   lambda r: _group(r, group).mean_queue_wait_s),
            Metric(f"{key}.abandonment", f"abandoned while waiting, {who}", "share",
                   share(lambda o: o.failed_by_cause.get("abandoned", 0)))]


def _failed_count(cause: str) -> Read:
    return lambda r: float(r.orders.failed_by_cause.get(cause, 0))


def _build_metrics() -> tuple[Metric, ...]:
    metrics: list[Metric] = []
    for segment in (None, *SEGMENTS):
        metrics += _lost_metrics(segment)
    metrics += [
        Metric("first_order_failure_rate", "first-order failure rate", "share",
               lambda r: r.first_order_failure_rate if r.first_orders else math.nan),
        Metric("lost_future_revenue", "lost future revenue", "money",
               lambda r: r.lost_future_revenue),
        Metric("orders.placed", "orders placed", "count", lambda r: float(r.orders.placed)),
        Metric("orders.completed", "orders completed", "count",
               lambda r: float(r.orders.completed)),
    ]
    metrics += [Metric(f"failed.{cause}", f"failed orders: {cause.replace('_', ' ')}", "count",
                       _failed_count(cause))
                for cause in FAILURES]
    for segment in (None, *SEGMENTS):
        metrics += _order_metrics(segment)
    for group in (None, *SEGMENTS, *CLASSES):
        metrics += _queue_metrics(group)
    metrics.append(Metric("orders.peak_hour_failure_rate", "failed orders share in the busiest hour",
                          "share", lambda r: r.peak_hour_failure_rate))
    for segment in (None, *SEGMENTS):
        metrics += _wait_metrics(segment)
    metrics += [
        Metric("revenue", "revenue", "money", lambda r: r.revenue),
        Metric("utilisation", "fleet utilisation", "share", lambda r: r.utilisation),
    ]
    return tuple(metrics)


METRICS: tuple[Metric, ...] = _build_metrics()
METRIC_BY_KEY: dict[str, Metric] = {metric.key: metric for metric in METRICS}


def estimate(values: Sequence[float], confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
    """Mean and interval over the replications where the figure exists.

    A segment with no completed order in a replication has no wait there
    (NaN), which is not a wait of zero: such replications are left out, and
    `n` says how many remained.
    """
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return Estimate(math.nan, math.nan, math.nan, math.nan, math.nan, 0, confidence)
    return mean_ci(finite, confidence)


def paired(treatment: Sequence[float], baseline: Sequence[float],
           confidence: float = DEFAULT_CONFIDENCE) -> Estimate:
    """Paired difference over the replications where both figures exist."""
    pairs = [(a, b) for a, b in zip(treatment, baseline, strict=True)
             if math.isfinite(a) and math.isfinite(b)]
    if not pairs:
        return Estimate(math.nan, math.nan, math.nan, math.nan, math.nan, 0, confidence)
    return paired_difference([a for a, _ in pairs], [b for _, b in pairs], confidence)


def metric_values(runs: Sequence[SimulationResult], key: str) -> list[float]:
    """One value per replication, in replication order."""
    read = METRIC_BY_KEY[key].read
    return [float(read(run)) for run in runs]


def day_values(runs: Sequence[SimulationResult], series: str) -> list[list[float]]:
    """Per day, one value per replication (replications share the horizon)."""
    days = min(len(run.days) for run in runs)
    return [[float(getattr(run.days[day], series)) for run in runs] for day in range(days)]


def hour_values(runs: Sequence[SimulationResult], series: str) -> list[list[float]]:
    """Per hour of day, one value per replication (empty when the runs kept no hours)."""
    if any(not run.hours for run in runs):
        return []
    return [[float(getattr(run.hours[hour], series)) for run in runs] for hour in range(24)]


def plain(value: float) -> float | None:
    """JSON has no NaN or infinity: an unknown or unbounded figure becomes null."""
    return value if math.isfinite(value) else None


def estimate_dict(value: Estimate) -> dict[str, float | int | None]:
    return {"mean": plain(value.mean), "low": plain(value.low), "high": plain(value.high),
            "half_width": plain(value.half_width), "n": value.n}


def plain_tree(tree: Any) -> Any:
    """`plain` applied throughout nested dicts and lists (a run's `to_dict()`)."""
    if isinstance(tree, dict):
        return {key: plain_tree(value) for key, value in tree.items()}
    if isinstance(tree, list | tuple):
        return [plain_tree(value) for value in tree]
    if isinstance(tree, float):
        return plain(tree)
    return tree
