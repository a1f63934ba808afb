"""Geo: haversine, ETA, conservative grid bounds and exact nearest-free-car search."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch import geo
from dispatch.geo import EARTH_RADIUS_M, FreeDriverIndex, Grid, eta_s, haversine_m
from dispatch.model import Position

KM_PER_DEG_LAT = math.pi * EARTH_RADIUS_M / 180.0 / 1000.0

# (lat, lon) centres: equator, mid and high latitudes both sides, and the antimeridian.
CITIES = [
    (0.0, 0.0),
    (-6.2, 106.8),
    (40.7, -74.0),
    (55.75, 37.6),
    (59.9, 30.3),
    (64.1, -21.9),
    (70.0, 25.0),
    (-33.9, 151.2),
    (-54.8, -68.3),
    (-70.0, 2.0),
    (-17.8, 179.95),
    (66.0, -179.9),
]


def offset(city: tuple[float, float], east_km: float, north_km: float) -> Position:
    lat = city[0] + north_km / KM_PER_DEG_LAT
    lon = city[1] + east_km / (KM_PER_DEG_LAT * math.cos(math.radians(lat)))
    return Position(lat, (lon + 180.0) % 360.0 - 180.0)


def brute_force(
    drivers: dict[str, Position], p: Position, k: int, radius_m: float
) -> list[tuple[float, str]]:
    found = [(haversine_m(p, q), driver_id) for driver_id, q in drivers.items()]
    return sorted(hit for hit in found if hit[0] <= radius_m)[:k]


def test_haversine_known_values() -> None:
    """One degree of latitude is ~111.2 km; London-Paris matches the published 343.5 km."""
    assert haversine_m(Position(0, 0), Position(1, 0)) == pytest.approx(111_195, rel=1e-4)
    assert haversine_m(Position(45, 10), Position(45, 10)) == 0.0
    london, paris = Position(51.5074, -0.1278), Position(48.8566, 2.3522)
    assert haversine_m(london, paris) == pytest.approx(343_500, rel=0.005)
    assert haversine_m(london, paris) == haversine_m(paris, london)
    across = haversine_m(Position(0, 179.99), Position(0, -179.99))
    assert across == pytest.approx(2_224, rel=1e-3)
    antipode = haversine_m(Position(10, 20), Position(-10, -160))
    assert antipode == pytest.approx(math.pi * EARTH_RADIUS_M)


def test_eta() -> None:
    """ETA is road distance (detour x straight line) over speed; nonsense inputs are refused."""
    assert eta_s(1000.0, 10.0) == pytest.approx(130.0)
    assert eta_s(1000.0, 10.0, detour_factor=1.0) == pytest.approx(100.0)
    assert eta_s(0.0, 5.0) == 0.0
    for bad in [(-1.0, 10.0, 1.3), (1.0, 0.0, 1.3), (1.0, math.nan, 1.3), (1.0, 10.0, 0.9)]:
        with pytest.raises(ValueError):
            eta_s(*bad)


def test_grid_rejects_bad_parameters() -> None:
    """Cells must have a positive finite size and the reference latitude must be usable."""
    for cell_m in (0.0, -5.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="cell_m"):
            Grid(cell_m)
    with pytest.raises(ValueError, match="ref_lat"):
        Grid(1000.0, ref_lat=89.0)
    with pytest.raises(ValueError, match="latitude"):
        Grid().cell_of(Position(91.0, 0.0))


def test_cells_are_about_cell_m_wide_at_reference_latitude() -> None:
    """A 10 km walk east or north at ref_lat crosses 10 km / cell_m cells (+-1), column wrap aside."""
    grid = Grid(500.0, ref_lat=60.0)
    east = {grid.cell_of(offset((60.0, 30.0), metres / 1000.0, 0.0)) for metres in range(10_000)}
    north = {grid.cell_of(offset((60.0, 30.0), 0.0, metres / 1000.0)) for metres in range(10_000)}
    assert 20 <= len(east) <= 21 and 20 <= len(north) <= 21
    assert len({row for _, row in east}) == 1 and len({column for column, _ in north}) == 1


def test_columns_wrap_round_the_antimeridian() -> None:
    """Cells either side of +-180 degrees are one ring apart and found by cells_within."""
    grid = Grid(1000.0, ref_lat=-17.8)
    west_side, east_side = Position(-17.8, 179.999), Position(-17.8, -179.999)
    assert grid.rings_apart(grid.cell_of(west_side), grid.cell_of(east_side)) == 1
    assert grid.cell_of(east_side) in set(grid.cells_within(west_side, 500.0))
    ring = list(grid.ring_cells((0, 0), 3))
    assert len(ring) == len(set(ring)) == 24
    assert all(grid.rings_apart(cell, (0, 0)) == 3 for cell in ring)


cities = st.sampled_from(CITIES)
offsets_km = st.tuples(st.floats(-50.0, 50.0), st.floats(-50.0, 50.0))
cell_sizes = st.sampled_from([150.0, 1000.0, 4000.0])


@settings(max_examples=300, deadline=None)
@given(cities, offsets_km, offsets_km, cell_sizes, st.floats(-1.0, 1.0))
def test_grid_bounds_are_bounds(
    city: tuple[float, float],
    p_km: tuple[float, float],
    q_km: tuple[float, float],
    cell_m: float,
    ref_shift: float,
) -> None:
    """For any point q, min/max_dist_m of q's cell and ring_min_dist_m bracket dist(p, q)."""
    grid = Grid(cell_m, ref_lat=city[0] + ref_shift)
    p, q = offset(city, *p_km), offset(city, *q_km)
    dist_m = haversine_m(p, q)
    cell = grid.cell_of(q)
    assert grid.min_dist_m(p, cell) <= dist_m <= grid.max_dist_m(p, cell)
    home = grid.cell_of(p)
    assert grid.ring_min_dist_m(p, grid.rings_apart(cell, home)) <= dist_m
    assert grid.min_dist_m(p, home) == 0.0


