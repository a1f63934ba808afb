"""Drivers over HTTP: the full trip, position updates, status conflicts, listing."""

from __future__ import annotations

from sqlmodel import select

from api.models import Customer, Driver, OrderEvent, Role
from tests.api.app_fixtures import CENTRE, Live


async def test_a_full_trip_updates_order_driver_and_customer(live: Live) -> None:
    """online -> assigned -> arrived -> completed with a fare; the customer's counters move."""
    await live.driver("d1")
    order = await live.order(phone="+79123456789")
    assert (
        order["status"] == "assigned" and order["driver_id"] == "d1" and order["eta_s"] is not None
    )
    arrived = await live.post("/drivers/d1/arrived", role=Role.DRIVER)
    assert arrived.json()["driver"]["status"] == "on_trip"
    done = await live.post(
        "/drivers/d1/trip-completed",
        role=Role.DRIVER,
        json={"lat": 55.80, "lon": 37.70, "fare": 14.5},
    )
    assert done.json()["driver"]["status"] == "free" and done.json()["assigned_order_id"] is None
    stored = (await live.get(f"/orders/{order['id']}")).json()
    assert stored["status"] == "completed" and stored["fare"] == 14.5 and stored["ended_at"]
    with live.session() as session:
        customer = session.get(Customer, order["customer_id"])
        assert customer is not None and customer.completed_count == 1
        assert customer.history["completed"] == 1 and customer.history["fare_sum"] > 0
        driver = session.get(Driver, "d1")
        assert driver is not None and (driver.lat, driver.lon) == (55.80, 37.70)


async def test_a_driver_freed_by_a_trip_takes_the_best_waiting_order(live: Live) -> None:
    """Completion answers with the next assignment when an order waits within reach."""
    await live.driver("d1")
    first = await live.order()
    waiting = await live.order(lat=CENTRE[0] + 0.01)
    assert first["status"] == "assigned" and waiting["status"] == "queued"
    await live.post("/drivers/d1/arrived")
    done = await live.post("/drivers/d1/trip-completed", json={"lat": CENTRE[0], "lon": CENTRE[1]})
    assert done.json()["assigned_order_id"] == waiting["id"]
    assert (await live.get("/queue")).json() == []


async def test_moving_into_reach_matches_a_waiting_order(live: Live) -> None:
    """A free car 40 km away cannot take the order; after a position report nearby, it does."""
    await live.driver("d1", lat=CENTRE[0] + 0.4)
    order = await live.order()
    assert order["status"] == "queued"
    moved = await live.post(
        "/drivers/d1/position", json={"lat": CENTRE[0], "lon": CENTRE[1] + 0.01}
    )
    assert moved.json()["assigned_order_id"] == order["id"]


async def test_a_position_report_of_a_busy_driver_is_stored(live: Live) -> None:
    """Positions persist even when nothing is decided (restore needs them)."""
    await live.driver("d1")
    await live.order()
    await live.post("/drivers/d1/position", json={"lat": 55.9, "lon": 37.9})
    with live.session() as session:
        driver = session.get(Driver, "d1")
        assert driver is not None and (driver.lat, driver.lon, driver.status) == (
            55.9,
            37.9,
            "en_route",
        )


async def test_going_offline_on_a_trip_or_twice_online_is_a_conflict(live: Live) -> None:
    """409 for transitions the engine refuses; state unchanged."""
    await live.driver("d1")
    twice = await live.post("/drivers/d1/online", json={"lat": 55.7, "lon": 37.6})
    await live.order()
    offline = await live.post("/drivers/d1/offline")
    assert twice.status_code == 409 and offline.status_code == 409
    assert (await live.get("/drivers/d1")).json()["status"] == "en_route"


async def test_driver_status_changes_are_in_the_event_log(live: Live) -> None:
    """Every driver state change is an event with the driver and the acting key."""
    await live.driver("d1")
    await live.post("/drivers/d1/offline", role=Role.DRIVER)
    with live.session() as session:
        events = session.exec(select(OrderEvent).where(OrderEvent.driver_id == "d1")).all()
    assert [e.payload["driver_status"] for e in events] == ["free", "offline"]
    assert events[-1].actor == "driver:driver"


