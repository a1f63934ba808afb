"""Orders over HTTP: creation, redial guard, reads, cancel, manual assign, priority override."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from api.models import Customer, Order, OrderEvent, Role, from_epoch_s
from tests.api.app_fixtures import CENTRE, Live


async def test_a_new_order_is_created_stored_and_queued(live: Live) -> None:
    """201, the row is on disk with a `created` and a `queued` event, and it is in the queue."""
    order = await live.order(phone="8 (912) 345-67-89", pickup_address="Tverskaya 1")
    assert order["status"] == "queued" and order["tier"] == "new" and order["head_start_s"] > 0
    with live.session() as session:
        kinds = [
            e.kind
            for e in session.exec(select(OrderEvent).where(OrderEvent.order_id == order["id"]))
        ]
    assert kinds == ["created", "queued"]
    queue = (await live.get("/queue")).json()
    assert [entry["order_id"] for entry in queue] == [order["id"]]


async def test_the_same_idempotency_key_never_creates_a_second_order(live: Live) -> None:
    """A retried webhook gets the first order back with 200 and the reason in a header."""
    body = {"pickup_lat": CENTRE[0], "pickup_lon": CENTRE[1]}
    first = await live.post("/orders", json=body, headers={"Idempotency-Key": "call-42"})
    again = await live.post("/orders", json=body, headers={"Idempotency-Key": "call-42"})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["Keepcab-Existing-Order"] == "idempotency_key"
    with live.session() as session:
        assert len(session.exec(select(Order)).all()) == 1


async def test_a_reused_idempotency_key_with_another_pickup_is_refused(live: Live) -> None:
    """422 naming the header, rather than silently answering with an unrelated order."""
    await live.post(
        "/orders", json={"pickup_lat": 55.7, "pickup_lon": 37.6}, headers={"Idempotency-Key": "k"}
    )
    response = await live.post(
        "/orders", json={"pickup_lat": 55.8, "pickup_lon": 37.6}, headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["header", "Idempotency-Key"]


async def test_a_redial_from_the_same_pickup_returns_the_live_order(live: Live) -> None:
    """Same customer (number typed differently), pickup 50 m away, within the window: one order."""
    first = await live.order(phone="+7 912 345 67 89", pickup_address="Tverskaya 1")
    response = await live.post(
        "/orders",
        json={"pickup_lat": CENTRE[0] + 0.0004, "pickup_lon": CENTRE[1], "phone": "89123456789"},
    )
    assert response.status_code == 200 and response.json()["id"] == first["id"]
    assert response.headers["Keepcab-Existing-Order"] == "duplicate"


async def test_the_redial_guard_lets_a_different_pickup_or_an_explicit_second_order_through(
    live: Live,
) -> None:
    """A pickup 2 km away, or allow_duplicate, is a real second order."""
    first = await live.order(phone="+79123456789")
    far = await live.order(lat=CENTRE[0] + 0.02, phone="+79123456789")
    forced = await live.order(phone="+79123456789", allow_duplicate=True)
    assert len({first["id"], far["id"], forced["id"]}) == 3
    assert first["customer_id"] == far["customer_id"] == forced["customer_id"]


async def test_the_redial_guard_expires_after_its_window(live: Live) -> None:
    """Within the window a redial returns the live order; past it, the same call is a new order."""
    await live.driver("d1")
    first = await live.order(phone="+79123456789")
    assert first["status"] == "assigned"  # assigned orders stay live: they never expire
    body = {"pickup_lat": CENTRE[0], "pickup_lon": CENTRE[1], "phone": "+79123456789"}
    inside = await live.post("/orders", json=body)
    live.clock.advance(live.settings.duplicate_order_window_s + 1)
    outside = await live.post("/orders", json=body)
    assert inside.status_code == 200 and inside.json()["id"] == first["id"]
    assert outside.status_code == 201 and outside.json()["id"] != first["id"]


async def test_a_withheld_number_orders_anonymously(live: Live) -> None:
    """`anonymous` is an unknown caller who still gets an order, not an error."""
    order = await live.order(phone="anonymous")
    assert order["customer_id"] is None


async def test_a_malformed_phone_number_is_a_422_naming_the_field(live: Live) -> None:
    """An operator's typo is reported, not stored as a new customer."""
    response = await live.post(
        "/orders", json={"pickup_lat": 55.7, "pickup_lon": 37.6, "phone": "12ab"}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "phone"]


