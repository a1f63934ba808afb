"""The grid index of free cars: exact k-nearest lookups that never scan the fleet.

Cars are bucketed by `Grid` cell. A lookup reads the search box of a small
radius first (one cell, about), and widens it (to the k-th best distance found,
or double) until the k best cars lie within it or the pickup radius is reached:
every car within the
current radius lies in a cell already read (`dispatch.geo` for why), so the
answer is exactly what a brute-force haversine scan returns, and a car next
door costs a handful of cells however dense the fleet. Each doubling reads
only the columns the box gained. The cost is capped by the pickup radius's box
and by the occupied cells, at any latitude.
"""

from __future__ import annotations

import math
from bisect import insort
from collections.abc import Iterable, Iterator

from dispatch.geo import Cell, Grid, Span, chord2_bounds, haversine_m, unit_vector
from dispatch.model import Position

Car = tuple[Position, float, float, float]
"""A free car as its cell holds it: position and its unit vector (`geo.unit_vector`),
computed once per upsert, so the inner loop of a lookup compares squared chords (no
trigonometry) and only a car that can enter the k best gets an exact `haversine_m`."""


class FreeDriverIndex:
    """Free cars bucketed by grid cell, answering exact k-nearest queries.

    When a search box would have more cells than the index has occupied ones (few
    cars far apart, or an infinite radius), the lookup reads the occupied cells
    instead: fewer look-ups, same answer.
    """

    __slots__ = ("_cells", "_where", "grid")

    def __init__(self, cell_m: float = 1000.0) -> None:
        self.grid = Grid(cell_m)
        self._cells: dict[Cell, dict[str, Car]] = {}
        self._where: dict[str, Cell] = {}

    def upsert(self, driver_id: str, position: Position) -> None:
        """Add a free car or move it."""
        cell = self.grid.cell_of(position)
        old_cell = self._where.get(driver_id)
        if old_cell is not None and old_cell != cell:
            self._drop_from_cell(driver_id, old_cell)
        self._where[driver_id] = cell
        drivers = self._cells.get(cell)
        if drivers is None:
            drivers = self._cells[cell] = {}
        drivers[driver_id] = (position, *unit_vector(position))

    def remove(self, driver_id: str) -> None:
        self._drop_from_cell(driver_id, self._where.pop(driver_id))

    def _drop_from_cell(self, driver_id: str, cell: Cell) -> None:
        drivers = self._cells[cell]
        del drivers[driver_id]
        if not drivers:
            del self._cells[cell]

    def position_of(self, driver_id: str) -> Position:
        return self._cells[self._where[driver_id]][driver_id][0]

    def __contains__(self, driver_id: object) -> bool:
        return driver_id in self._where

    def __len__(self) -> int:
        return len(self._where)

    def __iter__(self) -> Iterator[str]:
        return iter(self._where)

    def nearest(self, p: Position, k: int = 1, radius_m: float = math.inf) -> list[tuple[float, str]]:
        """Up to k `(dist_m, driver_id)` within radius_m, sorted: exactly a brute-force scan."""
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k!r}")
        if not radius_m >= 0.0:
            raise ValueError(f"radius_m must be >= 0, got {radius_m!r}")
        best: list[tuple[float, str]] = []
        cells = self._cells
        query = (p, *unit_vector(p))
        if len(self._where) <= self._scan_up_to(radius_m):  # a small fleet: scan it
            _collect(query, cells.values(), k, radius_m, best)
            return best
        read: dict[int, tuple[int, int]] = {}  # row -> the columns read so far, unwrapped
        reach = min(radius_m, self.grid.cell_m)
        while cells:
            spans = self.grid.row_spans(p, reach, limit=len(cells))
            if spans is None:  # the box outgrew the occupied cells: read those instead
                best.clear()
                _collect(query, cells.values(), k, radius_m, best)
                break
            _collect(query, self._new_cells(spans, read), k, radius_m, best)
            if reach >= radius_m or (len(best) == k and best[-1][0] <= reach):
                break  # every car nearer than `reach` has been read
            # With k cars in hand the answer lies within the k-th one's distance; else widen.
            reach = min(radius_m, best[-1][0] if len(best) == k else 2.0 * reach)
        return best

    def _scan_up_to(self, radius_m: float) -> float:
        """Fleets this small are scanned whole: fewer cars than a search box has cells
        (with no radius, than the 8 x 8 cells around the caller)."""
        side = 2.0 * radius_m / self.grid.cell_m if radius_m < math.inf else 8.0
        return side * side

    def _new_cells(self, spans: list[Span], read: dict[int, tuple[int, int]]) -> list[dict[str, Car]]:
        """The occupied cells of the box not read at a smaller reach.

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
                    if drivers is not None:
                        found.append(drivers)
        return found


def _collect(
    query: Car,
    cells: Iterable[dict[str, Car]],
    k: int,
    radius_m: float,
    best: list[tuple[float, str]],
) -> None:
    """Merge the cells' cars into the sorted k best (ties broken by driver id).

    Cars are ranked by squared chord first (no trigonometry); taken in that order,
    each gets its exact `haversine_m` until the next one's chord is surely beyond the
    k-th best distance (`chord2_bounds`, widened far beyond rounding), so usually
    about k exact distances are computed, and the distances that decide are
    `haversine_m`'s, as a scan's are.
    """
    p, px, py, pz = query
    limit = chord2_bounds(best[-1][0] if len(best) == k else radius_m)[1]
    ranked = [
        (chord2, driver_id, position)
        for drivers in cells
        for driver_id, (position, x, y, z) in drivers.items()
        if (chord2 := (x - px) * (x - px) + (y - py) * (y - py) + (z - pz) * (z - pz)) <= limit
    ]
    ranked.sort()
    for chord2, driver_id, position in ranked:
        if chord2 > limit:
            return
        dist_m = haversine_m(p, position)
        if dist_m <= radius_m and (len(best) < k or (dist_m, driver_id) < best[-1]):
            insort(best, (dist_m, driver_id))
            if len(best) > k:
                best.pop()
            if len(best) == k:
                limit = chord2_bounds(best[-1][0])[1]