async def test_list_drivers_filters_by_status(live: Live) -> None:
    """GET /drivers?status=free lists only free drivers."""
    await live.driver("d1")
    await live.post("/drivers", json={"id": "d2", "name": "Second"})
    free = (await live.get("/drivers", params={"status": "free"})).json()
    everyone = (await live.get("/drivers", role=Role.ANALYST)).json()
    assert [d["id"] for d in free] == ["d1"] and [d["id"] for d in everyone] == ["d1", "d2"]


async def test_a_driver_app_reads_where_to_go_and_nothing_personal(live: Live) -> None:
    """GET /drivers/{id}/order: pickup and dropoff of the current order; 204 when there is none."""
    await live.driver("d1")
    none_yet = await live.get("/drivers/d1/order", role=Role.DRIVER)
    order = await live.order(
        phone="+79123456789", pickup_address="Tverskaya 1", customer_name="Anna"
    )
    job = (await live.get("/drivers/d1/order", role=Role.DRIVER)).json()
    assert none_yet.status_code == 204 and none_yet.content == b""
    assert job["order_id"] == order["id"] and job["pickup_address"] == "Tverskaya 1"
    assert "Anna" not in str(job) and "+7912" not in str(job)


async def test_a_busy_driver_may_end_the_shift_after_the_job(live: Live) -> None:
    """offline?when_free=true on a job: 200, still en route, `leaving` in the answer and the row."""
    await live.driver("d1")
    order = await live.order()
    leaving = await live.post("/drivers/d1/offline", role=Role.DRIVER, params={"when_free": True})
    body = leaving.json()
    assert leaving.status_code == 200, leaving.text
    assert body["leaving"] is True and body["driver"]["leaving"] is True
    assert body["driver"]["status"] == "en_route" and body["assigned_order_id"] == order["id"]
    assert (await live.get("/drivers/d1")).json()["leaving"] is True
    with live.session() as session:
        events = session.exec(select(OrderEvent).where(OrderEvent.kind == "driver_leaving")).all()
    assert [(e.driver_id, e.payload, e.actor) for e in events] == [
        ("d1", {"leaving": True}, "driver:driver")
    ]


async def test_a_leaving_driver_goes_offline_after_the_trip_and_the_queue_waits(
    live: Live,
) -> None:
    """Completing the last trip takes the driver offline; the order waiting nearby stays queued."""
    await live.driver("d1")
    await live.order()
    waiting = await live.order(lat=CENTRE[0] + 0.01)
    await live.post("/drivers/d1/offline", params={"when_free": "true"})
    await live.post("/drivers/d1/arrived")
    done = await live.post("/drivers/d1/trip-completed", json={"lat": CENTRE[0], "lon": CENTRE[1]})
    state = done.json()
    assert state["driver"]["status"] == "offline" and state["assigned_order_id"] is None
    assert state["leaving"] is False and state["driver"]["leaving"] is False
    queue = (await live.get("/queue")).json()
    assert [q["order_id"] for q in queue] == [waiting["id"]]
    with live.session() as session:
        driver = session.get(Driver, "d1")
        assert driver is not None and (driver.status, driver.leaving) == ("offline", False)


async def test_going_online_before_the_job_ends_takes_the_leave_back(live: Live) -> None:
    """online while leaving: 200, stays on the job, not leaving; a plain offline is 409 again."""
    await live.driver("d1")
    order = await live.order()
    await live.post("/drivers/d1/offline", params={"when_free": True})
    back = await live.post("/drivers/d1/online", json={"lat": CENTRE[0], "lon": CENTRE[1]})
    plain = await live.post("/drivers/d1/offline")
    assert back.status_code == 200 and back.json()["leaving"] is False
    assert back.json()["assigned_order_id"] == order["id"] and plain.status_code == 409
    await live.post("/drivers/d1/arrived")
    done = await live.post("/drivers/d1/trip-completed", json={"lat": CENTRE[0], "lon": CENTRE[1]})
    assert done.json()["driver"]["status"] == "free"
    with live.session() as session:
        kinds = session.exec(
            select(OrderEvent.payload).where(OrderEvent.kind == "driver_leaving")
        ).all()
    assert kinds == [{"leaving": True}, {"leaving": False}]


async def test_a_free_driver_ending_the_shift_when_free_goes_offline_at_once(live: Live) -> None:
    """when_free on a free driver is a plain offline: no pending leave left behind."""
    await live.driver("d1")
    response = await live.post("/drivers/d1/offline", params={"when_free": True})
    assert response.status_code == 200
    assert response.json()["driver"]["status"] == "offline" and response.json()["leaving"] is False
