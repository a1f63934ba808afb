"""Geo: haversine, ETA, conservative grid bounds and exact nearest-free-car search."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.geo import EARTH_RADIUS_M, Grid, eta_s, haversine_m
from dispatch.model import Position
from tests.dispatch.geo_cases import cell_sizes, cities, offset, offsets_km


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
