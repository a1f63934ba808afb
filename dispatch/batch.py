"""Batch matching: orders and free cars collected for a few seconds, then assigned together.

Greedy matching gives a new order the nearest free car and a freed car the best
waiting order at once. Over a short window the firm can do better for everyone:
two callers a street apart and two cars across town are matched crosswise
instead of nearest-first, and the total drive to the pickups falls. The
assignment is a rectangular linear assignment problem (orders x free cars),
solved exactly by `scipy.optimize.linear_sum_assignment`, which is why this one
module of the pure core uses numpy and scipy (pyproject.toml's import contract
names it; docs/dispatch.md says why).

What a pair is worth. Order i and car c: weight = shift - (eta_ic - age_i),
where age_i = now - effective_at_i is how long the order has waited plus its
head start (the queue's own key, so the cap on head starts carries over) and
`shift` makes every feasible pair worth at least 1. Maximising the total:

* when every order can be served, ages are a constant and the batch minimises
  the total pickup time;
* when cars are short, a second of head start or of waiting weighs exactly a
  second of pickup time in deciding who is served now;
* every feasible pair is worth more than nothing, so no free car is left beside
  an order it could take (quiescence at the end of each batch);
* exchanging the cars of a served order j and a waiting order i never helps, so
  j passes i for car c only if effective_at_j - effective_at_i <= eta_ic -
  eta_jc, at most the longest pickup ETA within the radius (the batch form of
  the starvation bound, docs/dispatch.md).

Pairs beyond the pickup radius are infeasible (weight 0, dropped). Admission
comes from the policy: an order it refuses at the batch's free count takes no
part, and under a reservation threshold T the orders it admits only above T
share at most (free - T) cars, which is what greedy matching gives them one car
at a time. That cap is enforced exactly with "absorber" columns: one per
restricted order beyond the cap, worth more to a restricted order than any car,
so the optimum seats restricted orders on every absorber first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linear_sum_assignment

from dispatch.config import DispatchConfig
from dispatch.geo import EARTH_RADIUS_M, haversine_m
from dispatch.matcher import Matcher
from dispatch.model import Position, PriorityScore
from dispatch.policies import Policy
from dispatch.state import LiveDriver, LiveOrder

Pair = tuple[str, str]  # (order_id, driver_id)
Handler = Callable[[Any, float], list[Any]]
FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
_EDGE_REL = 1e-9  # distances this close to the radius are re-checked with the scalar formula


@dataclass(frozen=True, slots=True)
class Candidate:
    """A waiting order as a batch sees it."""

    order_id: str
    pickup: Position
    effective_at: float
    score: PriorityScore


class BatchMatcher(Matcher):
    """The matcher of batch mode: the greedy searches answer "not now" and open a window.

    The engine asks `car_for` when an order arrives and `order_for` when a car
    frees up or moves; here both note that a match may have become possible and
    return None, so the order waits in the queue and the car joins the free index.
    The engine turns the note into a due time with `settle(now)` after each
    command; its `Tick` at or after that time calls `run(now)`.
    """

    due_at: float | None = None  # when the pending batch is due; None: none pending
    _wanted = False  # the last command may have made a match possible

    @property
    def window_s(self) -> float:
        window_s = self._config.batch_window_s
        assert window_s is not None, "a BatchMatcher needs DispatchConfig.batch_window_s"
        return window_s

    def car_for(self, live: LiveOrder) -> tuple[LiveDriver, float] | None:
        """A policy that never waits must hear "no" from a batch, so it wants one too."""
        if self.free or not self._policy.waits:
            self._wanted = True
        return None

    def order_for(self, driver: LiveDriver) -> str | None:
        if len(self.waiting):
            self._wanted = True
        return None

    def supply_now_admits(self, joined: LiveDriver) -> tuple[LiveOrder, LiveDriver] | None:
        return None  # the batch asks the policy at the batch's own free count

    def settle(self, now: float) -> None:
        """Open a window at `now` if the last command may have made a match possible;
        a batch already due keeps its time, so nothing waits longer than one window."""
        if self._wanted:
            self._wanted = False
            if self.due_at is None:
                self.due_at = now + self.window_s

    def settling(self, handler: Handler) -> Handler:
        """`handler` followed by `settle`: the engine wraps every command handler in it."""

        def handle(command: Any, now: float) -> list[Any]:
            decisions = handler(command, now)
            self.settle(now)
            return decisions

        return handle

    def is_due(self, now: float) -> bool:
        return self.due_at is not None and self.due_at <= now

    def run(self, now: float) -> list[tuple[LiveOrder, LiveDriver]]:
        """The batch's pairs; the engine assigns them. The window closes."""
        self.due_at, self._wanted = None, False
        orders, drivers = self._orders, self._drivers
        candidates = []
        for effective_at, _seq, order_id in self.waiting.in_service_order():
            live = orders[order_id]
            candidates.append(Candidate(order_id, live.order.pickup, effective_at, live.score))
        cars = [(driver_id, drivers[driver_id].position) for driver_id in self.free]
        pairs = plan_batch(candidates, cars, self._policy, self._config, now)
        return [(orders[order_id], drivers[driver_id]) for order_id, driver_id in pairs]


