"""The grid index of free cars: exact k-nearest lookups that never scan the fleet.

Cars are bucketed by `Grid` cell. A lookup reads rings of cells around the
query's cell, nearest first: ring 0 is the search box of reach about one cell
around the cell (`Grid.cell_box`: every point within the reach of any point of
the cell), ring j what the box of reach j + 1 cells adds. It widens (to the
ring that covers the k-th best distance found, or the next) until the k best
cars lie within the rings read or the pickup radius is reached: every car
within the current reach lies in a cell already read (`dispatch.geo` for why),
so the answer is exactly what a brute-force haversine scan returns, and a car
next door costs a handful of cells however dense the fleet. A ring depends only
on the cell, its level and the radius, so it is computed once and kept: the
lookup itself does no box geometry. Listing rings costs a few lookups' worth of
geometry, so the first lookups from a cell use the point's own search boxes
instead (`Grid.row_spans`, widened the same way); only a cell asked from again
and again, as a city's busy cells are, gets its rings. The cost is capped by the
pickup radius's box and by the occupied cells, at any latitude. A fleet smaller than
the box has cells is scanned whole, from one dict of every free car.

In every pass cars are compared by squared chords of unit vectors (no trigonometry),
and only the cars that can win get an exact `haversine_m`. The matcher always asks
for one car, so k = 1 has its own pass (`car_pass.collect_nearest`): the nearest and
runner-up chords in one loop, one exact distance, and the ranked merge of any k only
when the runner-up is not surely farther (a tie, or the rounding band).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache

from dispatch.car_pass import Car, Query, collect
from dispatch.geo import Cell, Grid, Span
from dispatch.model import Position

Ring = tuple[float, int, list[dict[str, Car]] | None]
"""(reach, cells in the whole box, the buckets of the box's cells that the previous ring's
box lacks: None while the box has more cells than the index has occupied ones).

