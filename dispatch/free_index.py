"""The grid index of free cars: exact k-nearest lookups that never scan the fleet.

Cars are bucketed by `Grid` cell. A lookup reads the search box of a small
radius first (one cell, about), and doubles the radius until the k best cars
found lie within it or the pickup radius is reached: every car within the
current radius lies in a cell already read (`dispatch.geo` for why), so the
answer is exactly what a brute-force haversine scan returns, and a car next
door costs a handful of cells however dense the fleet. Each doubling reads
only the columns the box gained. The cost is capped by the pickup radius's box
and by the occupied cells, at any latitude.
"""

from __future__ import annotations

import math
from bisect import insort
from collections.abc import Iterator

from dispatch.geo import BOX_MARGIN_RAD, BOX_MARGIN_REL, EARTH_RADIUS_M, Cell, Grid, Span, angles, haversine_m
from dispatch.model import Position

_sin = math.sin
_cos = math.cos

Car = tuple[Position, float, float, float]
"""A free car as its cell holds it: position, latitude and longitude in radians, cos(latitude).
The radians and the cosine are computed once per upsert, so the inner loop of a lookup
compares the haversine term `hav(dlat) + cos cos hav(dlon)` (monotone in the distance)
with two sines, and only a car that can enter the k best gets an exact `haversine_m`."""


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
        lat, lon = angles(position)
        drivers[driver_id] = (position, lat, lon, _cos(lat))

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
        lat, lon = angles(p)
        query = (p, lat, lon, _cos(lat))
        read: dict[int, tuple[int, int]] = {}  # row -> the columns read so far, unwrapped
        reach = min(radius_m, self.grid.cell_m)
        while cells:
            spans = self.grid.row_spans(p, reach, limit=len(cells))
            if spans is None:  # the box outgrew the occupied cells: read those instead
                best.clear()
                for drivers in cells.values():
                    _collect(query, drivers, k, radius_m, best)
                break
            self._read_new_columns(query, k, radius_m, best, spans, read)
            if reach >= radius_m or (len(best) == k and best[-1][0] <= reach):
                break  # every car nearer than `reach` has been read
            reach = min(radius_m, 2.0 * reach)
        return best

    def _read_new_columns(
        self,
        query: Car,
        k: int,
        radius_m: float,
        best: list[tuple[float, str]],
        spans: list[Span],
        read: dict[int, tuple[int, int]],
    ) -> None:
        """Collect the cars of the box's cells not read at a smaller reach.

        A box only grows with the reach, so in each row the new columns are at most
        two runs either side of those read, or the rest of the row once it is whole.
        """
        cells = self._cells
        get = cells.get
        stride = self.grid.stride
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
                        _collect(query, drivers, k, radius_m, best)


def _collect(
    query: Car,
    drivers: dict[str, Car],
    k: int,
    radius_m: float,
    best: list[tuple[float, str]],
) -> None:
    """Merge one cell's cars into the sorted k best (ties broken by driver id).

    A car whose haversine term exceeds that of the current bound (widened by the
    grid's margins, far beyond rounding and the ~1e-15 rad between radians taken
    before and after subtracting) cannot enter, and is skipped without an exact
    distance; the distances that decide are `haversine_m`'s, as a scan's are.
    """
    p, lat, lon, cos_lat = query
    h_max = _hav_bound(best[-1][0] if len(best) == k else radius_m)
    for driver_id, (position, q_lat, q_lon, q_cos) in drivers.items():
        s_lat = _sin((q_lat - lat) * 0.5)
        s_lon = _sin((q_lon - lon) * 0.5)
        if s_lat * s_lat + cos_lat * q_cos * s_lon * s_lon > h_max:
            continue
        dist_m = haversine_m(p, position)
        if dist_m <= radius_m and (len(best) < k or (dist_m, driver_id) < best[-1]):
            insort(best, (dist_m, driver_id))
            if len(best) > k:
                best.pop()
            if len(best) == k:
                h_max = _hav_bound(best[-1][0])


def _hav_bound(dist_m: float) -> float:
    """An upper bound of the haversine term of any pair whose `haversine_m` is <= dist_m."""
    half_angle = (dist_m / EARTH_RADIUS_M * (1.0 + BOX_MARGIN_REL) + BOX_MARGIN_RAD) * 0.5
    if half_angle >= math.pi / 2:
        return math.inf
    s = _sin(half_angle)
    return s * s