def test_bounds_are_reasonably_tight() -> None:
    """A cell 10 km away has bounds within a cell diagonal of the true distance."""
    grid = Grid(1000.0, ref_lat=55.75)
    p = Position(55.75, 37.6)
    cell = grid.cell_of(offset((55.75, 37.6), 10.0, 0.0))
    low, high = grid.min_dist_m(p, cell), grid.max_dist_m(p, cell)
    assert 8_500 < low < 10_000 < high < 11_500


@settings(max_examples=150, deadline=None)
@given(cities, offsets_km, st.floats(0.0, 5000.0), st.lists(offsets_km, max_size=30))
def test_cells_within_covers_every_point_in_radius(
    city: tuple[float, float],
    p_km: tuple[float, float],
    radius_m: float,
    points_km: list[tuple[float, float]],
) -> None:
    """Every point within radius_m lies in one of the cells cells_within yields."""
    grid = Grid(700.0, ref_lat=city[0])
    p = offset(city, *p_km)
    covered = set(grid.cells_within(p, radius_m))
    assert grid.cell_of(p) in covered
    near = [offset(city, x + p_km[0], y + p_km[1]) for x, y in points_km]
    for q in near:
        if haversine_m(p, q) <= radius_m:
            assert grid.cell_of(q) in covered
    with pytest.raises(ValueError):
        next(grid.cells_within(p, math.inf))


