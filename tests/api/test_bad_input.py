"""Issue 10 §2 by hand: each bad input found on the live server is a 4xx naming the field, nothing coerced.

Bodies are sent as ASCII JSON (`\\udc80` escaped), exactly as a client with a
lone surrogate in a string would send them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlmodel import select

from api.models import Call, Driver, Order, Role
from tests.api import app_fixtures
from tests.api.app_fixtures import START_S, Live, start_live, stop_live

live = app_fixtures.live

AD = Role.ADMIN
AT = {"pickup_lat": 55.75, "pickup_lon": 37.61}
RING = {"event": "call.ringing", "call_id": "c1", "from": "+79123456789"}
SURROGATE, NUL, ESC, BEL, C1 = "\udc80", "\x00", "\x1b", "\x07", "\x85"
LONG_NUMBER = "+7" + "9" * 70

# (label, method, path, json body or form, expected status, field the 422 must name)
BAD: list[tuple[str, str, str, Any, int, str | None]] = [
    (
        "surrogate in login username",
        "POST",
        "/console/login",
        {"username": SURROGATE, "password": "x"},
        422,
        "username",
    ),
    (
        "NUL in login username",
        "POST",
        "/console/login",
        {"username": "a" + NUL, "password": "x"},
        422,
        "username",
    ),
    (
        "surrogate in password",
        "POST",
        "/console/login",
        {"username": "a", "password": SURROGATE},
        422,
        "password",
    ),
    (
        "surrogate in pickup_address",
        "POST",
        "/orders",
        {**AT, "pickup_address": SURROGATE},
        422,
        "pickup_address",
    ),
    (
        "C1 control in pickup_address",
        "POST",
        "/orders",
        {**AT, "pickup_address": "Mira" + C1},
        422,
        "pickup_address",
    ),
    (
        "surrogate in customer_name",
        "POST",
        "/orders",
        {**AT, "customer_name": SURROGATE},
        422,
        "customer_name",
    ),
    ("surrogate in phone", "POST", "/orders", {**AT, "phone": SURROGATE}, 422, "phone"),
    ("surrogate in a body key", "POST", "/orders", {**AT, SURROGATE: 1}, 422, None),
    ("surrogate in phone from", "POST", "/phone/events", {**RING, "from": SURROGATE}, 422, "from"),
    ("ESC in phone from", "POST", "/phone/events", {**RING, "from": ESC}, 422, "from"),
    ("surrogate in driver name", "POST", "/drivers", {"id": "d9", "name": SURROGATE}, 422, "name"),
    ("BEL in driver name", "POST", "/drivers", {"id": "d9", "name": "Ivan" + BEL}, 422, "name"),
    ("surrogate in cancel reason", "POST", "/orders/x/cancel", {"reason": SURROGATE}, 422, "reason"),
    ("at year 1 +14:00", "POST", "/phone/events", {**RING, "at": "0001-01-01T00:00:00+14:00"}, 422, "at"),
    ("at year 9999 -14:00", "POST", "/phone/events", {**RING, "at": "9999-12-31T23:59:59-14:00"}, 422, "at"),
    ("at a day before the clock", "POST", "/phone/events", {**RING, "at": "2026-09-20T08:00:00Z"}, 422, "at"),
    ("at = 1e12", "POST", "/phone/events", {**RING, "at": 1e12}, 422, "at"),
    ("at = unix seconds", "POST", "/phone/events", {**RING, "at": START_S}, 422, "at"),
    (
        "pickup_at year 9999 -14:00",
        "POST",
        "/orders",
        {**AT, "pickup_at": "9999-12-31T23:59:59-14:00"},
        422,
        "pickup_at",
    ),
    ("pickup_at as a number", "POST", "/orders", {**AT, "pickup_at": START_S + 3600}, 422, "pickup_at"),
    ("pickup_lon false", "POST", "/orders", {"pickup_lat": 55.75, "pickup_lon": False}, 422, "pickup_lon"),
    ("pickup_lat true", "POST", "/orders", {"pickup_lat": True, "pickup_lon": 37.61}, 422, "pickup_lat"),
    (
        "pickup_lat as a string",
        "POST",
        "/orders",
        {"pickup_lat": "55.7", "pickup_lon": 37.61},
        422,
        "pickup_lat",
    ),
    ("dropoff_lat without dropoff_lon", "POST", "/orders", {**AT, "dropoff_lat": 55.8}, 422, "dropoff_lon"),
    ("dropoff_lon without dropoff_lat", "POST", "/orders", {**AT, "dropoff_lon": 37.7}, 422, "dropoff_lat"),
    (
        "dropoff_lat null",
        "POST",
        "/orders",
        {**AT, "dropoff_lat": None, "dropoff_lon": 37.7},
        422,
        "dropoff_lat",
    ),
    (
        "allow_duplicate as a string",
        "POST",
        "/orders",
        {**AT, "allow_duplicate": "yes"},
        422,
        "allow_duplicate",
    ),
    ("letters in a phone", "POST", "/orders", {**AT, "phone": "+7 912 ABC 67 89"}, 422, "phone"),
    ("driver lon false", "POST", "/drivers/d1/online", {"lat": 55.75, "lon": False}, 422, "lon"),
    ("driver lat true", "POST", "/drivers/d1/position", {"lat": True, "lon": 37.61}, 422, "lat"),
    (
        "fare as a string",
        "POST",
        "/drivers/d1/trip-completed",
        {"lat": 55.7, "lon": 37.6, "fare": "100"},
        422,
        "fare",
    ),
    (
        "head_start_s true",
        "POST",
        "/orders/x/priority",
        {"head_start_s": True, "reason": "r"},
        422,
        "head_start_s",
    ),
    ("blank reason", "POST", "/orders/x/priority", {"head_start_s": 1, "reason": " \t"}, 422, "reason"),
]
QUERIES: list[tuple[str, str, dict[str, str], str]] = [
    ("since year 1 +14:00", "/orders", {"since": "0001-01-01T00:00:00+14:00"}, "since"),
    ("until year 9999 -14:00", "/orders", {"until": "9999-12-31T23:59:59-14:00"}, "until"),
    ("since as a number", "/orders", {"since": "0.5"}, "since"),
    ("letters in a looked-up phone", "/customers/lookup", {"phone": "+7 912 ABC 67 89"}, "phone"),
    ("NUL in Zadarma's zd_echo", "/phone/zadarma", {"zd_echo": "a\x00"}, "zd_echo"),
]
TWILIO: list[tuple[str, dict[str, str], str]] = [
    ("Twilio Timestamp year 9999", {"Timestamp": "Fri, 31 Dec 9999 23:59:59 -1400"}, "Timestamp"),
    ("Twilio Timestamp a day off", {"Timestamp": "Sun, 20 Sep 2026 08:00:00 +0000"}, "Timestamp"),
    ("Twilio From over 64 characters", {"From": LONG_NUMBER}, "From"),
    ("Twilio To over 64 characters", {"To": LONG_NUMBER}, "To"),
]


def _locs(response: Any) -> list[list[Any]]:
    return [entry["loc"] for entry in response.json()["detail"]]


async def send(live: Live, method: str, path: str, body: Any) -> Any:
    headers = {**live.auth(AD), "Content-Type": "application/json"}
    content = None if body is None else json.dumps(body)  # ASCII: "\udc80" travels escaped
    return await live.client.request(method, path, content=content, headers=headers)


@pytest.mark.parametrize(
    ("label", "method", "path", "body", "expected", "field"), BAD, ids=[b[0] for b in BAD]
)
async def test_bad_body_is_a_4xx_naming_the_field(
    live: Live, label: str, method: str, path: str, body: Any, expected: int, field: str | None
) -> None:
    """Text no store can hold, times out of range, coerced numbers, half pairs: 422 naming the field."""
    response = await send(live, method, path, body)
    assert response.status_code == expected, (label, response.text)
    if field is not None:
        assert any(loc[-1] == field for loc in _locs(response)), (label, response.text)
    assert (await live.client.get("/readyz")).status_code == 200  # no rebuild, no outage


@pytest.mark.parametrize(("label", "path", "query", "field"), QUERIES, ids=[q[0] for q in QUERIES])
async def test_bad_query_is_a_422_not_a_503(
    live: Live, label: str, path: str, query: dict[str, str], field: str
) -> None:
    """A time the store cannot compare with is bad input, not "store unavailable"."""
    response = await live.client.get(path, params=query, headers=live.auth(AD))
    assert response.status_code == 422, (label, response.text)
    assert any(loc[-1] == field for loc in _locs(response)), (label, response.text)


@pytest.mark.parametrize(("label", "extra", "field"), TWILIO, ids=[t[0] for t in TWILIO])
async def test_bad_twilio_field_is_refused_at_the_edge(
    live: Live, label: str, extra: dict[str, str], field: str
) -> None:
    """Refused before the ring is answered, so no call-log row is dropped in the background."""
    form = {"CallSid": "CA1", "CallStatus": "ringing", "From": "+79123456789", **extra}
    response = await live.client.post("/phone/twilio", data=form, headers=live.auth(AD))
    assert response.status_code == 422, (label, response.text)
    assert any(loc[-1] == field for loc in _locs(response)), (label, response.text)
    await live.app.state.call_log.flush()
    with live.session() as session:
        assert session.exec(select(Call)).all() == []


async def test_an_event_time_inside_the_window_is_used(live: Live) -> None:
    """A provider's time a few minutes off our clock is the call's time."""
    body = {**RING, "at": "2026-09-21T14:10:00Z"}  # START_S is 14:13:20 UTC
    response = await send(live, "POST", "/phone/events", body)
    assert response.status_code == 200, response.text
    await live.app.state.call_log.flush()
    with live.session() as session:
        (call,) = session.exec(select(Call)).all()
    assert call.ringing_at.isoformat() == "2026-09-21T14:10:00+00:00"


async def test_a_driver_sent_false_is_not_moved_to_longitude_zero(live: Live) -> None:
    """The driver stays where they were; no order is handed to them from the Gulf of Guinea."""
    await live.driver("d1", 55.75, 37.61)
    response = await send(live, "POST", "/drivers/d1/position", {"lat": 55.75, "lon": False})
    assert response.status_code == 422
    with live.session() as session:
        driver = session.get(Driver, "d1")
        assert driver is not None and (driver.lat, driver.lon) == (55.75, 37.61)


IDEMPOTENT = {**AT, "phone": "+79123456789", "customer_name": "Anna", "pickup_address": "Mira 1"}


@pytest.mark.parametrize(
    "change",
    [
        {"phone": "+79123450000"},
        {"customer_name": "Boris"},
        {"pickup_address": "Lenina 5"},
        {"pickup_lat": 55.76},
        {"dropoff_lat": 55.8, "dropoff_lon": 37.7},
        {"pickup_at": "2026-09-21T15:00:00Z"},
    ],
    ids=lambda change: "+".join(change),
)
async def test_an_idempotency_key_reused_for_another_request_is_422(
    live: Live, change: dict[str, Any]
) -> None:
    """Only the same request again gets the first order back; any difference is a 422 on the key."""
    key = {"Idempotency-Key": "retry-1"}
    first = await live.post("/orders", role=AD, json=IDEMPOTENT, headers=key)
    again = await live.post("/orders", role=AD, json=IDEMPOTENT, headers=key)
    other = await live.post("/orders", role=AD, json={**IDEMPOTENT, **change}, headers=key)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 422, other.text
    assert ["header", "Idempotency-Key"] in _locs(other)
    with live.session() as session:
        assert len(session.exec(select(Order)).all()) == 1


async def test_positions_outside_the_service_area_are_refused(database_url: str, engine: Any) -> None:
    """With an area set, a pickup or driver position 89.5 N is a 422 naming the field, never queued."""
    running, lifespan = await start_live(
        database_url, engine, service_centre_lat=55.75, service_centre_lon=37.61, service_radius_km=50
    )
    try:
        far_order = await running.post("/orders", json={"pickup_lat": 89.5, "pickup_lon": 37.6})
        near_order = await running.post("/orders", json=AT)
        await running.post("/drivers", json={"id": "d2"})
        far_driver = await running.post("/drivers/d2/online", json={"lat": 89.5, "lon": 37.6})
        far_move = await running.post("/drivers/d1/position", json={"lat": 55.75, "lon": 39.9})
    finally:
        await stop_live(running, lifespan)
    assert far_order.status_code == 422 and ["body", "pickup_lat"] in _locs(far_order)
    assert near_order.status_code == 201
    assert far_driver.status_code == 422 and ["body", "lat"] in _locs(far_driver)
    assert far_move.status_code == 422 and ["body", "lat"] in _locs(far_move)
