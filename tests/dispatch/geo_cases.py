"""Cities, offsets and a brute-force nearest search shared by the geo and free-index tests."""

from __future__ import annotations

import math

from hypothesis import strategies as st

from dispatch.geo import EARTH_RADIUS_M, haversine_m
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


cities = st.sampled_from(CITIES)
offsets_km = st.tuples(st.floats(-50.0, 50.0), st.floats(-50.0, 50.0))
cell_sizes = st.sampled_from([150.0, 1000.0, 4000.0])
