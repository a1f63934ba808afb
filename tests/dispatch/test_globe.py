"""Searches anywhere on the globe: exact answers and a bounded number of cells, poles included.

Issue 10: a driver online at 89.5 N beside 130 queued orders in Moscow froze the
single writer (the old ring search walked every longitude column of the globe).
Every search now reads the cells of its radius's bounding box only; these tests
check, over any latitude in [-90, 90] and longitude in [-180, 180], that the
answers equal a brute-force scan and that the cells read stay within
`box_cell_bound`, which does not depend on where the search runs.
"""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings, target
from hypothesis import strategies as st

from dispatch.commands import DriverOnline
from dispatch.free_index import FreeDriverIndex
from dispatch.geo import EARTH_RADIUS_M, Grid, haversine_m
from dispatch.model import DriverStatus, Position
from dispatch.waiting import WaitingOrders
from tests.dispatch.geo_cases import brute_force
from tests.dispatch.polar_case import CountingCells, bucket_reads, count_waiting_reads, queued_in_moscow


def box_cell_bound(radius_m: float, cell_m: float) -> float:
    """Cells in a search box at most, at any latitude (docs/dispatch.md derives it):
    rows 2R/cell + 2, and per row at most the columns of a ring of radius 2R + cell."""
    return (2 * radius_m / cell_m + 3) * (4 * math.pi * (radius_m + cell_m) / cell_m + 8)


def destination(p: Position, bearing_deg: float, dist_m: float) -> Position:
    """The point dist_m from p along an initial bearing (great circle), valid at the poles."""
    lat, lon, bearing = math.radians(p.lat), math.radians(p.lon), math.radians(bearing_deg)
    angle = dist_m / EARTH_RADIUS_M
    lat2 = math.asin(
        max(
            -1.0,
            min(1.0, math.sin(lat) * math.cos(angle) + math.cos(lat) * math.sin(angle) * math.cos(bearing)),
        )
    )
    lon2 = lon + math.atan2(
        math.sin(bearing) * math.sin(angle) * math.cos(lat), math.cos(angle) - math.sin(lat) * math.sin(lat2)
    )
    return Position(max(-90.0, min(90.0, math.degrees(lat2))), (math.degrees(lon2) + 180.0) % 360.0 - 180.0)


extremes = st.sampled_from([90.0, -90.0, 89.999, -89.999, 89.5, 0.0])
latitudes = st.one_of(st.floats(-90.0, 90.0), extremes)
longitudes = st.one_of(st.floats(-180.0, 180.0), st.sampled_from([-180.0, 180.0, 179.9999, 0.0]))
positions = st.builds(Position, latitudes, longitudes)
nearby = st.tuples(st.floats(0.0, 360.0), st.floats(0.0, 12_000.0))  # bearing, metres from p
radii = st.sampled_from([0.0, 300.0, 2000.0, 5000.0])
cell_sizes = st.sampled_from([250.0, 1000.0])


@settings(max_examples=300, deadline=None)
@given(positions, radii, cell_sizes, st.lists(nearby, max_size=25), st.lists(positions, max_size=8))
def test_point_and_cell_boxes_cover_the_radius_anywhere(
    p: Position,
    radius_m: float,
    cell_m: float,
    near: list[tuple[float, float]],
    anywhere: list[Position],
) -> None:
    """Every point within the radius lies in a cell of the box, and the box is bounded; so
    for the box of p's cell (what the free-car index keeps per cell), which holds p's box
    and is bounded as a point's box is with one cell more."""
    grid = Grid(cell_m)
    cells = grid.cells_within(p, radius_m)
    covered = set(cells)
    assert len(cells) == len(covered) <= box_cell_bound(radius_m, cell_m)
    assert grid.cell_of(p) in covered
    for q in [destination(p, bearing, dist) for bearing, dist in near] + anywhere:
        if haversine_m(p, q) <= radius_m:
            assert grid.cell_of(q) in covered
    spans = grid.cell_box(grid.cell_of(p), radius_m)
    assert spans is not None
    cell_box = {row * grid.stride + x % n for row, first, last, n in spans for x in range(first, last + 1)}
    assert covered <= cell_box and len(cell_box) <= box_cell_bound(radius_m + cell_m, cell_m)


