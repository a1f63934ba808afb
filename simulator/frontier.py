"""The policy frontier: which settings keep the most customers, which the most revenue.

`frontier_specs` lays a grid over the `heads` family (blend between ranking by
value at risk and by the rise in the chance of leaving, head-start cap,
first-order floor) beside fifo, reject and today's live default; all of it runs
on common random numbers. `Frontier` then pairs every point against fifo and
keeps the Pareto set on (lost customers, lost future revenue): the points no
other point beats on both means. Each point carries the exact live settings
(`KEEPCAB_*`) and scenario keys that reproduce it, so a chosen point goes
straight into the live server.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from dispatch.policy_params import POLICY_PARAM_FIELDS
from simulator.measures import paired, plain
from simulator.overrides import path
from simulator.results import Comparison
from simulator.runner import PolicySpec
from simulator.stats import Estimate

LOST, REVENUE = "lost.share", "lost_future_revenue"
BASELINE, STATUS_QUO, LIVE_DEFAULT = "fifo", "reject", "retention"
DEFAULT_BLENDS: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0)
DEFAULT_CAPS: tuple[float, ...] = (300.0, 600.0)
GOAL_SAVING = 0.20  # issue 13: save at least this share of fifo's lost future revenue ...
GOAL_LOST_SLACK = 0.0005  # ... with the upper end of Δ lost at most +0.05 points
MIN_REPLICATIONS = 5
_LIVE_DISPATCH = {"max_head_start_s", "pickup_radius_m", "detour_factor", "cell_m"}


def frontier_specs(blends: Sequence[float] = DEFAULT_BLENDS, caps: Sequence[float] = DEFAULT_CAPS,
                   floors: Sequence[float | None] = (None,),
                   scenario_cap: float | None = None) -> list[PolicySpec]:
    """fifo (the baseline), reject, retention, then heads at every (cap, blend, floor).

    Heads at blend 0 with the scorer's floor at the scenario's own cap is
    retention, decision for decision (one builder), so that cell is not run twice.
    """
    specs = [PolicySpec(BASELINE), PolicySpec(STATUS_QUO), PolicySpec(LIVE_DEFAULT)]
    for cap in caps:
        for blend in blends:
            for floor in floors:
                if blend == 0 and floor is None and cap == scenario_cap:
                    continue
                params: dict[str, Any] = {"heads_blend": float(blend),
                                          "dispatch.max_head_start_s": float(cap)}
                label = f"heads b{blend:g} cap{cap:g}"
                if floor is not None:
                    params["first_order_floor_s"] = float(floor)
                    label += f" floor{floor:g}"
                specs.append(PolicySpec("heads", params, label))
    return specs


def live_settings(policy: str, params: dict[str, Any]) -> dict[str, str]:
    """The `KEEPCAB_*` variables that run this point live (keys with no live twin left out)."""
    env = {"KEEPCAB_POLICY": policy}
    for key, value in params.items():
        parts = path(key)
        name = str(parts[-1])
        live = (parts[0] == "policies" and name in POLICY_PARAM_FIELDS) or \
            (parts[0] == "dispatch" and name in _LIVE_DISPATCH)
        if live and len(parts) == 2:
            env[f"KEEPCAB_{name.upper()}"] = _text(value)
    return env


def scenario_keys(policy: str, params: dict[str, Any]) -> dict[str, Any]:
    """The scenario keys that run this point: `[policies] names` plus every changed key."""
    keys: dict[str, Any] = {"policies.names": [policy]}
    for key, value in params.items():
        keys[".".join(str(p) for p in path(key))] = value
    return keys


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else f"{value:g}" \
        if isinstance(value, float) else str(value)


@dataclass(frozen=True, slots=True)
class FrontierPoint:
    label: str
    policy: str
    params: dict[str, Any]
    lost: Estimate
    revenue: Estimate
    d_lost: Estimate | None  # paired against fifo; None for fifo itself
    d_revenue: Estimate | None
    pareto: bool

    @property
    def saving(self) -> float:
        """Share of fifo's lost future revenue this point saves (negative: loses more)."""
        if self.d_revenue is None:
            return 0.0
        base = self.revenue.mean - self.d_revenue.mean
        return -self.d_revenue.mean / base if base > 0 else math.nan

    @property
    def env(self) -> dict[str, str]:
        return live_settings(self.policy, self.params)

    @property
    def keys(self) -> dict[str, Any]:
        return scenario_keys(self.policy, self.params)