def test_index_bookkeeping() -> None:
    """upsert adds or moves, remove forgets, and errors are KeyError/ValueError."""
    index = FreeDriverIndex(1000.0, ref_lat=59.9)
    index.upsert("a", Position(59.9, 30.3))
    index.upsert("b", Position(59.95, 30.4))
    index.upsert("a", Position(60.1, 30.0))
    assert len(index) == 2 and "a" in index and "zz" not in index
    assert sorted(index) == ["a", "b"]
    assert index.position_of("a") == Position(60.1, 30.0)
    index.remove("a")
    assert "a" not in index and [d for _, d in index.nearest(Position(60.1, 30.0))] == ["b"]
    with pytest.raises(KeyError):
        index.remove("a")
    with pytest.raises(KeyError):
        index.position_of("a")
    with pytest.raises(ValueError, match="k"):
        index.nearest(Position(0, 0), k=0)
    with pytest.raises(ValueError, match="radius_m"):
        index.nearest(Position(0, 0), radius_m=math.nan)
    index.remove("b")
    assert index.nearest(Position(0, 0), k=3) == [] and len(index) == 0


def test_all_drivers_at_one_point() -> None:
    """Many cars on one spot come back nearest first, ties by id, with or without a radius."""
    index = FreeDriverIndex(300.0, ref_lat=40.7)
    spot = Position(40.7, -74.0)
    for number in range(20):
        index.upsert(f"d{number:02d}", spot)
    p = offset((40.7, -74.0), 3.0, 4.0)
    hits = index.nearest(p, k=3)
    assert [d for _, d in hits] == ["d00", "d01", "d02"]
    assert hits[0][0] == pytest.approx(5000.0, rel=0.01)
    assert index.nearest(p, k=3, radius_m=4000.0) == []
    assert [d for _, d in index.nearest(spot, k=2, radius_m=0.0)] == ["d00", "d01"]


def test_nearest_does_not_scan_the_whole_fleet(monkeypatch: pytest.MonkeyPatch) -> None:
    """With cars spread over a city, a k=5 lookup reads only a few of the occupied cells."""
    index = FreeDriverIndex(500.0, ref_lat=55.75)
    for number in range(4000):
        east_km, north_km = (number % 63) * 1.5 - 47.0, (number // 63) * 1.5 - 47.0
        index.upsert(f"d{number}", offset((55.75, 37.6), east_km, north_km))
    cells_read = []
    real_collect = geo._collect

    def counting_collect(*args: object) -> None:
        cells_read.append(1)
        real_collect(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(geo, "_collect", counting_collect)
    assert len(index.nearest(Position(55.75, 37.6), k=5)) == 5
    assert len(index.nearest(Position(55.9, 37.9), k=5, radius_m=2000.0)) >= 1
    assert 0 < len(cells_read) < 100


fleet_ops = st.lists(
    st.tuples(st.integers(0, 60), st.one_of(offsets_km, st.none(), st.just((0.0, 0.0)))),
    min_size=1,
    max_size=150,
)
queries = st.lists(
    st.tuples(
        offsets_km,
        st.integers(1, 10),
        st.one_of(st.just(math.inf), st.floats(0.0, 20_000.0)),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=250, deadline=None)
@given(cities, cell_sizes, st.floats(-2.0, 2.0), st.sampled_from([1.0, 0.05]), fleet_ops, queries)
def test_nearest_equals_brute_force(
    city: tuple[float, float],
    cell_m: float,
    ref_shift: float,
    spread: float,
    ops: list[tuple[int, tuple[float, float] | None]],
    asks: list[tuple[tuple[float, float], int, float]],
) -> None:
    """After random adds, moves and removes, nearest returns exactly the brute-force answer.

    `spread` 1.0 scatters cars over ~100 km (mostly the occupied-cell scan), 0.05 packs
    them into ~5 km so that the ring search does the work.
    """
    index = FreeDriverIndex(cell_m, ref_lat=city[0] + ref_shift)
    drivers: dict[str, Position] = {}
    for number, where in ops:
        driver_id = f"d{number}"
        if where is None:
            if driver_id in drivers:
                index.remove(driver_id)
                del drivers[driver_id]
            continue
        drivers[driver_id] = offset(city, where[0] * spread, where[1] * spread)
        index.upsert(driver_id, drivers[driver_id])
    assert len(index) == len(drivers)
    for p_km, k, radius_m in asks:
        p = offset(city, *p_km)
        assert index.nearest(p, k, radius_m) == brute_force(drivers, p, k, radius_m)