@settings(max_examples=200, deadline=None)
@given(
    positions,
    radii,
    st.integers(1, 4),
    st.lists(nearby, max_size=40),
    st.lists(positions, max_size=10),
    st.sampled_from([0, 2]),
)
def test_nearest_anywhere_equals_brute_force_within_bounded_cells(
    p: Position,
    radius_m: float,
    k: int,
    near: list[tuple[float, float]],
    anywhere: list[Position],
    point_lookups: int,
) -> None:
    """k-nearest at any position (poles, antimeridian, far from every car) is a scan's answer,
    read from at most two search boxes' worth of cells: the point's boxes, or with
    `point_lookups` 0 the kept rings of its cell (a cell's box: one cell more of radius)."""
    index = FreeDriverIndex(1000.0, point_lookups)
    cars = {f"n{i}": destination(p, b, d) for i, (b, d) in enumerate(near)}
    cars.update({f"a{i}": q for i, q in enumerate(anywhere)})
    for driver_id, q in cars.items():
        index.upsert(driver_id, q)
    with bucket_reads(index) as reads:
        assert index.nearest(p, k, radius_m) == brute_force(cars, p, k, radius_m)
    target(float(reads[0]), label="cells read by nearest")
    box_radius_m = radius_m if point_lookups else radius_m + 1000.0
    assert reads[0] <= 2 * box_cell_bound(box_radius_m, 1000.0)
    assert index.nearest(p, k) == brute_force(cars, p, k, math.inf)


@settings(max_examples=200, deadline=None)
@given(
    positions,
    radii,
    st.lists(st.tuples(nearby, st.booleans()), max_size=40),
    st.lists(positions, max_size=10),
)
def test_best_for_anywhere_equals_brute_force_within_bounded_cells(
    p: Position,
    radius_m: float,
    near: list[tuple[tuple[float, float], bool]],
    anywhere: list[Position],
) -> None:
    """The best admitted order in reach at any position is a scan's answer, from one box of cells."""
    waiting = WaitingOrders(Grid(1000.0), 300.0)
    rows = [(destination(p, b, d), ok) for (b, d), ok in near] + [(q, True) for q in anywhere]
    admitted = {}
    for seq, (where, ok) in enumerate(rows):
        waiting.push(f"o{seq}", where, float(seq % 7), 0.0, seq)
        admitted[f"o{seq}"] = ok
    waiting._cells = counting = CountingCells(waiting._cells)
    expected = min(
        (
            (seq % 7, seq, f"o{seq}")
            for seq, (where, ok) in enumerate(rows)
            if ok and haversine_m(p, where) <= radius_m
        ),
        default=(0, 0, None),
    )[2]
    assert waiting.best_for(p, radius_m, admitted.__getitem__) == expected
    target(float(counting.reads), label="cells read by best_for")
    assert counting.reads <= box_cell_bound(radius_m, 1000.0)


POLAR = [(89.5, 37.6), (90.0, 0.0), (-89.9, 179.99), (89.99, -180.0)]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("lat, lon", POLAR)
def test_a_driver_online_at_the_pole_beside_130_queued_orders_is_answered(lat: float, lon: float) -> None:
    """Issue 10's freeze: 130 orders queued in distinct cells, then a driver online near a pole.
    The old ring search walked every longitude column of the globe (minutes, past the timeout)."""
    dispatcher = queued_in_moscow(130)
    decisions = dispatcher.handle(DriverOnline("polar", Position(lat, lon)), 1.0)
    assert [d.status for d in decisions] == [DriverStatus.FREE]  # type: ignore[attr-defined]


@pytest.mark.parametrize("lat, lon", [*POLAR, (55.0, 37.6)])
def test_the_polar_driver_reads_one_search_box_of_cells(lat: float, lon: float) -> None:
    """The same search reads at most `box_cell_bound` cells at the pole as at 55 N."""
    dispatcher = queued_in_moscow(130)
    counting = count_waiting_reads(dispatcher)
    assert len(counting) == 130
    dispatcher.handle(DriverOnline("polar", Position(lat, lon)), 1.0)
    assert 0 < counting.reads <= box_cell_bound(5000.0, 1000.0)
