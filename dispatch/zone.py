"""Zone matching: every free car can take every waiting order.

This is how many firms already dispatch inside a zone (Autocab's zone queues:
the car that has waited longest for a job goes first) and it is what queueing
theory means by "no space": the Erlang reductions of the simulator run on it.
It needs no grid and no trigonometry, so a zone-mode dispatcher is several
times cheaper per decision than the spatial one, which matters when the
simulator replays months of calls.

The two classes have the interfaces of `FreeDriverIndex` and `WaitingOrders`,
so the engine does not care which mode it runs in.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable, Iterator

from dispatch.geo import haversine_m
from dispatch.model import Position
from dispatch.queue import OrderQueue


class IdleCarQueue:
    """Free cars in the order they became free; moving does not lose a car its place."""

    __slots__ = ("_cars",)

    def __init__(self) -> None:
        self._cars: OrderedDict[str, Position] = OrderedDict()

    def upsert(self, driver_id: str, position: Position) -> None:
        self._cars[driver_id] = position

    def remove(self, driver_id: str) -> None:
        del self._cars[driver_id]

    def __contains__(self, driver_id: object) -> bool:
        return driver_id in self._cars

    def __len__(self) -> int:
        return len(self._cars)

    def __iter__(self) -> Iterator[str]:
        return iter(self._cars)

    def nearest(
        self, p: Position, k: int = 1, radius_m: float = math.inf
    ) -> list[tuple[float, str]]:
        """The k cars idle longest, with their distance. In a zone every car counts as
        near enough, so the radius is not applied and idle time decides."""
        chosen = []
        for driver_id, position in self._cars.items():
            chosen.append((haversine_m(p, position), driver_id))
            if len(chosen) == k:
                break
        return chosen


class ZoneWaitingOrders:
    """All waiting orders of a zone in one head-start heap."""

    __slots__ = ("_queue",)

    def __init__(self, max_head_start_s: float) -> None:
        self._queue = OrderQueue(max_head_start_s)

    def __len__(self) -> int:
        return len(self._queue)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._queue

    def push(
        self, order_id: str, pickup: Position, due_at: float, head_start_s: float, seq: int
    ) -> float:
        return self._queue.push(order_id, due_at, head_start_s, seq)

    def remove(self, order_id: str) -> None:
        self._queue.remove(order_id)

    def reprioritise(self, order_id: str, head_start_s: float) -> float:
        return self._queue.reprioritise(order_id, head_start_s)

    def key_of(self, order_id: str) -> tuple[float, int]:
        return self._queue.key_of(order_id)

    def in_service_order(self) -> Iterator[tuple[float, int, str]]:
        return self._queue.in_service_order()

    def best_for(
        self, position: Position, radius_m: float, acceptable: Callable[[str], bool]
    ) -> str | None:
        """The best waiting order the policy admits; usually just the head."""
        head = self._queue.peek()
        if head is None or acceptable(head):
            return head
        for _, _, order_id in self._queue.in_service_order():
            if acceptable(order_id):
                return order_id
        return None
