"""Destination and fare quote over HTTP, on SQLite and PostgreSQL, with a firm's tariff set."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Engine

from api.models import Order, Role
from dispatch.config import DispatchConfig
from dispatch.model import Position
from dispatch.tariff import Tariff, estimate_fare
from tests.api.app_fixtures import CENTRE, Live, start_live, stop_live

TARIFF = Tariff(fare_base=150.0, fare_per_km=25.0, fare_per_min=8.0)
DROPOFF = (CENTRE[0] + 0.03, CENTRE[1] + 0.02)


@pytest.fixture
async def priced(database_url: str, engine: Engine) -> AsyncIterator[Live]:
    """A live app whose firm charges 150 + 25/km + 8/min, in roubles."""
    running, lifespan = await start_live(
        database_url, engine, fare_base=150.0, fare_per_km=25.0, fare_per_min=8.0, currency="RUB"
    )
    try:
        yield running
    finally:
        await stop_live(running, lifespan)


def _expected() -> float:
    config = DispatchConfig()  # the settings' defaults are the engine's
    return round(estimate_fare(TARIFF, Position(*CENTRE), Position(*DROPOFF), config).fare, 2)


async def test_an_order_with_a_destination_carries_the_tariffs_quote(priced: Live) -> None:
    """The order stores the destination text and point and the quote; /fares/estimate gave the same."""
    asked = await priced.get(
        "/fares/estimate",
        params={
            "pickup_lat": CENTRE[0],
            "pickup_lon": CENTRE[1],
            "dropoff_lat": DROPOFF[0],
            "dropoff_lon": DROPOFF[1],
        },
    )
    assert asked.status_code == 200, asked.text
    quote = asked.json()
    assert quote["fare"] == _expected() and quote["currency"] == "RUB" and quote["dist_m"] > 0
    order = await priced.order(
        dropoff_lat=DROPOFF[0], dropoff_lon=DROPOFF[1], dropoff_address="Airport, terminal B"
    )
    assert order["fare_estimate"] == quote["fare"]
    assert order["dropoff_address"] == "Airport, terminal B"
    again = (await priced.get(f"/orders/{order['id']}")).json()
    assert (again["fare_estimate"], again["dropoff_lat"]) == (quote["fare"], DROPOFF[0])
    queue = (await priced.get("/queue")).json()
    assert queue, "the order waits: no car is online"


async def test_no_destination_no_quote_and_bad_points_name_their_field(priced: Live) -> None:
    """No drop-off point, no quote; a half pair or an out-of-range point is a 422 naming it."""
    bare = await priced.order(dropoff_address="somewhere downtown")
    assert bare["fare_estimate"] is None and bare["dropoff_address"] == "somewhere downtown"
    half = await priced.post(
        "/orders", json={"pickup_lat": CENTRE[0], "pickup_lon": CENTRE[1], "dropoff_lat": 55.8}
    )
    assert half.status_code == 422 and "dropoff_lon" in half.text
    params = {"pickup_lat": CENTRE[0], "pickup_lon": CENTRE[1], "dropoff_lat": 91, "dropoff_lon": 0}
    wrong = await priced.get("/fares/estimate", params=params)
    assert wrong.status_code == 422 and "dropoff_lat" in wrong.text
    assert (await priced.get("/fares/estimate", role=Role.ANALYST, params=params)).status_code == 403


async def test_a_replayed_key_with_another_destination_is_refused_and_erasure_takes_the_text(
    priced: Live,
) -> None:
    """The destination text is part of the request an Idempotency-Key names, and personal data."""
    body = {
        "pickup_lat": CENTRE[0],
        "pickup_lon": CENTRE[1],
        "phone": "+79123456789",
        "dropoff_address": "Lenina 5",
    }
    first = await priced.post("/orders", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201, first.text
    other = await priced.post(
        "/orders", json={**body, "dropoff_address": "Lenina 7"}, headers={"Idempotency-Key": "k1"}
    )
    assert other.status_code == 422 and "dropoff_address" in other.text
    customer_id = first.json()["customer_id"]
    erased = await priced.client.delete(
        f"/customers/{customer_id}/personal-data", headers=priced.auth(Role.ADMIN)
    )
    assert erased.status_code == 200, erased.text
    with priced.session() as session:
        row = session.get(Order, first.json()["id"])
        assert row is not None and row.dropoff_address is None
