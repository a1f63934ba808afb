"""The grid index of free cars: exact k-nearest lookups that never scan the fleet.

Cars are bucketed by `Grid` cell; a lookup walks rings of cells outward from the
caller and stops on the ring's lower distance bound (see `dispatch.geo` for why
the bounds hold on the sphere), so it returns exactly what a brute-force
haversine scan returns while reading only the neighbourhood.
"""

from __future__ import annotations

import math
from bisect import insort
from collections.abc import Iterator

from dispatch.geo import Cell, Grid, haversine_m
from dispatch.model import Position


class FreeDriverIndex:
    """Free cars bucketed by grid cell, answering exact k-nearest queries.

    `nearest` visits rings of cells outward from the query's cell and stops as soon
    as a ring's lower bound exceeds the radius or the k-th best distance found, so a
    lookup touches only the neighbourhood when cars are spread out. When the next
    ring would have more cells than there are unvisited occupied cells (few cars
    far apart, typically with an infinite radius), it instead scans the remaining
    occupied cells nearest-bound first: fewer lookups, same answer.
    """

    __slots__ = ("_cells", "_where", "grid")

    def __init__(self, cell_m: float = 1000.0, ref_lat: float = 0.0) -> None:
        self.grid = Grid(cell_m, ref_lat)
        self._cells: dict[Cell, dict[str, Position]] = {}
        self._where: dict[str, Cell] = {}

    def upsert(self, driver_id: str, position: Position) -> None:
        """Add a free car or move it."""
        cell = self.grid.cell_of(position)
        old_cell = self._where.get(driver_id)
        if old_cell is not None and old_cell != cell:
            self._drop_from_cell(driver_id, old_cell)
        self._where[driver_id] = cell
        self._cells.setdefault(cell, {})[driver_id] = position

    def remove(self, driver_id: str) -> None:
        self._drop_from_cell(driver_id, self._where.pop(driver_id))

    def _drop_from_cell(self, driver_id: str, cell: Cell) -> None:
        drivers = self._cells[cell]
        del drivers[driver_id]
        if not drivers:
            del self._cells[cell]

    def position_of(self, driver_id: str) -> Position:
        return self._cells[self._where[driver_id]][driver_id]

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
        grid = self.grid
        lat, lon = grid._angles(p)
        centre = grid.cell_of(p)
        visited = 0
        r = 0
        while visited < len(cells):
            bound = best[-1][0] if len(best) == k else radius_m
            if grid._ring_bound_m(lat, lon, centre, r) > bound:
                break
            if 8 * r > len(cells) - visited:
                self._scan_remaining(p, k, radius_m, best, centre, r)
                break
            for cell in grid.ring_cells(centre, r):
                drivers = cells.get(cell)
                if drivers is not None:
                    visited += 1
                    _collect(p, drivers, k, radius_m, best)
            r += 1
        return best

    def _scan_remaining(
        self,
        p: Position,
        k: int,
        radius_m: float,
        best: list[tuple[float, str]],
        centre: Cell,
        r: int,
    ) -> None:
        """Finish a search over the occupied cells r or more rings out, nearest bound first."""
        lower_bounds = sorted(
            (self.grid.min_dist_m(p, cell), cell)
            for cell in self._cells
            if self.grid.rings_apart(cell, centre) >= r
        )
        for lower_bound, cell in lower_bounds:
            if lower_bound > (best[-1][0] if len(best) == k else radius_m):
                return
            _collect(p, self._cells[cell], k, radius_m, best)


def _collect(
    p: Position,
    drivers: dict[str, Position],
    k: int,
    radius_m: float,
    best: list[tuple[float, str]],
) -> None:
    """Merge one cell's cars into the sorted k best (ties broken by driver id)."""
    for driver_id, position in drivers.items():
        dist_m = haversine_m(p, position)
        if dist_m <= radius_m and (len(best) < k or (dist_m, driver_id) < best[-1]):
            insort(best, (dist_m, driver_id))
            if len(best) > k:
                best.pop()
