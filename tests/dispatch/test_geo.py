"""Geo: haversine, ETA and the latitude-adaptive grid (the globe-wide search bounds: test_globe)."""

from __future__ import annotations

import math

import pytest

from dispatch.geo import EARTH_RADIUS_M, Grid, eta_s, haversine_m, unit_vector
from dispatch.model import Position
from tests.dispatch.geo_cases import offset


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
    """Cells must have a positive finite size; positions must have a latitude on the globe."""
    for cell_m in (0.0, -5.0, math.inf, math.nan):
        with pytest.raises(ValueError, match="cell_m"):
            Grid(cell_m)
    with pytest.raises(ValueError, match="latitude"):
        Grid().cell_of(Position(91.0, 0.0))
    with pytest.raises(ValueError, match="radius_m"):
        Grid().cells_within(Position(0.0, 0.0), math.inf)


def test_cells_are_about_cell_m_wide_and_tall() -> None:
    """A 10 km walk east or north at 60 N crosses 10 km / cell_m cells (+-1): no cell is narrower."""
    grid = Grid(500.0)
    east = {grid.cell_of(offset((60.0, 30.0), metres / 1000.0, 0.0)) for metres in range(10_000)}
    north = {grid.cell_of(offset((60.0, 30.0), 0.0, metres / 1000.0)) for metres in range(10_000)}
    assert 19 <= len(east) <= 21 and 20 <= len(north) <= 21
    assert len({cell // grid.stride for cell in east}) == 1


def test_rows_near_the_poles_have_few_columns() -> None:
    """The row touching a pole is one cell, the j-th row below about 2 pi j: near a pole a row
    is a short ring of cells, never the whole globe's columns."""
    grid = Grid(1000.0)
    top = grid.cell_of(Position(90.0, 0.0)) // grid.stride
    assert grid.columns(top) == 1
    assert all(1 <= grid.columns(top - j) <= 2 * math.pi * (j + 1) for j in range(1, 6))
    assert grid.cell_of(Position(90.0, 0.0)) == grid.cell_of(Position(89.9999, -170.0))
    bottom = grid.cell_of(Position(-90.0, 0.0)) // grid.stride
    assert grid.columns(bottom) == 1
    assert grid.columns(0) == math.floor(2 * math.pi * EARTH_RADIUS_M * math.cos(1000 / EARTH_RADIUS_M)
                                         / 1000.0)


def test_columns_wrap_round_the_antimeridian() -> None:
    """Cells either side of +-180 degrees are neighbours: a small search from one finds the other."""
    grid = Grid(1000.0)
    west_side, east_side = Position(-17.8, 179.999), Position(-17.8, -179.999)
    assert grid.cell_of(east_side) in grid.cells_within(west_side, 500.0)
    assert grid.cell_of(west_side) in grid.cells_within(east_side, 500.0)
    cells = grid.cells_within(west_side, 3000.0)
    assert len(cells) == len(set(cells))


def test_locate_answers_for_the_position_asked_whatever_was_asked_before() -> None:
    """The kept last answer is for that Position object only: another position, or an equal
    one asked after it, gets its own cell and unit vector."""
    grid = Grid(1000.0)
    a, b = Position(55.75, 37.6), Position(-33.9, 151.2)
    fresh = {q: (Grid(1000.0).cell_of(q), *unit_vector(q)) for q in (a, b)}
    for q in (a, a, b, a, Position(55.75, 37.6), b, b):
        assert grid.locate(q) == fresh[q]