A ring holds the cells' buckets themselves, not their cell numbers: a bucket, once made,
stays in the index while it is empty (`FreeDriverIndex._occupied` counts the others), so
a kept ring stays right as cars come and go, and a lookup reads its buckets with no dict
look-up per cell. Empty buckets are dropped when the ring cache starts over."""

RING_SHORTFALL = 1e-4  # of a cell: see `_reach`
RING_CACHE_LIMIT = 1 << 16
"""Rings (and cells counted) kept before the cache starts over: a city's query cells many
times over."""
POINT_LOOKUPS = 2
"""Lookups from a cell made with the point's own boxes before the cell's rings are listed:
listing a ring costs a few lookups' worth of geometry, which pays only for a cell asked
from again and again, not for one asked once or twice (`bench/dispatch.py`'s lookups from
3,000 random points over 8,000 cells ran at 44,000/s with rings at once, 80,000-100,000/s
with this, as before rings)."""


class FreeDriverIndex:
    """Free cars bucketed by grid cell, answering exact k-nearest queries.

    A lookup from a point reads rings of cells around the point's cell: ring j is
    the part of the cell's search box for reach j + 1 cells (capped by the radius,
    `Grid.cell_box`) that ring j - 1's box lacks. A ring depends only on the cell,
    the level and the radius, so it is computed once and kept: a lookup does no box
    geometry (no trigonometry), only dict look-ups of the cells it names. (The first
    `POINT_LOOKUPS` lookups from a cell use the point's own boxes instead.) When a
    box would have more cells than the index has occupied ones (few cars far apart,
    or an infinite radius), the lookup reads every free car instead (one dict): fewer
    look-ups, same answer.
    """

    __slots__ = ("_asked", "_cars", "_cells", "_occupied", "_point_lookups", "_rings", "grid")

    def __init__(
        self, cell_m: float = 1000.0, point_lookups: int = POINT_LOOKUPS, grid: Grid | None = None
    ) -> None:
        self.grid = Grid(cell_m) if grid is None else grid
        self._point_lookups = point_lookups
        self._cells: dict[Cell, dict[str, Car]] = {}  # buckets, some empty (see `Ring`)
        self._occupied = 0  # buckets with a car in them
        self._cars: dict[str, Car] = {}  # every free car, for the scan of a small fleet
        self._rings: dict[tuple[Cell, int, float], Ring] = {}
        self._asked: dict[Cell, int] = {}  # lookups from a cell before its rings are listed

    def upsert(self, driver_id: str, position: Position) -> None:
        """Add a free car or move it."""
        cell, x, y, z = self.grid.locate(position)
        old = self._cars.get(driver_id)
        if old is not None and old[5] != cell:
            self._drop_from_cell(driver_id, old[5])
        car = self._cars[driver_id] = (driver_id, x, y, z, position, cell)
        drivers = self._cells.get(cell)
        if drivers is None:
            drivers = self._cells[cell] = {}
        if not drivers:
            self._occupied += 1
        drivers[driver_id] = car

    def remove(self, driver_id: str) -> None:
        self._drop_from_cell(driver_id, self._cars.pop(driver_id)[5])

    def _drop_from_cell(self, driver_id: str, cell: Cell) -> None:
        drivers = self._cells[cell]
        del drivers[driver_id]
        if not drivers:
            self._occupied -= 1  # the bucket stays: kept rings hold it

    @property
    def ids(self) -> dict[str, Car]:
        """Every free car by id (`FreeCars.ids`); read it, never change it."""
        return self._cars

    def position_of(self, driver_id: str) -> Position:
        return self._cars[driver_id][4]

    def __contains__(self, driver_id: object) -> bool:
        return driver_id in self._cars

    def __len__(self) -> int:
        return len(self._cars)

    def __iter__(self) -> Iterator[str]:
        return iter(self._cars)

    def nearest(self, p: Position, k: int = 1, radius_m: float = math.inf) -> list[tuple[float, str]]:
        """Up to k `(dist_m, driver_id)` within radius_m, sorted: exactly a brute-force scan."""
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k!r}")
        if not radius_m >= 0.0:
            raise ValueError(f"radius_m must be >= 0, got {radius_m!r}")
        home, x, y, z = self.grid.locate(p)
        query = (p, x, y, z)
        if len(self._cars) <= _scan_up_to(radius_m, self.grid.cell_m):  # a small fleet: scan it
            best: list[tuple[float, str]] = []
            collect(query, (self._cars,), k, radius_m, best)
            return best
        asked = self._asked.get(home, 0)
        if asked < self._point_lookups:  # a cell seldom asked from: the point's own boxes
            if len(self._asked) >= RING_CACHE_LIMIT:
                self._asked.clear()
            self._asked[home] = asked + 1
            return self._nearest_in_point_boxes(query, k, radius_m)
        return self._nearest_in_rings(query, home, k, radius_m)

    def _nearest_in_rings(self, query: Query, home: Cell, k: int, radius_m: float) -> list[tuple[float, str]]:
        """The lookup from a cell asked before: its rings, in order (see the class doc)."""
        best: list[tuple[float, str]] = []
        rings, level, upto = self._rings, 0, 0
        while True:
            found = []
            reach = 0.0
            for ring_level in range(level, upto + 1):  # rings are read whole and in order
                ring = rings.get((home, ring_level, radius_m))
                if ring is None or (ring[2] is None and ring[1] <= self._occupied):
                    ring = self._ring(home, ring_level, radius_m)
                reach, _, ring_cells = ring
                if ring_cells is None:  # the box outgrew the occupied cells: read those instead
                    best.clear()
                    collect(query, (self._cars,), k, radius_m, best)
                    return best
                found += ring_cells
            collect(query, found, k, radius_m, best)
            if reach >= radius_m or (len(best) == k and best[-1][0] <= reach):
                return best  # every car nearer than `reach` has been read
            # With k cars in hand the answer lies within the k-th one's distance; else widen.
            level = upto + 1
            upto = max(level, self._level_of(best[-1][0])) if len(best) == k else level

    def _nearest_in_point_boxes(self, query: Query, k: int, radius_m: float) -> list[tuple[float, str]]:
        """The lookup from a cell not asked before: the search boxes of the point itself
        (`Grid.row_spans`), widened to the k-th distance found or double, each reading
        only the columns it gained. It costs a little box geometry per pass, which is
        cheaper than listing rings that may never be asked for again."""
        best: list[tuple[float, str]] = []
        p = query[0]
        read: dict[int, tuple[int, int]] = {}  # row -> the columns read so far, unwrapped
        reach = min(radius_m, self.grid.cell_m)
        while self._occupied:
            spans = self.grid.row_spans(p, reach, limit=self._occupied)
            if spans is None:  # the box outgrew the occupied cells: read those instead
                best.clear()
                collect(query, (self._cars,), k, radius_m, best)
                break
            collect(query, self._new_cells(spans, read), k, radius_m, best)
            if reach >= radius_m or (len(best) == k and best[-1][0] <= reach):
                break  # every car nearer than `reach` has been read
            reach = min(radius_m, best[-1][0] if len(best) == k else 2.0 * reach)
        return best

    def _new_cells(self, spans: list[Span], read: dict[int, tuple[int, int]]) -> list[dict[str, Car]]:
        """The occupied cells of a point's box not read at a smaller reach.

        A box only grows with the reach, so in each row the new columns are at most
        two runs either side of those read, or the rest of the row once it is whole.
        """
        get = self._cells.get
        stride = self.grid.stride
        found = []
        for row, first, last, n in spans:
            base = row * stride
            seen = read.get(row)
            runs: tuple[tuple[int, int], ...]
            if seen is None:
                runs = ((first, last),)
            elif last - first + 1 >= n:
                first, last = seen[0], seen[0] + n - 1
                runs = ((seen[1] + 1, last),)
            else:
                runs = ((first, seen[0] - 1), (seen[1] + 1, last))
            read[row] = (first, last)
            for lo, hi in runs:
                for x in range(lo, hi + 1):
                    drivers = get(base + x % n)
                    if drivers:
                        found.append(drivers)
        return found

    def _ring(self, home: Cell, level: int, radius_m: float) -> Ring:
        """Ring `level` around `home` (see the class docstring), kept for the next lookup.

        A box with more cells than are occupied now is not listed (`None`): the lookup
        reads the occupied cells instead, and lists the ring once the index fills up.
        """
        rings = self._rings
        if len(rings) >= RING_CACHE_LIMIT:
            rings.clear()
            self._asked.clear()
            self._cells = {cell: drivers for cell, drivers in self._cells.items() if drivers}
        occupied = self._occupied
        reach = self._reach(level, radius_m)
        box = self._box(home, reach, occupied)
        if box is None:
            ring: Ring = (reach, occupied + 1, None)
        else:
            inner = set(self._box(home, self._reach(level - 1, radius_m)) or ()) if level else set()
            bucket = self._cells.setdefault
            ring = (reach, len(box), [bucket(cell, {}) for cell in set(box) - inner])
        rings[home, level, radius_m] = ring
        return ring

    def _reach(self, level: int, radius_m: float) -> float:
        """Ring `level`'s reach: (level + 1) cells, 10 cm less per cell so that the box of a cell
        `cell_m` tall does not take in a row that only the margins touch."""
        return min(radius_m, self.grid.cell_m * (level + 1) * (1.0 - RING_SHORTFALL))

    def _level_of(self, dist_m: float) -> int:
        """A ring level whose reach is at least dist_m (the first such, or the next)."""
        return int(dist_m / (self.grid.cell_m * (1.0 - RING_SHORTFALL)))

    def _box(self, home: Cell, reach: float, limit: float = math.inf) -> list[Cell] | None:
        spans = self.grid.cell_box(home, reach, limit)
        if spans is None:
            return None
        stride = self.grid.stride
        return [row * stride + x % n for row, first, last, n in spans for x in range(first, last + 1)]


@lru_cache(maxsize=16)
def _scan_up_to(radius_m: float, cell_m: float) -> float:
    """Fleets this small are scanned whole: fewer cars than a search box has cells
    (with no radius, than the 8 x 8 cells around the caller). Asked on every lookup,
    with one radius and one cell size."""
    side = 2.0 * radius_m / cell_m if radius_m < math.inf else 8.0
    return side * side
