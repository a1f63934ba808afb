"""Sweeps: scenario keys over lists of values, every combination, common random numbers.

`--vary fleet.cars=220,260,300 --vary dispatch.pickup_radius_m=2000,3000` runs
every policy at each of the six combinations; replication r of every cell
shares one seed, so the differences between cells are paired like those
between policies. Capacity is the lever that reduces failures for everyone, so
a sweep can also name the cheapest cell (fewest car-hours on shift per day)
whose peak-hour failure rate is under a target.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from simulator.fleet import cars_on_duty_by_hour
from simulator.overrides import with_overrides
from simulator.results import Comparison, PolicyResult
from simulator.runner import PolicySpec
from simulator.scenario import Scenario
from simulator.stats import Estimate

HEADLINE_METRICS: tuple[tuple[str, str, str], ...] = (
    ("lost.share", "customers lost", "share"),
    ("lost_future_revenue", "lost future revenue", "money"),
    ("orders.failure_rate", "failed orders", "share"),
    ("orders.peak_hour_failure_rate", "failed orders in the busiest hour", "share"),
    ("wait.p90_s", "pickup wait p90", "s"),
    ("utilisation", "fleet utilisation", "share"),
)
PEAK = "orders.peak_hour_failure_rate"


def cell_label(policy: str, values: dict[str, Any]) -> str:
    return " ".join([policy, *(f"{key}={value}" for key, value in values.items())])


def sweep_specs(varies: Sequence[tuple[str, list[Any]]], policies: Sequence[str]) -> list[PolicySpec]:
    """Every combination of the varied values, for every policy, in a stable order."""
    keys = [key for key, _ in varies]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a key is varied twice: {keys}")
    specs = []
    for combination in itertools.product(*(values for _, values in varies)):
        cell = dict(zip(keys, combination, strict=True))
        specs += [PolicySpec(policy, cell, cell_label(policy, cell)) for policy in policies]
    return specs


@dataclass(frozen=True)
class Sweep:
    """A sweep's comparison read cell by cell: lines against the first key, the target cell."""

    comparison: Comparison
    keys: list[str]
    policies: list[str]

    def cells(self, policy: str) -> list[PolicyResult]:
        return [r for r in self.comparison.policies.values() if r.policy == policy]

    def lines(self, metric: str) -> dict[str, list[tuple[Any, Estimate]]]:
        """Per policy and combination of the other keys: (first key's value, estimate)."""
        lines: dict[str, list[tuple[Any, Estimate]]] = {}
        for result in self.comparison.policies.values():
            others = {k: v for k, v in result.params.items() if k != self.keys[0]}
            lines.setdefault(cell_label(result.policy, others), []).append(
                (result.params[self.keys[0]], result.metrics[metric]))
        return lines

    def table_rows(self, metric: str) -> list[tuple[dict[str, Any], dict[str, Estimate]]]:
        """Per combination: the varied values and each policy's estimate."""
        rows: dict[str, tuple[dict[str, Any], dict[str, Estimate]]] = {}
        for result in self.comparison.policies.values():
            key = cell_label("", result.params)
            rows.setdefault(key, (dict(result.params), {}))[1][result.policy] = \
                result.metrics[metric]
        return list(rows.values())

    def car_hours(self, scenario: Scenario, params: dict[str, Any]) -> float:
        """Car-hours on shift per day in this cell: the cost of the fleet it runs."""
        fleet_keys = {k: v for k, v in params.items() if k.startswith("fleet")}
        return sum(cars_on_duty_by_hour(with_overrides(scenario, fleet_keys).fleet))

    def cheapest_under(self, scenario: Scenario, policy: str,
                       target: float) -> PolicyResult | None:
        """The cell with the fewest car-hours whose mean peak-hour failure rate is under target."""
        meeting = [r for r in self.cells(policy) if r.metrics[PEAK].mean < target]
        return min(meeting, key=lambda r: self.car_hours(scenario, r.params), default=None)