def pareto_labels(points: Iterable[tuple[str, float, float]]) -> set[str]:
    """Labels no other point beats on both (lower is better on each; ties do not beat)."""
    listed = list(points)
    return {label for label, a, b in listed
            if not any(a2 <= a and b2 <= b and (a2 < a or b2 < b) for _, a2, b2 in listed)}


@dataclass(frozen=True)
class Frontier:
    """A frontier run's comparison (baseline fifo) read as points, Pareto set and verdicts."""

    comparison: Comparison

    @cached_property
    def points(self) -> list[FrontierPoint]:
        c = self.comparison
        means = [(label, r.metrics[LOST].mean, r.metrics[REVENUE].mean)
                 for label, r in c.policies.items()]
        front = pareto_labels(means)
        return [FrontierPoint(label, r.policy, dict(r.params), r.metrics[LOST], r.metrics[REVENUE],
                              c.difference(label, LOST), c.difference(label, REVENUE),
                              label in front)
                for label, r in c.policies.items()]

    @property
    def pareto(self) -> list[FrontierPoint]:
        return sorted((p for p in self.points if p.pareto), key=lambda p: p.lost.mean)

    @property
    def fewest_customers(self) -> FrontierPoint:
        return min(self.points, key=lambda p: (p.lost.mean, p.revenue.mean))

    @property
    def least_revenue(self) -> FrontierPoint:
        return min(self.points, key=lambda p: (p.revenue.mean, p.lost.mean))

    def goal(self) -> FrontierPoint | None:
        """The biggest saver among points saving >= 20% with Δ lost's upper end <= +0.05 pts."""
        meeting = [p for p in self.points if p.d_lost is not None and p.saving >= GOAL_SAVING
                   and p.d_lost.high <= GOAL_LOST_SLACK]
        return max(meeting, key=lambda p: p.saving, default=None)

    def best_saving_within_customers(self) -> FrontierPoint | None:
        """The biggest saver whose Δ lost's upper end is at most +0.05 pts, whatever it saves."""
        within = [p for p in self.points if p.d_lost is not None
                  and p.d_lost.high <= GOAL_LOST_SLACK]
        return max(within, key=lambda p: p.saving, default=None)

    def between(self, a: FrontierPoint, b: FrontierPoint, key: str) -> Estimate:
        """Paired difference a - b on one metric (every point shares the seeds)."""
        policies = self.comparison.policies
        return paired(policies[a.label].values(key), policies[b.label].values(key),
                      self.comparison.confidence)

    def warnings(self) -> list[str]:
        """Why the intervals may not separate the policies, in words."""
        found = []
        n = self.comparison.replications
        if n < MIN_REPLICATIONS:
            found.append(f"only {n} replications: intervals this wide rarely separate policies; "
                         f"use at least {MIN_REPLICATIONS} (--replications).")
        few, rich = self.fewest_customers, self.least_revenue
        if few.label != rich.label:
            for key, what in ((LOST, "lost customers"), (REVENUE, "lost future revenue")):
                diff = self.between(few, rich, key)
                if diff.n > 1 and diff.low <= 0 <= diff.high:
                    found.append(f"`{few.label}` and `{rich.label}` cannot be told apart on "
                                 f"{what} at these replications (paired difference covers 0).")
        return found

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: every point with its deltas, Pareto flag, live settings and scenario keys."""
        def estimate(e: Estimate | None) -> dict[str, float | None] | None:
            return None if e is None else {"mean": plain(e.mean), "low": plain(e.low),
                                           "high": plain(e.high)}

        goal = self.goal()
        return {"baseline": BASELINE, "pareto": [p.label for p in self.pareto],
                "fewest_customers": self.fewest_customers.label,
                "least_revenue": self.least_revenue.label,
                "goal": None if goal is None else goal.label, "warnings": self.warnings(),
                "points": [{"label": p.label, "policy": p.policy, "pareto": p.pareto,
                            "lost": estimate(p.lost), "lost_future_revenue": estimate(p.revenue),
                            "d_lost": estimate(p.d_lost), "d_lost_future_revenue":
                                estimate(p.d_revenue), "saving": plain(p.saving), "env": p.env,
                            "scenario_keys": p.keys} for p in self.points]}
