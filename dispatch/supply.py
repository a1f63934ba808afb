"""Matching when supply rises past a policy's reservation threshold.

Two-sided matching (a new order takes a car, a freed car takes an order) keeps
the dispatcher at quiescence only while whether a caller may take a car does
not change as they wait. Under capacity reservation it does: a low-value order
next to a free car waits while only `k` cars are free, and becomes admissible
the moment a car frees up anywhere else and lifts the count to `k + 1`. The
freed car searches only its own reach, so the other free cars must be asked too.

The answer is what a walk of the queue in service order would give (the first
order the policy now admits that some free car can reach, which then takes its
nearest free car), but it is found from the cars' side: at the threshold only
`k` other cars are free, while any number of orders may wait out of everyone's
reach, so `k` calls of `Waiting.best_for` (the occupied cells within one car's
reach each) replace a walk of the whole queue with a free-car search per order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from dispatch.matching import FreeCars, Waiting
from dispatch.model import PriorityScore
from dispatch.state import LiveDriver, LiveOrder


def match_after_supply_rose(
    free: FreeCars,
    waiting: Waiting,
    orders: Mapping[str, LiveOrder],
    drivers: Mapping[str, LiveDriver],
    may_take_car: Callable[[PriorityScore, int], bool],
    radius_m: float,
    joined_id: str,
) -> tuple[LiveOrder, LiveDriver] | None:
    """The waiting order the larger free count lets some free car take, and its car.

    Each free car proposes the best order within its reach that the policy
    admits at the current count; the proposal with the best key is the first
    such order in service order (any car that reaches it proposes it or a
    better one). `joined_id` is the car that just joined the free index: its
    own search at this count came back empty, so it is not asked again.
    """
    free_cars = len(free)

    def admitted(order_id: str) -> bool:
        return may_take_car(orders[order_id].score, free_cars)

    best_key: tuple[float, int] | None = None
    best_order_id: str | None = None
    for driver_id in free:
        if driver_id == joined_id:
            continue
        order_id = waiting.best_for(drivers[driver_id].position, radius_m, admitted)
        if order_id is not None:
            key = waiting.key_of(order_id)
            if best_key is None or key < best_key:
                best_key, best_order_id = key, order_id
    if best_order_id is None:
        return None
    live = orders[best_order_id]
    ((_, driver_id),) = free.nearest(live.order.pickup, 1, radius_m)
    return live, drivers[driver_id]
