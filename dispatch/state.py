"""The dispatcher's private, mutable records of live orders and drivers.

Kept apart from the frozen values in `dispatch.model`: these change in place on
every decision (cheap in the hot loop) and are only ever shown to the outside
as frozen views.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator

from dispatch.model import (
    DriverStatus,
    DriverView,
    Order,
    OrderStatus,
    OrderView,
    Position,
    PriorityScore,
    Tier,
)

# Enum members bound once: looking one up on its class costs ~120 ns on Python 3.11 (the
# enum metaclass), ten times a module global, and the handlers read several per order.
OFFLINE, QUEUED = (DriverStatus.OFFLINE, OrderStatus.QUEUED)

UNSCORED = PriorityScore(head_start_s=0.0, tier=Tier.NEW, reason="not scored")
"""The score of an order nobody scored: one not yet released, or one a free car took at
once while the policy admitted every caller (`Dispatcher._admit`). It says so, rather than
pass for a newcomer's score; no decision reads it."""


class LiveOrder:
    __slots__ = (
        "driver_id",
        "expire_at",
        "head_start_s",
        "held_for",
        "order",
        "override_s",
        "release_at",
        "score",
        "seq",
        "status",
    )

    def __init__(self, order: Order, seq: int) -> None:
        self.order = order
        self.seq = seq
        self.status = QUEUED
        self.driver_id: str | None = None
        self.score = UNSCORED
        self.head_start_s = 0.0
        self.override_s: float | None = None
        self.expire_at = math.inf
        self.release_at = -math.inf
        self.held_for: str | None = None

    def view(self) -> OrderView:
        return OrderView(
            self.order, self.status, self.driver_id, None, self.score, self.head_start_s, self.held_for
        )


class LiveDriver:
    __slots__ = ("driver_id", "leaving", "next_order_id", "order_id", "position", "status")

    def __init__(self, driver_id: str, position: Position) -> None:
        self.driver_id = driver_id
        self.position = position
        self.status = OFFLINE
        self.order_id: str | None = None
        self.leaving = False
        self.next_order_id: str | None = None

    def view(self) -> DriverView:
        return DriverView(
            self.driver_id, self.status, self.position, self.order_id, self.leaving, self.next_order_id
        )


RELEASE, EXPIRE = 0, 1
Timer = tuple[float, int, int, str]  # (at, seq, kind, order_id)


class Timers:
    """Pending pre-booking releases and max-wait expiries.

    Entries are never removed when an order is assigned or cancelled; they go
    stale, and `is_live` (supplied by the engine, which knows the orders)
    tells the two apart when they surface.
    """

    def __init__(self, is_live: Callable[[Timer], bool]) -> None:
        self._heap: list[Timer] = []
        self._seq = 0
        self._is_live = is_live

    def add(self, at: float, kind: int, order_id: str) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, kind, order_id))

    def next_at(self) -> float | None:
        heap = self._heap
        while heap and not self._is_live(heap[0]):
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> Iterator[tuple[int, str]]:
        """Live timers due at or before `now`, earliest first, as (kind, order_id)."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            timer = heapq.heappop(heap)
            if self._is_live(timer):
                yield timer[2], timer[3]
