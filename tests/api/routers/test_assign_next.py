"""Assigning a waiting order to a car about to become free, over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from api.models import Order
from tests.api.app_fixtures import CENTRE, Live, start_live, stop_live

NEAR = (CENTRE[0] + 0.004, CENTRE[1])


async def _car_on_a_job_and_a_waiting_order(live: Live) -> tuple[str, str]:
    """Car d1 takes the first order; the second waits, no other car being online."""
    await live.driver("d1")
    first = await live.order()
    assert first["status"] == "assigned" and first["driver_id"] == "d1"
    waiting = await live.order(*NEAR)
    assert waiting["status"] == "queued"
    return str(first["id"]), str(waiting["id"])


async def _hold(live: Live, order_id: str, driver_id: str = "d1") -> Any:
    return await live.post(f"/orders/{order_id}/assign", json={"driver_id": driver_id, "when_free": True})


def _row(live: Live, order_id: str) -> Order:
    with live.session() as session:
        row = session.get(Order, order_id)
        assert row is not None
        return row


async def test_a_promised_order_waits_for_its_car_and_is_handed_over_when_the_trip_ends(live: Live) -> None:
    """when_free: the order leaves the queue, marked for d1; d1's trip ends and d1 gets it (manual),
    and the audit names the operator."""
    _, waiting = await _car_on_a_job_and_a_waiting_order(live)
    held = await _hold(live, waiting)
    assert held.status_code == 200, held.text
    assert (held.json()["status"], held.json()["next_driver_id"]) == ("queued", "d1")
    assert waiting not in [q["order_id"] for q in (await live.get("/queue")).json()]
    assert (await live.post("/drivers/d1/arrived")).status_code == 200
    done = await live.post("/drivers/d1/trip-completed", json={"lat": NEAR[0], "lon": NEAR[1], "fare": 9.0})
    assert done.status_code == 200, done.text
    assert done.json()["assigned_order_id"] == waiting
    row = _row(live, waiting)
    assert (row.status, row.driver_id, row.next_driver_id) == ("assigned", "d1", None)
    events = (await live.get(f"/orders/{waiting}/events")).json()
    kinds = [(e["kind"], e["actor"]) for e in events]
    assert ("held", "operator:operator") in kinds
    assert [e["payload"].get("manual") for e in events if e["kind"] == "assigned"] == [True]


async def test_taking_it_back_or_the_driver_leaving_returns_it_to_the_queue(live: Live) -> None:
    """POST /requeue, or d1 going offline after the job: the order is back in the queue, unmarked."""
    _, waiting = await _car_on_a_job_and_a_waiting_order(live)
    await _hold(live, waiting)
    back = await live.post(f"/orders/{waiting}/requeue")
    assert back.status_code == 200 and back.json()["next_driver_id"] is None
    assert waiting in [q["order_id"] for q in (await live.get("/queue")).json()]
    await _hold(live, waiting)
    leaving = await live.post("/drivers/d1/offline", params={"when_free": "true"})
    assert leaving.status_code == 200, leaving.text
    assert _row(live, waiting).next_driver_id is None
    assert waiting in [q["order_id"] for q in (await live.get("/queue")).json()]


async def test_refusals_say_why(live: Live) -> None:
    """A free car: 409 "is free"; an unknown car: 404; an order not waiting: 409; requeue of an order
    not promised: 409; nothing changes."""
    first, waiting = await _car_on_a_job_and_a_waiting_order(live)
    await live.driver("d2", CENTRE[0] + 0.3, CENTRE[1])  # free, out of reach of the waiting order
    free = await _hold(live, waiting, "d2")
    assert free.status_code == 409 and "is free" in free.text
    assert (await _hold(live, waiting, "nobody")).status_code == 404
    assert (await _hold(live, first)).status_code == 409
    assert (await live.post(f"/orders/{waiting}/requeue")).status_code == 409
    assert _row(live, waiting).next_driver_id is None


async def test_a_promise_survives_a_restart(database_url: str, engine: Engine) -> None:
    """Stop, start: the order is still promised to d1, and d1's trip end still hands it over."""
    first, lifespan = await start_live(database_url, engine)
    try:
        _, waiting = await _car_on_a_job_and_a_waiting_order(first)
        await _hold(first, waiting)
    finally:
        await stop_live(first, lifespan)
    second, lifespan = await start_live(database_url, engine, keys=first.keys, clock=first.clock)
    try:
        assert _row(second, waiting).next_driver_id == "d1"
        await second.post("/drivers/d1/arrived")
        done = await second.post("/drivers/d1/trip-completed", json={"lat": NEAR[0], "lon": NEAR[1]})
        assert done.json()["assigned_order_id"] == waiting
    finally:
        await stop_live(second, lifespan)
