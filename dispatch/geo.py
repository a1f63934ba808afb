"""Distances, travel-time estimates and a grid index of free cars.

The grid is equirectangular: a cell is a rectangle in latitude and longitude,
`cell_m` metres tall and `cell_m` metres wide at the reference latitude. Cells are
only a bucketing device: every distance bound below is derived on the sphere from
the haversine identity

    hav(theta) = hav(dlat) + cos(lat_a) * cos(lat_b) * hav(dlon)

whose terms are each monotone in |dlat|, |dlon| (up to pi) and cos(lat_b). Bounding
each term over a cell's latitude and longitude ranges bounds the distance itself,
so the bounds hold at any latitude and across the antimeridian, and no projection
error needs a percentage margin. A small explicit margin (`BOUND_MARGIN_REL` plus
`BOUND_MARGIN_M`) still widens every bound to absorb floating-point rounding and
points that sit on a cell edge, so `FreeDriverIndex.nearest` returns exactly what a
brute-force haversine scan returns.

Validity: any position with latitude in [-90, 90] (longitudes are wrapped into
[-180, 180), and grid columns wrap round the antimeridian); `ref_lat` within +-85
degrees. Tested exact on areas ~100 km across at latitudes 0..70 N and S, including
one straddling the antimeridian. Efficiency, not correctness, assumes a city-scale
area around `ref_lat`: far from it cells become narrow (poleward) or wide.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from dispatch.model import Position

EARTH_RADIUS_M = 6_371_008.8  # IUGG mean Earth radius
BOUND_MARGIN_REL = 1e-6
BOUND_MARGIN_M = 0.01
MAX_REF_LAT = 85.0

Cell = tuple[int, int]  # (longitude index, latitude index)

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


def _hav(angle: float) -> float:
    s = _sin(angle * 0.5)
    return s * s


def _angle_m(h: float) -> float:
    return 2.0 * EARTH_RADIUS_M * _asin(_sqrt(min(1.0, max(0.0, h))))


def _lower(angle_m: float) -> float:
    return max(0.0, angle_m * (1.0 - BOUND_MARGIN_REL) - BOUND_MARGIN_M)


def _circular_gap(x: float, lo: float, hi: float) -> float:
    """Shortest way round the circle from angle x to the arc [lo, hi] (0 if inside)."""
    offset = (x - lo) % _TAU
    width = hi - lo
    if offset <= width:
        return 0.0
    return min(offset - width, _TAU - offset)


class Grid:
    """Equirectangular grid of square cells of cell_m metres around a reference latitude.

    Longitude columns tile the whole circle (their width is rounded down so that a
    whole number of them fits), and column indices wrap: the cell east of the last
    column is column 0, so searches cross the antimeridian like any other line.
    """

    __slots__ = ("_lat_step", "_lon_step", "cell_m", "columns", "ref_lat")

    def __init__(self, cell_m: float = 1000.0, ref_lat: float = 0.0) -> None:
        if not 0.0 < cell_m < math.inf:
            raise ValueError(f"cell_m must be finite and > 0, got {cell_m!r}")
        if not -MAX_REF_LAT <= ref_lat <= MAX_REF_LAT:
            raise ValueError(f"ref_lat must be within +-{MAX_REF_LAT} degrees, got {ref_lat!r}")
        self.cell_m = float(cell_m)
        self.ref_lat = float(ref_lat)
        self._lat_step = cell_m / EARTH_RADIUS_M  # radians of latitude per row
        wide_step = cell_m / (EARTH_RADIUS_M * _cos(_radians(ref_lat)))
        self.columns = max(1, math.ceil(_TAU / wide_step))
        self._lon_step = _TAU / self.columns  # radians of longitude per column

    def _angles(self, p: Position) -> tuple[float, float]:
        """(lat, lon) in radians, longitude wrapped into [-pi, pi)."""
        if not -90.0 <= p.lat <= 90.0:
            raise ValueError(f"latitude must be within [-90, 90], got {p.lat!r}")
        if not math.isfinite(p.lon):
            raise ValueError(f"longitude must be finite, got {p.lon!r}")
        return _radians(p.lat), _radians((p.lon + 180.0) % 360.0 - 180.0)

    def cell_of(self, p: Position) -> Cell:
        lat, lon = self._angles(p)
        column = min(self.columns - 1, math.floor((lon + math.pi) / self._lon_step))
        return column, math.floor(lat / self._lat_step)

    def _lon_arc(self, first_column: int, last_column: int) -> tuple[float, float]:
        """Longitudes (radians, as an arc that may pass pi) of columns first..last."""
        return -math.pi + first_column * self._lon_step, -math.pi + (last_column + 1) * self._lon_step

    def _lat_range(self, lo_row: int, hi_row: int) -> tuple[float, float]:
        """Latitudes (radians) covered by rows lo_row..hi_row, clipped to the poles."""
        return max(-_HALF_PI, lo_row * self._lat_step), min(_HALF_PI, (hi_row + 1) * self._lat_step)

    def rings_apart(self, a: Cell, b: Cell) -> int:
        """Chebyshev distance between cells, counting columns the short way round."""
        dx = (a[0] - b[0]) % self.columns
        return max(min(dx, self.columns - dx), abs(a[1] - b[1]))

    def ring_cells(self, centre: Cell, r: int) -> Iterator[Cell]:
        """The cells exactly r rings from centre, each once, wrapping round in longitude."""
        cx, cy = centre
        if r == 0:
            yield centre
            return
        n = self.columns
        edge = sorted({(cx - r) % n, (cx + r) % n}) if 2 * r <= n else []
        inner = range(n) if 2 * r - 1 >= n else [(cx + d) % n for d in range(1 - r, r)]
        for x in [*inner, *edge]:
            yield x, cy - r
            yield x, cy + r
        for x in edge:
            for y in range(cy - r + 1, cy + r):
                yield x, y

    def min_dist_m(self, p: Position, cell: Cell) -> float:
        """A lower bound of the haversine distance from p to any point of the cell."""
        lat, lon = self._angles(p)
        lat_lo, lat_hi = self._lat_range(cell[1], cell[1])
        if lat_lo > lat_hi:
            return math.inf  # the cell lies beyond a pole: it holds no point
        dlat = lat_lo - lat if lat < lat_lo else max(0.0, lat - lat_hi)
        dlon = _circular_gap(lon, *self._lon_arc(cell[0], cell[0]))
        cos_min = min(_cos(lat_lo), _cos(lat_hi))
        return _lower(_angle_m(_hav(dlat) + _cos(lat) * cos_min * _hav(dlon)))

    def max_dist_m(self, p: Position, cell: Cell) -> float:
        """An upper bound of the haversine distance from p to any point of the cell."""
        lat, lon = self._angles(p)
        lat_lo, lat_hi = self._lat_range(cell[1], cell[1])
        if lat_lo > lat_hi:
            return 0.0  # no point, so any bound holds
        dlat = max(abs(lat - lat_lo), abs(lat - lat_hi))
        gap = _circular_gap(lon, *self._lon_arc(cell[0], cell[0]))
        dlon = min(math.pi, gap + self._lon_step)
        cos_max = 1.0 if lat_lo <= 0.0 <= lat_hi else max(_cos(lat_lo), _cos(lat_hi))
        h = _hav(dlat) + _cos(lat) * cos_max * _hav(dlon)
        return _angle_m(h) * (1.0 + BOUND_MARGIN_REL) + BOUND_MARGIN_M

    def ring_min_dist_m(self, p: Position, r: int) -> float:
        """A lower bound of the distance from p to any point r or more rings from p's cell.

        Such a point lies outside the block of cells within r - 1 rings, so it is
        either outside the block's latitude band (at least that far along a
        meridian) or inside the band and outside the block's arc of longitude. A
        band side counts as empty only a whole row past a pole, so rounding at the
        poles cannot hide a point.
        """
        lat, lon = self._angles(p)
        return self._ring_bound_m(lat, lon, self.cell_of(p), r)

    def _ring_bound_m(self, lat: float, lon: float, centre: Cell, r: int) -> float:
        if r <= 0:
            return 0.0
        cx, cy = centre
        band_lo, band_hi = (cy - r + 1) * self._lat_step, (cy + r) * self._lat_step
        slack = self._lat_step
        below = lat - max(band_lo, -_HALF_PI) if band_lo > -_HALF_PI - slack else math.inf
        above = min(band_hi, _HALF_PI) - lat if band_hi < _HALF_PI + slack else math.inf
        outside_band = max(0.0, min(below, above))
        lat_m = _angle_m(_hav(outside_band)) if outside_band < math.inf else math.inf
        if 2 * r - 1 >= self.columns:
            return _lower(lat_m)  # the block spans every column
        arc_lo, arc_hi = self._lon_arc(cx - r + 1, cx + r - 1)
        lon_wrapped = arc_lo + (lon - arc_lo) % _TAU
        dlon = max(0.0, min(lon_wrapped - arc_lo, arc_hi - lon_wrapped))
        lat_lo, lat_hi = self._lat_range(cy - r + 1, cy + r - 1)
        cos_min = min(_cos(lat_lo), _cos(lat_hi))
        lon_m = _angle_m(_cos(lat) * cos_min * _hav(dlon))
        return _lower(min(lat_m, lon_m))

    def cells_within(self, p: Position, radius_m: float) -> Iterator[Cell]:
        """Every cell that may hold a point within radius_m of p, nearest rings first.

        The radius must be finite; the number of cells grows with (radius_m / cell_m)^2.
        """
        if not 0.0 <= radius_m < math.inf:
            raise ValueError(f"radius_m must be finite and >= 0, got {radius_m!r}")
        centre = self.cell_of(p)
        r = 0
        while self.ring_min_dist_m(p, r) <= radius_m:
            for cell in self.ring_cells(centre, r):
                if self.min_dist_m(p, cell) <= radius_m:
                    yield cell
            r += 1