async def test_an_unknown_customer_id_is_a_422_naming_the_field(live: Live) -> None:
    """A body that points at nothing is bad input, with the field named."""
    response = await live.post(
        "/orders", json={"pickup_lat": 55.7, "pickup_lon": 37.6, "customer_id": "nope"}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == [
        "body",
        "customer_id",
    ]


async def test_a_pre_booked_order_waits_scheduled_then_enters_the_queue(live: Live) -> None:
    """Scheduled until pickup_at - prebook_lead_s, then released by the background tick."""
    pickup_at = from_epoch_s(live.clock() + 3600)
    order = await live.order(pickup_at=pickup_at.isoformat())
    assert order["status"] == "scheduled"
    live.clock.advance(3600 - live.settings.prebook_lead_s + 1)
    await wait_for_status(live, order["id"], "queued")


async def test_a_naive_pickup_time_is_refused(live: Live) -> None:
    """A time without a zone is ambiguous: 422 on pickup_at."""
    response = await live.post(
        "/orders", json={"pickup_lat": 55.7, "pickup_lon": 37.6, "pickup_at": "2026-12-01T10:00:00"}
    )
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == [
        "body",
        "pickup_at",
    ]


async def test_an_order_waiting_past_max_wait_expires_as_no_car(live: Live) -> None:
    """The tick expires it, and the customer's failure counter moves in the same transaction."""
    order = await live.order(phone="+79123456789")
    live.clock.advance((live.settings.max_wait_s or 0) + 1)
    row = await wait_for_status(live, order["id"], "rejected")
    assert row.failure_cause == "no_car"
    with live.session() as session:
        customer = session.get(Customer, order["customer_id"])
        assert customer is not None and customer.failed_count == 1


async def test_list_filters_by_status_and_customer(live: Live) -> None:
    """Filters combine; newest first."""
    a = await live.order(phone="+79123456789")
    b = await live.order(lat=CENTRE[0] + 0.05, phone="+79123456780")
    await live.post(f"/orders/{a['id']}/cancel", json={})
    queued = (await live.get("/orders", params={"status": "queued"})).json()
    assert [o["id"] for o in queued] == [b["id"]]
    mine = (await live.get("/orders", params={"customer_id": a["customer_id"]})).json()
    assert [o["id"] for o in mine] == [a["id"]]
    since = (from_epoch_s(live.clock()) + timedelta(days=1)).isoformat()
    assert (await live.get("/orders", params={"since": since})).json() == []


async def test_customer_cancel_is_not_a_failure_but_no_show_is(live: Live) -> None:
    """cause=customer -> cancelled, no failure; driver_no_show -> cancelled with the cause."""
    a = await live.order(phone="+79123456789")
    b = await live.order(lat=CENTRE[0] + 0.05, phone="+79123456780")
    first = await live.post(f"/orders/{a['id']}/cancel", json={"cause": "customer"})
    second = await live.post(
        f"/orders/{b['id']}/cancel", json={"cause": "driver_no_show", "reason": "gone"}
    )
    assert first.json()["status"] == "cancelled" and first.json()["failure_cause"] is None
    assert (
        second.json()["status"] == "cancelled"
        and second.json()["failure_cause"] == "driver_no_show"
    )
    events = (await live.get(f"/orders/{b['id']}/events")).json()
    assert events[-1]["cause"] == "driver_no_show" and events[-1]["payload"]["reason"] == "gone"
    with live.session() as session:
        one = session.get(Customer, a["customer_id"])
        two = session.get(Customer, b["customer_id"])
        assert one is not None and one.cancelled_count == 1 and one.failed_count == 0
        assert two is not None and two.failed_count == 1


async def test_cancelling_a_finished_order_is_a_conflict(live: Live) -> None:
    """409 for a stored order that can no longer change; 404 for one that never existed."""
    order = await live.order()
    await live.post(f"/orders/{order['id']}/cancel", json={})
    again = await live.post(f"/orders/{order['id']}/cancel", json={})
    missing = await live.post("/orders/no-such-order/cancel", json={})
    assert again.status_code == 409 and missing.status_code == 404


async def test_manual_assignment_gives_the_order_to_the_chosen_driver(live: Live) -> None:
    """An operator bypasses the queue; the event log names the operator."""
    await live.driver("d1", lat=CENTRE[0] + 0.3)  # too far to be matched automatically
    order = await live.order()
    response = await live.post(f"/orders/{order['id']}/assign", json={"driver_id": "d1"})
    assert response.status_code == 200 and response.json()["driver_id"] == "d1"
    with live.session() as session:
        event = session.exec(
            select(OrderEvent).where(
                OrderEvent.order_id == order["id"], OrderEvent.kind == "assigned"
            )
        ).one()
    assert event.actor == "operator:operator" and event.payload["manual"] is True


async def test_assigning_a_busy_driver_is_a_conflict_and_an_unknown_one_not_found(
    live: Live,
) -> None:
    """409 DriverBusy, 404 UnknownDriver; the order stays queued."""
    await live.driver("d1")
    taken = await live.order()
    assert taken["status"] == "assigned"
    waiting = await live.order(lat=CENTRE[0] + 0.05)
    busy = await live.post(f"/orders/{waiting['id']}/assign", json={"driver_id": "d1"})
    unknown = await live.post(f"/orders/{waiting['id']}/assign", json={"driver_id": "ghost"})
    assert busy.status_code == 409 and unknown.status_code == 404
    assert (await live.get(f"/orders/{waiting['id']}")).json()["status"] == "queued"


async def test_priority_override_reorders_the_queue_and_is_audited(live: Live) -> None:
    """A later order given a bigger head start moves ahead; the reason lands in the log."""
    first = await live.order(phone="+79123456789")
    live.clock.advance(30)
    second = await live.order(lat=CENTRE[0] + 0.05, phone="+79123456780")
    await live.post(f"/orders/{first['id']}/priority", json={"head_start_s": 0, "reason": "test"})
    response = await live.post(
        f"/orders/{second['id']}/priority", json={"head_start_s": 300, "reason": "hospital run"}
    )
    assert response.status_code == 200 and response.json()["head_start_s"] == 300
    queue = [entry["order_id"] for entry in (await live.get("/queue")).json()]
    assert queue == [second["id"], first["id"]]
    with live.session() as session:
        event = session.exec(
            select(OrderEvent).where(
                OrderEvent.order_id == second["id"], OrderEvent.kind == "priority_overridden"
            )
        ).one()
    assert event.cause == "hospital run" and event.actor == "operator:operator"


async def test_priority_override_needs_a_reason_and_a_head_start_within_the_cap(live: Live) -> None:
    """Blank reason: 422 on reason; above the cap: 422 from the engine; nothing changes."""
    order = await live.order()
    blank = await live.post(
        f"/orders/{order['id']}/priority", json={"head_start_s": 10, "reason": "  "}
    )
    over = await live.post(
        f"/orders/{order['id']}/priority", json={"head_start_s": 10_000, "reason": "x"}
    )
    assert blank.status_code == 422 and blank.json()["detail"][0]["loc"] == ["body", "reason"]
    assert over.status_code == 422
    assert (await live.get(f"/orders/{order['id']}")).json()["head_start_s"] == order[
        "head_start_s"
    ]


async def test_order_events_list_the_audit_trail(live: Live) -> None:
    """GET /orders/{id}/events returns created, queued, cancelled with actors."""
    order = await live.order()
    await live.post(
        f"/orders/{order['id']}/cancel", json={"reason": "changed plans"}, role=Role.PHONE
    )
    events = (await live.get(f"/orders/{order['id']}/events")).json()
    assert [e["kind"] for e in events] == ["created", "queued", "cancelled"]
    assert events[-1]["actor"] == "phone:phone" and events[-1]["cause"] == "changed plans"


async def wait_for_status(live: Live, order_id: str, status: str, tries: int = 1000) -> Order:
    """Poll the store until the background tick has moved the order (no wall-clock asserts)."""
    import asyncio

    for _ in range(tries):
        with live.session() as session:
            row = session.get(Order, order_id)
            if row is not None and row.status == status:
                return row
        await asyncio.sleep(0.02)
    raise AssertionError(f"order {order_id} never became {status}")


async def test_a_pickup_time_in_the_past_or_months_ahead_is_refused(live: Live) -> None:
    """422 on pickup_at; a few minutes late is still accepted as 'now'."""
    now = from_epoch_s(live.clock())
    body = {"pickup_lat": CENTRE[0], "pickup_lon": CENTRE[1]}
    past = await live.post(
        "/orders", json={**body, "pickup_at": (now - timedelta(hours=2)).isoformat()}
    )
    ahead = await live.post(
        "/orders", json={**body, "pickup_at": (now + timedelta(days=365)).isoformat()}
    )
    late = await live.post(
        "/orders", json={**body, "pickup_at": (now - timedelta(minutes=5)).isoformat()}
    )
    assert past.status_code == ahead.status_code == 422
    assert past.json()["detail"][0]["loc"] == ["body", "pickup_at"]
    assert late.status_code == 201 and late.json()["status"] == "queued"
