"""The fare quote of an order: the firm's tariff over the ride from pickup to destination.

Quoted once, when the order is taken, and stored with it (`orders.fare_estimate`),
so the queue, the console and a later look at the order all show the figure the
operator read out, even if the tariff changes afterwards. No destination, no quote.
"""

from __future__ import annotations

from api.models import Order
from dispatch.config import DispatchConfig
from dispatch.model import Position
from dispatch.tariff import Tariff, estimate_fare


def quote(tariff: Tariff, config: DispatchConfig, row: Order) -> float | None:
    if row.dropoff_lat is None or row.dropoff_lon is None:
        return None
    pickup, dropoff = Position(row.pickup_lat, row.pickup_lon), Position(row.dropoff_lat, row.dropoff_lon)
    return round(estimate_fare(tariff, pickup, dropoff, config).fare, 2)
