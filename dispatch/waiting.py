"""Waiting orders, partitioned by pickup cell so a freed car never scans the queue.

Each grid cell holds its own `OrderQueue`; all of them share one arrival
counter, so keys `(effective_at, seq)` are comparable across cells and the
whole set has one service order. A freed car looks only at cells within its
pickup radius, and in a cell usually only at the head: a cell wholly inside
the radius answers with its head, a cell on the rim is walked in service order
until a reachable order appears, and any cell whose head already ranks behind
the best candidate found is skipped.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator

from dispatch.geo import Cell, Grid, haversine_m
from dispatch.model import Position
from dispatch.queue import OrderQueue

Key = tuple[float, int]


class WaitingOrders:
    def __init__(self, grid: Grid, max_head_start_s: float) -> None:
        self._grid = grid
        self._max_head_start_s = max_head_start_s
        self._cells: dict[Cell, OrderQueue] = {}
        self._cell_of: dict[str, Cell] = {}
        self._pickup_of: dict[str, Position] = {}

    def __len__(self) -> int:
        return len(self._cell_of)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._cell_of

    def push(
        self, order_id: str, pickup: Position, due_at: float, head_start_s: float, seq: int
    ) -> float:
        cell = self._grid.cell_of(pickup)
        queue = self._cells.get(cell)
        if queue is None:
            queue = self._cells[cell] = OrderQueue(self._max_head_start_s)
        effective_at = queue.push(order_id, due_at, head_start_s, seq)
        self._cell_of[order_id] = cell
        self._pickup_of[order_id] = pickup
        return effective_at

    def remove(self, order_id: str) -> None:
        cell = self._cell_of.pop(order_id)
        del self._pickup_of[order_id]
        queue = self._cells[cell]
        queue.remove(order_id)
        if not queue:
            del self._cells[cell]

    def reprioritise(self, order_id: str, head_start_s: float) -> float:
        return self._cells[self._cell_of[order_id]].reprioritise(order_id, head_start_s)

    def key_of(self, order_id: str) -> Key:
        return self._cells[self._cell_of[order_id]].key_of(order_id)

    def in_service_order(self) -> Iterator[tuple[float, int, str]]:
        """Every waiting order, best first, without touching any heap."""
        return heapq.merge(*(queue.in_service_order() for queue in self._cells.values()))

    def best_for(
        self, position: Position, radius_m: float, acceptable: Callable[[str], bool]
    ) -> str | None:
        """The highest-priority waiting order within `radius_m` of `position` that
        `acceptable` admits, or None.

        Cells wholly inside the radius go first: their heads alone set a strong
        best key cheaply, so the walk through rim cells (where an order may be
        out of reach) stops at the first entry that ranks behind it.
        """
        inside: list[OrderQueue] = []
        rim: list[OrderQueue] = []
        for queue, wholly_inside in self._cells_in_reach(position, radius_m):
            (inside if wholly_inside else rim).append(queue)
        best: tuple[Key, str] | None = None
        for queue in inside:
            best = self._best_in(queue, None, acceptable, best)
        for queue in rim:
            best = self._best_in(queue, (position, radius_m), acceptable, best)
        return None if best is None else best[1]

    def _best_in(
        self,
        queue: OrderQueue,
        reach: tuple[Position, float] | None,
        acceptable: Callable[[str], bool],
        best: tuple[Key, str] | None,
    ) -> tuple[Key, str] | None:
        """The better of `best` and the first reachable, acceptable order of `queue`."""
        head = queue.peek_key()
        if head is None or (best is not None and head >= best[0]):
            return best
        for effective_at, seq, order_id in queue.in_service_order():
            key = (effective_at, seq)
            if best is not None and key >= best[0]:
                return best
            if reach is not None and haversine_m(reach[0], self._pickup_of[order_id]) > reach[1]:
                continue
            if acceptable(order_id):
                return key, order_id
        return best

    def _cells_in_reach(
        self, position: Position, radius_m: float
    ) -> Iterator[tuple[OrderQueue, bool]]:
        """Occupied cells that may hold an order within reach, flagged when wholly inside.

        Walks whichever is smaller: the grid cells of the search disc or the
        occupied cells (few orders, or an infinite radius in queue-only models).
        """
        grid = self._grid
        cells = self._cells
        if math.isinf(radius_m):
            for queue in cells.values():
                yield queue, True
            return
        span = 2 * math.ceil(radius_m / grid.cell_m) + 1
        if span * span <= len(cells):
            candidates: Iterator[Cell] = (
                c for c in grid.cells_within(position, radius_m) if c in cells
            )
        else:
            candidates = (c for c in cells if grid.min_dist_m(position, c) <= radius_m)
        for cell in candidates:
            yield cells[cell], grid.max_dist_m(position, cell) <= radius_m
