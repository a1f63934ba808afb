"""A firm's tariff: a fixed part, a price per kilometre and a price per minute.

One value for one concept. The simulator charges a completed trip with it
(`simulator.scenario.Trips.tariff`, the scenario's `[trips]` fields) and the
live server quotes an order's estimate with it (`api.settings.Settings.tariff`,
the same names with the `KEEPCAB_` prefix); both build it from `TARIFF_FIELDS`,
so a tariff a firm sets live can be put in a scenario unchanged.

The estimate drives like the dispatcher does: the straight line times the
detour factor, at the configured speed (`dispatch.geo.eta_s`). It is a quote
for the operator to read out, not what the meter will show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from dispatch.config import DispatchConfig
from dispatch.geo import eta_s, haversine_m
from dispatch.model import Position

TARIFF_FIELDS = ("fare_base", "fare_per_km", "fare_per_min")


@dataclass(frozen=True, slots=True)
class Tariff:
    fare_base: float = 0.0
    fare_per_km: float = 0.0
    fare_per_min: float = 0.0

    def __post_init__(self) -> None:
        for name in TARIFF_FIELDS:
            value = getattr(self, name)
            if not 0 <= value < math.inf:
                raise ValueError(f"Tariff.{name}: must be finite and >= 0, got {value!r}")

    def fare(self, dist_m: float, duration_s: float) -> float:
        """What a trip of this road distance and duration costs."""
        return self.fare_base + self.fare_per_km * dist_m / 1000.0 + self.fare_per_min * duration_s / 60.0

    def trip_fare(
        self, pickup: Position, dropoff: Position, duration_s: float, detour_factor: float
    ) -> float:
        """A finished trip's fare: its road distance (straight line times the detour) and its duration."""
        road_m = haversine_m(pickup, dropoff) * detour_factor if self.fare_per_km else 0.0
        return self.fare(road_m, duration_s)


@dataclass(frozen=True, slots=True)
class FareEstimate:
    dist_m: float  # by road: the straight line times the detour factor
    duration_s: float
    fare: float


def estimate_fare(
    tariff: Tariff, pickup: Position, dropoff: Position, config: DispatchConfig
) -> FareEstimate:
    """The quote for a ride from `pickup` to `dropoff` under `tariff`, driven as the dispatcher drives."""
    straight_m = haversine_m(pickup, dropoff)
    duration_s = eta_s(straight_m, config.speed_mps, config.detour_factor)
    road_m = straight_m * config.detour_factor
    return FareEstimate(road_m, duration_s, tariff.fare(road_m, duration_s))
