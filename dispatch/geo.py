"""Distances, travel-time estimates and the grid that buckets free cars and waiting orders.

The grid is a latitude-adaptive one: rows are `cell_m` tall everywhere, and each
row has as many columns as fit `cell_m` wide along its poleward (narrowest) edge,
so a cell is at least `cell_m` wide wherever it lies, and the rows next to a pole
have a handful of columns (the row touching it, one). A search of radius `R`
reads the cells of the radius's bounding box on the sphere: the rows within
`R / EARTH_RADIUS_M` of latitude, and in each row the columns within the cap's
longitude half-width `asin(sin(rho) / cos(lat))` (all of them when the cap holds
a pole). Because no cell is narrower than `cell_m`, that box has at most about
`(2R/cell_m + 2) * (pi R/cell_m + 2)` cells at any latitude, the poles and the
antimeridian included: the cost of a search depends on the radius and the cell
size only, never on where on the globe it runs (the earlier design, one column
width for the whole globe fixed at a reference latitude, made a search near a
pole walk every column of the globe).

The box is widened by a relative and absolute margin far larger than
floating-point rounding, and cell indices are the same monotone function of
latitude and longitude for points and for box edges, so every point within `R`
(by `haversine_m`, the distance every search compares) lies in a cell the box
yields: searches return exactly what a brute-force haversine scan returns.
"""

from __future__ import annotations

import math

from dispatch.model import Position

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean Earth radius
BOX_MARGIN_REL = 1e-9  # widens every search box, in radians, far beyond rounding
BOX_MARGIN_RAD = 1e-9  # ~6 mm

Cell = int  # row * Grid.stride + column: an int hashes and compares faster than a tuple

_HALF_PI = math.pi / 2
_TAU = 2 * math.pi
_radians = math.radians
_sin = math.sin
_cos = math.cos
_asin = math.asin
_sqrt = math.sqrt


def haversine_m(a: Position, b: Position) -> float:
    """Great-circle distance in metres on a spherical Earth (error < 0.5% against WGS84)."""
    if a.lat == b.lat and a.lon == b.lon:  # common in zone models; the formula gives 0.0 too
        return 0.0
    lat_a = _radians(a.lat)
    lat_b = _radians(b.lat)
    sin_half_dlat = _sin((lat_b - lat_a) * 0.5)
    sin_half_dlon = _sin(_radians(b.lon - a.lon) * 0.5)
    h = sin_half_dlat * sin_half_dlat + _cos(lat_a) * _cos(lat_b) * sin_half_dlon * sin_half_dlon
    return 2.0 * EARTH_RADIUS_M * _asin(_sqrt(min(1.0, h)))


def eta_s(dist_m: float, speed_mps: float, detour_factor: float = 1.3) -> float:
    """Seconds to cover a straight-line distance by road.

    Road distance is taken as `detour_factor` times the straight line; 1.3 is a
    common urban circuity figure (a guess to be fitted per city, not a constant).
    """
    if not 0.0 <= dist_m < math.inf:
        raise ValueError(f"dist_m must be finite and >= 0, got {dist_m!r}")
    if not 0.0 < speed_mps < math.inf:
        raise ValueError(f"speed_mps must be finite and > 0, got {speed_mps!r}")
    if not 1.0 <= detour_factor < math.inf:
        raise ValueError(f"detour_factor must be finite and >= 1, got {detour_factor!r}")
    return dist_m * detour_factor / speed_mps


def angles(p: Position) -> tuple[float, float]:
    """(lat, lon) in radians, longitude wrapped into [-pi, pi)."""
    if not -90.0 <= p.lat <= 90.0:
        raise ValueError(f"latitude must be within [-90, 90], got {p.lat!r}")
    if not math.isfinite(p.lon):
        raise ValueError(f"longitude must be finite, got {p.lon!r}")
    return _radians(p.lat), _radians((p.lon + 180.0) % 360.0 - 180.0)


def unit_vector(p: Position) -> tuple[float, float, float]:
    """p as a point of the unit sphere. The chord between two such points is
    2 sin(angle / 2), monotone in the great-circle distance, so comparing squared
    chords (three differences, no trigonometry) orders distances as haversine_m does."""
    lat, lon = angles(p)
    cos_lat = _cos(lat)
    return cos_lat * _cos(lon), cos_lat * _sin(lon), _sin(lat)


