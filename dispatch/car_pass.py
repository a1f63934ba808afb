"""The passes of a free-car lookup: the cars of the cells read, merged into the k best.

`FreeDriverIndex` decides which cells a pass reads; these functions decide which of
their cars are the k nearest by `haversine_m`, ties broken by driver id, exactly as a
brute-force scan would. Squared chords of unit vectors (no trigonometry) decide
which cars can win; only those get an exact distance.
"""

from __future__ import annotations

import math
from bisect import insort
from collections.abc import Collection
from functools import lru_cache

from dispatch.geo import Cell, chord2_bounds, haversine_m
from dispatch.model import Position

Car = tuple[str, float, float, float, Position, Cell]
"""A free car as the index holds it: driver id, unit vector (`geo.unit_vector`), position
and cell, computed once per upsert, so the inner loop of a lookup compares squared chords
(no trigonometry) and only a car that can enter the k best gets an exact `haversine_m`.
One flat tuple, read from `dict.values()`: the loop unpacks it once."""


Query = tuple[Position, float, float, float]
"""The point asked from and its unit vector."""


def collect(
    query: Query, cells: Collection[dict[str, Car]], k: int, radius_m: float, best: list[tuple[float, str]]
) -> None:
    """Merge the cells' cars into the sorted k best (ties broken by driver id)."""
    if k == 1:
        collect_nearest(query, cells, radius_m, best)
    else:
        merge_ranked(query, cells, k, radius_m, best)


def merge_ranked(
    query: Query, cells: Collection[dict[str, Car]], k: int, radius_m: float, best: list[tuple[float, str]]
) -> None:
    """`collect` for any k. Cars are ranked by squared chord first (no trigonometry);
    taken in that order, each gets its exact `haversine_m` until the next one's chord is
    surely beyond the k-th best distance (`chord2_bounds`, widened far beyond rounding),
    so usually about k exact distances are computed, and the distances that decide are
    `haversine_m`'s, as a scan's are."""
    p, px, py, pz = query
    limit = chord2_bounds(best[-1][0] if len(best) == k else radius_m)[1]
    ranked = [
        (chord2, driver_id, position)
        for drivers in cells
        for driver_id, x, y, z, position, _ in drivers.values()
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


@lru_cache(maxsize=16)
def _radius_limits(radius_m: float) -> tuple[float, float]:
    """(the squared chord beyond which a car is surely outside radius_m, the next float up):
    what a first pass starts from. A matcher asks with one radius again and again, and
    working it out cost about a tenth of a city lookup."""
    limit = chord2_bounds(radius_m)[1]
    return limit, math.nextafter(limit, math.inf)


def collect_nearest(
    query: Query, cells: Collection[dict[str, Car]], radius_m: float, best: list[tuple[float, str]]
) -> None:
    """`collect` for k = 1, which is what the matcher always asks: one pass keeps the
    smallest squared chord and the runner-up's, and only the nearest car gets its exact
    `haversine_m`. When the runner-up's chord is not surely beyond that distance
    (`chord2_bounds`: a tie, or a car in the rounding band) or the nearest car lies
    beyond the radius by `haversine_m`, the cells go through the ranked merge of
    `merge_ranked` after all, so the answer is the same to the last bit and id.
    """
    p, px, py, pz = query
    if best:
        limit = chord2_bounds(best[0][0])[1]
        first = second = math.nextafter(limit, math.inf)  # no car yet: above every car in reach
    else:
        limit, first = _radius_limits(radius_m)
        second = first
    nearest_id, nearest_at = None, p
    for drivers in cells:
        for driver_id, x, y, z, position, _ in drivers.values():
            dx, dy, dz = x - px, y - py, z - pz
            chord2 = dx * dx + dy * dy + dz * dz
            if chord2 <= second:
                if chord2 <= first:
                    second, first, nearest_id, nearest_at = first, chord2, driver_id, position
                else:
                    second = chord2
    if nearest_id is None or first > limit:
        return  # no car in reach
    dist_m = haversine_m(p, nearest_at)
    if dist_m <= radius_m:
        if not best or (dist_m, nearest_id) < best[0]:
            best[:] = [(dist_m, nearest_id)]
        if second > chord2_bounds(best[0][0])[1]:
            return  # every other car is surely farther than the best one
    merge_ranked(query, cells, 1, radius_m, best)
