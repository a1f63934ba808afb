"""Waiting orders, partitioned by pickup cell so a freed car never scans the queue.

Each grid cell holds its own `OrderQueue`; all of them share one arrival
counter, so keys `(effective_at, seq)` are comparable across cells and the
whole set has one service order. A freed car looks only at the occupied cells
of its pickup radius's search box (`Grid.row_spans`: bounded at any latitude),
takes them in the order of their heads and stops at the first head that ranks
behind the best order found; in a cell it reads entries in service order until
one is in reach and admitted, which in a cell wholly in reach is the head.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator
from operator import itemgetter

from dispatch.geo import Cell, Grid, chord2_bounds, haversine_m, unit_vector
from dispatch.model import Position
from dispatch.queue import OrderQueue

Key = tuple[float, int]


class WaitingOrders:
    def __init__(self, grid: Grid, max_head_start_s: float) -> None:
        self._grid = grid
        self._max_head_start_s = max_head_start_s
        self._cells: dict[Cell, OrderQueue] = {}
        self._cell_of: dict[str, Cell] = {}
        self._pickup_of: dict[str, tuple[Position, float, float, float]] = {}  # and unit vector

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
        self._pickup_of[order_id] = (pickup, *unit_vector(pickup))
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

        The occupied cells of the search box are taken in the order of their heads,
        so the walk stops at the first cell whose head already ranks behind the best
        order found; in a cell, entries are read in service order until one is in
        reach and admitted (in a cell wholly in reach that is the head).
        """
        heads = [(entry, queue) for queue in self._queues_in_box(position, radius_m)
                 if (entry := queue.head_entry()) is not None]
        heads.sort(key=itemgetter(0))  # seqs are unique: entries never tie
        in_reach = None if math.isinf(radius_m) else self._reach(position, radius_m)
        best: tuple[Key, str] | None = None
        for head, queue in heads:
            key = (head[0], head[1])
            if best is not None and key >= best[0]:
                break
            order_id = head[2]
            if (in_reach is None or in_reach(order_id)) and acceptable(order_id):
                best = key, order_id  # the head of a cell in reach: the usual answer
            elif len(queue) > 1:
                best = _best_after_head(queue, in_reach, acceptable, best)
        return None if best is None else best[1]

    def _queues_in_box(self, position: Position, radius_m: float) -> list[OrderQueue]:
        """The occupied cells of the radius's search box, or all of them when they are fewer
        than the box has cells (few orders, or an infinite radius in queue-only models)."""
        cells = self._cells
        side = 2.0 * radius_m / self._grid.cell_m
        if len(cells) <= side * side:
            return list(cells.values())
        spans = self._grid.row_spans(position, radius_m, len(cells))
        if spans is None:
            return list(cells.values())
        get, stride = cells.get, self._grid.stride
        return [queue for row, first, last, n in spans for x in range(first, last + 1)
                if (queue := get(row * stride + x % n)) is not None]

    def _reach(self, position: Position, radius_m: float) -> Callable[[str], bool]:
        """Whether an order's pickup is within radius_m by haversine_m: decided by squared
        chords of unit vectors when clear of the radius, by haversine_m in the thin band."""
        px, py, pz = unit_vector(position)
        below, above = chord2_bounds(radius_m)
        pickup_of = self._pickup_of

        def in_reach(order_id: str) -> bool:
            pickup, x, y, z = pickup_of[order_id]
            dx, dy, dz = x - px, y - py, z - pz
            chord2 = dx * dx + dy * dy + dz * dz
            if chord2 <= below:
                return True
            return chord2 <= above and haversine_m(position, pickup) <= radius_m

        return in_reach


def _best_after_head(
    queue: OrderQueue,
    in_reach: Callable[[str], bool] | None,
    acceptable: Callable[[str], bool],
    best: tuple[Key, str] | None,
) -> tuple[Key, str] | None:
    """The better of `best` and the first reachable, acceptable order of `queue` after its head."""
    entries = queue.in_service_order()
    next(entries)  # the head, already turned down
    for effective_at, seq, order_id in entries:
        key = (effective_at, seq)
        if best is not None and key >= best[0]:
            return best
        if (in_reach is None or in_reach(order_id)) and acceptable(order_id):
            return key, order_id
    return best
