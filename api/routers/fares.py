"""A fare quote before the order exists: what the operator reads out while the caller is on the line.

The same tariff and the same drive (`dispatch.tariff.estimate_fare`) as the
quote stored with the order when it is taken (`api.live.fares`), so the figure
on the form is the figure in the queue.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import OrderTaking, ServiceDep
from dispatch.model import Position
from dispatch.tariff import estimate_fare

router = APIRouter(prefix="/fares", tags=["orders"])
_LAT = Query(ge=-90, le=90, allow_inf_nan=False)
_LON = Query(ge=-180, le=180, allow_inf_nan=False)


class FareQuote(BaseModel):
    fare: float
    currency: str
    dist_m: float
    duration_s: float


@router.get("/estimate", response_model=FareQuote)
def estimate(
    principal: OrderTaking,
    service: ServiceDep,
    pickup_lat: Annotated[float, _LAT],
    pickup_lon: Annotated[float, _LON],
    dropoff_lat: Annotated[float, _LAT],
    dropoff_lon: Annotated[float, _LON],
) -> FareQuote:
    """The tariff (`KEEPCAB_FARE_BASE`, `_PER_KM`, `_PER_MIN`) over the ride, as the dispatcher drives."""
    setup = service.setup
    pickup, dropoff = Position(pickup_lat, pickup_lon), Position(dropoff_lat, dropoff_lon)
    quote = estimate_fare(setup.tariff, pickup, dropoff, setup.config)
    return FareQuote(
        fare=round(quote.fare, 2), currency=setup.currency, dist_m=quote.dist_m, duration_s=quote.duration_s
    )
