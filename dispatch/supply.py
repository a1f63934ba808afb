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
reach, so `k` searches of one car's reach each (the engine's own freed-car
search) replace a walk of the whole queue with a free-car search per order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

Key = tuple[float, int]


def first_order_supply_admits(
    free_ids: Iterable[str],
    joined_id: str,
    best_waiting_for: Callable[[str], str | None],
    key_of: Callable[[str], Key],
) -> str | None:
    """The first waiting order, in service order, that some free car may now take.

    `best_waiting_for(driver_id)` is the best order within that car's reach the
    policy admits at the current count; the proposal with the best key is the
    first such order in service order (any car that reaches it proposes it or a
    better one). `joined_id` is the car that just joined the free index: its
    own search at this count came back empty, so it is not asked again.
    """
    best_key: Key | None = None
    best_order_id: str | None = None
    for driver_id in free_ids:
        if driver_id == joined_id:
            continue
        order_id = best_waiting_for(driver_id)
        if order_id is not None:
            key = key_of(order_id)
            if best_key is None or key < best_key:
                best_key, best_order_id = key, order_id
    return best_order_id
