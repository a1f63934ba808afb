"""The tariff: base + per km + per minute, quoted over the dispatcher's drive."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.config import DispatchConfig
from dispatch.geo import haversine_m
from dispatch.model import Position
from dispatch.tariff import Tariff, estimate_fare

A, B = Position(55.75, 37.60), Position(55.78, 37.65)


def test_a_fare_adds_the_base_the_kilometres_and_the_minutes() -> None:
    """3 + 1.2/km x 5 km + 0.5/min x 10 min = 14."""
    assert Tariff(3.0, 1.2, 0.5).fare(5000.0, 600.0) == pytest.approx(14.0)


def test_the_estimate_drives_like_the_dispatcher() -> None:
    """Road distance is the straight line times the detour; time is that over the configured speed."""
    config = DispatchConfig(speed_mps=10.0, detour_factor=1.5)
    quote = estimate_fare(Tariff(2.0, 1.0, 0.3), A, B, config)
    road_m = haversine_m(A, B) * 1.5
    assert quote.dist_m == pytest.approx(road_m)
    assert quote.duration_s == pytest.approx(road_m / 10.0)
    assert quote.fare == pytest.approx(2.0 + road_m / 1000.0 + 0.3 * road_m / 10.0 / 60.0)


@pytest.mark.parametrize("field", ["fare_base", "fare_per_km", "fare_per_min"])
@pytest.mark.parametrize("value", [-0.01, math.inf, math.nan])
def test_a_tariff_refuses_negative_and_infinite_prices(field: str, value: float) -> None:
    """A price below zero, infinite or NaN names its field."""
    with pytest.raises(ValueError, match=field):
        Tariff(**{field: value})


@given(
    base=st.floats(0, 100), per_min=st.floats(0, 10), duration_s=st.floats(0, 20_000),
    lat=st.floats(-60, 60), lon=st.floats(-170, 170),
)  # fmt: skip
def test_without_a_price_per_km_a_trip_costs_what_the_simulator_always_charged(
    base: float, per_min: float, duration_s: float, lat: float, lon: float
) -> None:
    """fare_per_km = 0 gives base + per_min x minutes to the last bit, so earlier results stand."""
    fare = Tariff(base, 0.0, per_min).trip_fare(Position(lat, lon), A, duration_s, 1.3)
    assert fare == base + per_min * duration_s / 60.0
