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
from collections.abc import Callable, Iterator

from dispatch.geo import haversine_m
from dispatch.model import Position
from dispatch.queue import OrderQueue


class IdleCarQueue(dict[str, Position]):
    """Free cars in the order they became free; moving does not lose a car its place.

    A dict is exactly that (a key keeps its place when its value changes), so the
    queue is one: its length and membership, asked on every order, cost no Python
    frame.
    """

    __slots__ = ()

    upsert = dict.__setitem__
    remove = dict.__delitem__

    @property
    def ids(self) -> IdleCarQueue:
        """The queue itself, a dict (`FreeCars.ids`)."""
        return self

    def nearest(self, p: Position, k: int = 1, radius_m: float = math.inf) -> list[tuple[float, str]]:
        """The k cars idle longest, with their distance. In a zone every car counts as
        near enough, so the radius is not applied and idle time decides."""
        if k == 1:  # what the matcher asks: the car idle longest, with no list to grow
            for driver_id, position in self.items():
                return [(haversine_m(p, position), driver_id)]
            return []
        chosen = []
        for driver_id, position in self.items():
            chosen.append((haversine_m(p, position), driver_id))
            if len(chosen) == k:
                break
        return chosen


class ZoneWaitingOrders:
    """All waiting orders of a zone in one head-start heap.

    The heap's own methods are this object's (bound once), so a remove or a length
    asked on every order goes straight to the heap, through no forwarding frame.
    """

    __slots__ = ("_queue", "in_service_order", "key_of", "remove", "reprioritise")

    def __init__(self, max_head_start_s: float) -> None:
        queue = self._queue = OrderQueue(max_head_start_s)
        self.remove: Callable[[str], None] = queue.remove
        self.reprioritise: Callable[[str, float], float] = queue.reprioritise
        self.key_of: Callable[[str], tuple[float, int]] = queue.key_of
        self.in_service_order: Callable[[], Iterator[tuple[float, int, str]]] = queue.in_service_order

    def __len__(self) -> int:
        return len(self._queue)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._queue

    def push(self, order_id: str, pickup: Position, due_at: float, head_start_s: float, seq: int) -> float:
        return self._queue.push(order_id, due_at, head_start_s, seq)

    def best_for(self, position: Position, radius_m: float, acceptable: Callable[[str], bool]) -> str | None:
        """The best waiting order the policy admits; usually just the head."""
        head = self._queue.peek()
        if head is None or acceptable(head):
            return head
        for _, _, order_id in self._queue.in_service_order():
            if acceptable(order_id):
                return order_id
        return None