def plan_batch(
    orders: Sequence[Candidate],
    cars: Sequence[tuple[str, Position]],
    policy: Policy,
    config: DispatchConfig,
    now: float,
) -> list[Pair]:
    """The batch's assignment as (order_id, driver_id) pairs, in the orders' given order."""
    free = len(cars)
    admitted = [c for c in orders if policy.may_take_car(c.score, free)]
    if not admitted or not free:
        return []
    threshold = policy.supply_threshold
    cap: int | None = None
    restricted = np.zeros(len(admitted), dtype=np.bool_)
    if threshold is not None and free > threshold:
        restricted = np.array([not policy.may_take_car(c.score, threshold) for c in admitted])
        cap = free - threshold
    positions = [position for _, position in cars]
    dist_m, feasible = distances_m([c.pickup for c in admitted], positions, config.pickup_radius_m)
    eta_s = dist_m * (config.detour_factor / config.speed_mps)
    age_s = now - np.array([c.effective_at for c in admitted])
    pairs = solve(eta_s, age_s, feasible, restricted, cap)
    return [(admitted[row].order_id, cars[col][0]) for row, col in pairs]


def distances_m(
    pickups: Sequence[Position], cars: Sequence[Position], radius_m: float
) -> tuple[FloatArray, BoolArray]:
    """Haversine distances (orders x cars) and which pairs lie within the radius.

    The same formula as `dispatch.geo.haversine_m`, vectorised; a pair within a
    rounding error of the radius is decided by that scalar function itself, so
    the batch and the engine's own reach test never disagree.
    """
    lat_a = np.radians(np.array([p.lat for p in pickups], dtype=np.float64))[:, None]
    lat_b = np.radians(np.array([p.lat for p in cars], dtype=np.float64))[None, :]
    lon_a = np.array([p.lon for p in pickups], dtype=np.float64)[:, None]
    lon_b = np.array([p.lon for p in cars], dtype=np.float64)[None, :]
    sin_dlat = np.sin((lat_b - lat_a) * 0.5)
    sin_dlon = np.sin(np.radians(lon_b - lon_a) * 0.5)
    h = sin_dlat * sin_dlat + np.cos(lat_a) * np.cos(lat_b) * sin_dlon * sin_dlon
    dist = 2.0 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(1.0, h)))
    feasible = dist <= radius_m
    if math.isfinite(radius_m):
        edge = np.abs(dist - radius_m) <= _EDGE_REL * radius_m
        for i, j in zip(*np.nonzero(edge), strict=True):
            feasible[i, j] = haversine_m(pickups[i], cars[j]) <= radius_m
    return dist, feasible


def solve(
    eta_s: FloatArray,
    age_s: FloatArray,
    feasible: BoolArray,
    restricted: BoolArray,
    cap: int | None,
) -> list[tuple[int, int]]:
    """(row, column) pairs of the best assignment: maximal, at most `cap` restricted rows
    on cars, and among those the largest total of shift - (eta - age)."""
    if not feasible.any():
        return []
    cost = eta_s - age_s[:, None]
    shift = float(cost[feasible].max()) + 1.0
    weight = np.where(feasible, shift - cost, 0.0)
    cars = weight.shape[1]
    spare = int(restricted.sum()) - cap if cap is not None else 0
    if spare > 0:
        absorber = np.where(restricted, float(weight.max()) + 1.0, 0.0)
        weight = np.hstack([weight, np.repeat(absorber[:, None], spare, axis=1)])
    rows, cols = linear_sum_assignment(weight, maximize=True)
    return [
        (int(row), int(col)) for row, col in zip(rows, cols, strict=True) if col < cars and feasible[row, col]
    ]
