"""Editing and cancelling pre-booked orders over HTTP, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx

from api.live.commands import TickIfDue
from api.models import Order, Role, from_epoch_s
from tests.api.app_fixtures import CENTRE, Live
from tests.api.routers.test_orders import wait_for_status

HOUR_S = 3600.0


async def _prebooked(live: Live, ahead_s: float = 2 * HOUR_S) -> dict[str, Any]:
    when = from_epoch_s(live.clock() + ahead_s).isoformat()
    order = await live.order(pickup_at=when, pickup_address="Lenina 5")
    assert order["status"] == "scheduled"
    return order


async def _patch(live: Live, order_id: str, **body: Any) -> httpx.Response:
    return await live.client.patch(f"/orders/{order_id}", json=body, headers=live.auth(Role.OPERATOR))


async def test_a_prebooking_moves_to_a_later_time_and_a_new_address(live: Live) -> None:
    """PATCH time, point and text: the row and the log follow, the list of pre-bookings shows it, and the
    old release time passes without releasing it."""
    order = await _prebooked(live)
    later = from_epoch_s(live.clock() + 4 * HOUR_S)
    moved = await _patch(live, order["id"], pickup_at=later.isoformat(), pickup_address="Lenina 7",
                         pickup_lat=CENTRE[0] + 0.01, pickup_lon=CENTRE[1])  # fmt: skip
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert body["status"] == "scheduled" and body["pickup_address"] == "Lenina 7"
    assert body["pickup_at"].startswith(later.isoformat()[:19]) and body["pickup_lat"] == CENTRE[0] + 0.01
    listed = (await live.get("/orders", params={"status": "scheduled"})).json()
    assert [o["id"] for o in listed] == [order["id"]]
    events = (await live.get(f"/orders/{order['id']}/events")).json()
    rescheduled = [e for e in events if e["kind"] == "rescheduled"]
    assert len(rescheduled) == 1 and rescheduled[0]["actor"] == "operator:operator"
    assert "Lenina" not in str(rescheduled)  # no address text in the evidence
    live.clock.advance(2 * HOUR_S - live.settings.prebook_lead_s + 5)  # the old release has passed
    await live.app.state.service.submit(TickIfDue())  # the tick the background task would send
    with live.session() as session:
        row = session.get(Order, order["id"])
        assert row is not None and row.status == "scheduled"


async def test_a_time_within_the_lead_releases_it_at_once(live: Live) -> None:
    """Moved to ten minutes from now (the lead is fifteen): it is queued by the edit itself."""
    order = await _prebooked(live)
    soon = from_epoch_s(live.clock() + 600)
    moved = await _patch(live, order["id"], pickup_at=soon.isoformat())
    assert moved.status_code == 200 and moved.json()["status"] == "queued"
    await wait_for_status(live, order["id"], "queued")


async def test_bad_edits_name_their_field_and_a_released_order_is_a_conflict(live: Live) -> None:
    """Past time: 422 on pickup_at; half a point: 422 on pickup_lon; nothing: 422; unknown: 404;
    a queued order: 409; the booking is unchanged after each."""
    order = await _prebooked(live)
    past = await _patch(live, order["id"], pickup_at=from_epoch_s(live.clock() - HOUR_S).isoformat())
    assert past.status_code == 422 and past.json()["detail"][0]["loc"] == ["body", "pickup_at"]
    half = await _patch(live, order["id"], pickup_lat=CENTRE[0])
    assert half.status_code == 422 and "pickup_lon" in half.text
    assert (await _patch(live, order["id"])).status_code == 422
    assert (await _patch(live, "nope", pickup_address="x")).status_code == 404
    now = await live.order(CENTRE[0] + 0.02, CENTRE[1])
    assert (await _patch(live, now["id"], pickup_address="x")).status_code == 409
    with live.session() as session:
        row = session.get(Order, order["id"])
        assert row is not None and row.pickup_address == "Lenina 5" and row.status == "scheduled"


async def test_a_prebooking_is_cancelled_and_never_released(live: Live) -> None:
    """Cancel before the release: cancelled, and the release time passes without a queue entry."""
    order = await _prebooked(live)
    cancelled = await live.post(f"/orders/{order['id']}/cancel", json={"cause": "customer"})
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    live.clock.advance(2 * HOUR_S)
    await live.app.state.service.submit(TickIfDue())
    queue = (await live.get("/queue")).json()
    assert all(entry["order_id"] != order["id"] for entry in queue)