def chord2_bounds(dist_m: float) -> tuple[float, float]:
    """(below, above): a squared chord below `below` is surely within dist_m by haversine_m,
    one above `above` surely beyond it; in between, only haversine_m can tell. The band
    is the grid's margins, far wider than the rounding of either computation.

    No trigonometry: the chord of an angle t is 2 sin(t / 2), which lies between
    t - t^3 / 24 and t, so those two bound it from below and above (the band widens by
    about t^3 / 12, a hair at city scale; a search asks this once per pass).
    """
    angle = dist_m / EARTH_RADIUS_M
    inner = angle * (1.0 - BOX_MARGIN_REL) - BOX_MARGIN_RAD
    outer = angle * (1.0 + BOX_MARGIN_REL) + BOX_MARGIN_RAD
    if inner <= 0.0:
        below = -1.0
    elif inner >= math.pi:
        below = 4.0
    else:
        low = inner - inner * inner * inner / 24.0
        below = low * low
    above = math.inf if outer >= math.pi else outer * outer
    return below, above


Span = tuple[int, int, int, int]
"""(row, first column, last column, columns in the row) of a search box. Columns run
first..last unwrapped (take them modulo the row's count); a whole row is 0..n-1."""


class Grid:
    """Rows `cell_m` tall; in each row, as many columns as fit `cell_m` wide at its poleward edge.

    Row `r` covers latitudes `[r, r + 1) * cell_m / EARTH_RADIUS_M` (radians);
    column `c` of a row with `n` columns covers longitudes
    `-pi + [c, c + 1) * 2 pi / n`, so columns wrap round the antimeridian.
    """

    __slots__ = ("_located", "_row_step", "_rows", "cell_m", "stride")

    def __init__(self, cell_m: float = 1000.0) -> None:
        if not 0.0 < cell_m < math.inf:
            raise ValueError(f"cell_m must be finite and > 0, got {cell_m!r}")
        self.cell_m = float(cell_m)
        self._row_step = cell_m / EARTH_RADIUS_M  # radians of latitude per row
        self._rows: dict[int, tuple[int, float]] = {}
        self.stride = math.floor(_TAU / self._row_step) + 1  # more than any row's columns
        self._located: tuple[Position, tuple[Cell, float, float, float]] | None = None

    def columns(self, row: int) -> int:
        """How many columns row `row` has: at least one, none narrower than cell_m."""
        return self._row(row)[0]

    def _row(self, row: int) -> tuple[int, float]:
        """(columns, columns per radian of longitude) of a row, memoised."""
        known = self._rows.get(row)
        if known is None:
            step = self._row_step
            poleward = max(abs(row * step), abs((row + 1) * step))
            n = 1 if poleward >= _HALF_PI else max(1, math.floor(_TAU * _cos(poleward) / step))
            known = self._rows[row] = (n, n / _TAU)
        return known

    def cell_of(self, p: Position) -> Cell:
        lat, lon = angles(p)
        row = math.floor(lat / self._row_step)
        n, scale = self._row(row)
        return row * self.stride + min(n - 1, math.floor((lon + math.pi) * scale))

    def locate(self, p: Position) -> tuple[Cell, float, float, float]:
        """p's cell and unit vector (`cell_of`, `unit_vector`) from one conversion to radians.

        The last answer is kept for the same Position object (a value nobody assigns
        to: `dispatch.values.record`; the indexes keep stored positions' vectors too):
        one order's pickup is located by its car search and again as it joins the
        queue, one freed car's position by its order search and again as it joins the
        free index, and the indexes that ask share this grid."""
        located = self._located
        if located is not None and located[0] is p:
            return located[1]
        lat, lon = angles(p)
        row = math.floor(lat / self._row_step)
        n, scale = self._rows.get(row) or self._row(row)
        cos_lat = _cos(lat)
        answer = (
            row * self.stride + min(n - 1, math.floor((lon + math.pi) * scale)),
            cos_lat * _cos(lon),
            cos_lat * _sin(lon),
            _sin(lat),
        )
        self._located = (p, answer)
        return answer

    def cell_box(self, cell: Cell, radius_m: float, limit: float = math.inf) -> list[Span] | None:
        """The search box of every point within radius_m of any point of `cell`: what
        `row_spans` gives for each point of the cell, united (the cell's own latitude and
        longitude range, widened by the radius's and by one more margin for the edges).
        Its size depends on the radius and the cell size only, as `row_spans`' does; None
        if it has more than `limit` cells."""
        if not 0.0 <= radius_m < math.inf:
            raise ValueError(f"radius_m must be finite and >= 0, got {radius_m!r}")
        row, column = divmod(cell, self.stride)
        step = self._row_step
        n, _ = self._row(row)
        lat_lo, lat_hi = max(-_HALF_PI, row * step), min(_HALF_PI, (row + 1) * step)
        rho = radius_m / EARTH_RADIUS_M * (1.0 + BOX_MARGIN_REL) + 2.0 * BOX_MARGIN_RAD
        first_row = math.floor(max(-_HALF_PI, lat_lo - rho) / step)
        last_row = math.floor(min(_HALF_PI, lat_hi + rho) / step)
        if last_row - first_row + 1 > limit:
            return None
        poleward = lat_hi if abs(lat_hi) >= abs(lat_lo) else lat_lo
        whole = lat_hi + rho >= _HALF_PI or lat_lo - rho <= -_HALF_PI
        half_width = math.pi if whole else _lon_half_width(poleward, rho) + BOX_MARGIN_RAD
        west = column * _TAU / n - half_width - BOX_MARGIN_RAD
        east = (column + 1) * _TAU / n + half_width + BOX_MARGIN_RAD
        return self._spans(first_row, last_row, west, east, half_width >= math.pi, limit)

    def row_spans(self, p: Position, radius_m: float, limit: float = math.inf) -> list[Span] | None:
        """The search box of every point within radius_m of p, row by row; None if it has
        more than `limit` cells (the caller then reads its occupied cells instead)."""
        if not 0.0 <= radius_m < math.inf:
            raise ValueError(f"radius_m must be finite and >= 0, got {radius_m!r}")
        lat, lon = angles(p)
        rho = radius_m / EARTH_RADIUS_M * (1.0 + BOX_MARGIN_REL) + BOX_MARGIN_RAD
        step = self._row_step
        first_row = math.floor(max(-_HALF_PI, lat - rho) / step)
        last_row = math.floor(min(_HALF_PI, lat + rho) / step)
        if last_row - first_row + 1 > limit:
            return None
        half_width = _lon_half_width(lat, rho)
        west, east = lon - half_width + math.pi, lon + half_width + math.pi
        return self._spans(first_row, last_row, west, east, half_width >= math.pi, limit)

    def _spans(
        self, first_row: int, last_row: int, west: float, east: float, whole: bool, limit: float
    ) -> list[Span] | None:
        """Each row's columns between longitudes west and east (radians from -pi), or all of
        them; None past `limit` cells."""
        spans: list[Span] = []
        cells = 0
        rows, floor = self._rows, math.floor
        for row in range(first_row, last_row + 1):
            n, scale = rows.get(row) or self._row(row)
            first = floor(west * scale)
            last = floor(east * scale)
            if whole or last - first + 1 >= n:
                first, last = 0, n - 1
            spans.append((row, first, last, n))
            cells += last - first + 1
            if cells > limit:
                return None
        return spans

    def cells_within(self, p: Position, radius_m: float) -> list[Cell]:
        """Every cell that may hold a point within radius_m of p, each once.

        There are at most about (2 R / cell_m + 2) * (pi R / cell_m + 2) of them at any
        latitude; the radius must be finite.
        """
        spans = self.row_spans(p, radius_m)
        assert spans is not None
        stride = self.stride
        return [row * stride + x % n for row, first, last, n in spans for x in range(first, last + 1)]


def _lon_half_width(lat: float, rho: float) -> float:
    """Largest longitude difference (radians, widened) of a point within angle rho of
    latitude lat; pi when the cap holds a pole. For a cap clear of both poles it is
    asin(sin(rho) / cos(lat)), reached where a meridian touches the cap's rim."""
    if lat + rho >= _HALF_PI or lat - rho <= -_HALF_PI:
        return math.pi
    ratio = _sin(rho) / _cos(lat)
    if ratio >= 1.0:
        return math.pi
    return min(math.pi, _asin(ratio) * (1.0 + BOX_MARGIN_REL) + BOX_MARGIN_RAD)
