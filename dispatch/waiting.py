"""Waiting orders, partitioned by pickup cell so a freed car never scans the queue.

Each grid cell holds its own `OrderQueue`; all of them share one arrival
counter, so keys `(effective_at, seq)` are comparable across cells and the
whole set has one service order. A freed car looks only at the occupied cells
that may hold an order in reach: while they are few, those inside its own cell's
search box for the pickup radius (`Grid.cell_box`: every point within the radius
of any point of the cell; it depends only on the cell and the radius, so it is
computed once and kept, and the search does no geometry); once they outnumber
that box's cells, those of the point's own, tighter box (`Grid.row_spans`). Both
are bounded at any latitude. It takes them in
the order of their heads and stops at the first head that ranks behind the best
order found; in a cell it reads entries in service order until one is in reach
and admitted, which in a cell wholly in reach is the head. Whether an order is in
reach is decided by squared chords of unit vectors, and by `haversine_m` only in
the thin band around the radius (`chord2_bounds`), so the answer is what a scan of
every waiting order by `haversine_m` gives.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator
from operator import itemgetter

from dispatch.geo import Cell, Grid, chord2_bounds, haversine_m
from dispatch.model import Position
from dispatch.queue import OrderQueue

Key = tuple[float, int]
Pickup = tuple[Position, float, float, float]  # and its unit vector
Unit = tuple[float, float, float]
InReach = Callable[[str], bool]

BOX_CACHE_LIMIT = 1 << 14
"""Search boxes kept (one per cell a freed car searched from, per radius) before the cache
starts over: a city's cells several times over."""


class WaitingOrders:
    def __init__(self, grid: Grid, max_head_start_s: float) -> None:
        self._grid = grid
        self._max_head_start_s = max_head_start_s
        self._cells: dict[Cell, OrderQueue] = {}
        self._cell_of: dict[str, Cell] = {}
        self._pickup_of: dict[str, Pickup] = {}
        self._boxes: dict[tuple[Cell, float], frozenset[Cell]] = {}
        self._bounds: dict[float, tuple[float, float]] = {}  # radius -> chord2_bounds

    def __len__(self) -> int:
        return len(self._cell_of)

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._cell_of

    def push(
        self, order_id: str, pickup: Position, due_at: float, head_start_s: float, seq: int
    ) -> float:
        cell, x, y, z = self._grid.locate(pickup)
        queue = self._cells.get(cell)
        if queue is None:
            queue = self._cells[cell] = OrderQueue(self._max_head_start_s)
        effective_at = queue.push(order_id, due_at, head_start_s, seq)
        self._cell_of[order_id] = cell
        self._pickup_of[order_id] = (pickup, x, y, z)
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
        home, px, py, pz = self._grid.locate(position)
        heads = [(entry, queue) for queue in self._queues_in_box(position, home, radius_m)
                 if (entry := queue.head_entry()) is not None]
        if len(heads) > 1:
            heads.sort(key=itemgetter(0))  # seqs are unique: entries never tie
        bounds = self._bounds.get(radius_m)
        if bounds is None:
            bounds = self._bounds[radius_m] = chord2_bounds(radius_m)
        below, above = bounds
        pickup_of = self._pickup_of
        best: tuple[Key, str] | None = None
        for head, queue in heads:
            key = (head[0], head[1])
            if best is not None and key >= best[0]:
                break
            order_id = head[2]
            pickup, x, y, z = pickup_of[order_id]
            dx, dy, dz = x - px, y - py, z - pz
            chord2 = dx * dx + dy * dy + dz * dz
            if (chord2 <= below or (chord2 <= above and haversine_m(position, pickup) <= radius_m)) and (
                acceptable(order_id)
            ):
                best = key, order_id  # the head of a cell in reach: the usual answer
            elif len(queue) > 1:
                in_reach = self._reach(position, (px, py, pz), radius_m, bounds)
                best = _best_after_head(queue, in_reach, acceptable, best)
        return None if best is None else best[1]

    def _queues_in_box(self, position: Position, home: Cell, radius_m: float) -> list[OrderQueue]:
        """The occupied cells that may hold an order within the radius (every one of them
        for an infinite radius, in queue-only models).

        With fewer occupied cells than `home`'s kept box (`Grid.cell_box`) has, the occupied
        cells outside it are skipped, with no geometry; with more, the point's own box
        (`Grid.row_spans`) is read: it is tighter than the cell's, so fewer heads out of
        reach, each of which may send the walk into its cell's queue.
        """
        cells = self._cells
        if radius_m == math.inf:
            return list(cells.values())
        box = self._boxes.get((home, radius_m))
        if box is None:
            box = self._box(home, radius_m)
        if len(cells) <= len(box):
            return [queue for cell, queue in cells.items() if cell in box]
        spans = self._grid.row_spans(position, radius_m, len(cells))
        if spans is None:  # not expected (the point's box lies within its cell's), but safe
            return list(cells.values())
        get, stride = cells.get, self._grid.stride
        return [queue for row, first, last, n in spans for x in range(first, last + 1)
                if (queue := get(row * stride + x % n)) is not None]

    def _box(self, home: Cell, radius_m: float) -> frozenset[Cell]:
        """`Grid.cell_box` of `home` for the radius as a set of cells, kept for the next search."""
        if len(self._boxes) >= BOX_CACHE_LIMIT:
            self._boxes.clear()
        spans = self._grid.cell_box(home, radius_m)
        assert spans is not None  # no limit asked
        stride = self._grid.stride
        box = self._boxes[home, radius_m] = frozenset(
            row * stride + x % n for row, first, last, n in spans for x in range(first, last + 1)
        )
        return box

    def _reach(
        self, position: Position, unit: Unit, radius_m: float, bounds: tuple[float, float]
    ) -> InReach:
        """Whether an order's pickup is within radius_m by haversine_m, as `best_for` decides
        it for a head: by squared chords when clear of the radius, haversine_m in the band."""
        px, py, pz = unit
        below, above = bounds
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
    in_reach: InReach,
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
        if in_reach(order_id) and acceptable(order_id):
            return key, order_id
    return best
