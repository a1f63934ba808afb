"""Erasing a customer reaches the console hub's memory and the operators' words (real server)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from sqlmodel import select

from api.auth import create_api_key
from api.console.erasure import scrub
from api.console.figures import ShiftFigures
from api.console.hub import ConsoleHub
from api.events import Event, InProcessEventBus
from api.models import OrderEvent, Role
from tests.api.console.server import CENTRE, Server, event_of_kind, next_message

NAME, ADDRESS, REASON = "Ivan Petrov", "Floriańska 3", "his wife rang back from Lenina 5"
NUMBER_RAW, NUMBER_TYPED = "8 912 345-67-89", "+7 912 345 67 89"
PERSONAL = (NAME, ADDRESS, REASON, NUMBER_RAW, NUMBER_TYPED, "79123456789")


def _admin_key(server: Server) -> str:
    with server.app.state.session_factory() as session:
        key = create_api_key(session, Role.ADMIN, name="dpo").plaintext
        session.commit()
    return key


async def _a_customer_with_history(server: Server) -> tuple[str, str]:
    """A named caller with a cancelled order (with the operator's words), a live one, a call."""
    first = await server.order(pickup_address=ADDRESS, phone=NUMBER_TYPED, customer_name=NAME)
    cancelled = await server.post(f"/orders/{first}/cancel", {"cause": "customer", "reason": REASON})
    assert cancelled.status_code == 200, cancelled.text
    ring = {"event": "call.ringing", "call_id": "pbx-1", "from": NUMBER_RAW}
    assert (await server.post("/phone/events", ring, key=server.phone_key)).status_code == 200
    live = await server.order(CENTRE[0] + 0.001, CENTRE[1], pickup_address=ADDRESS, phone=NUMBER_TYPED)
    headers = {"X-API-Key": server.operator_key}
    customer_id = (await server.client.get(f"/orders/{live}", headers=headers)).json()["customer_id"]
    return customer_id, first


def _leaks(payload: Any) -> list[str]:
    text = json.dumps(payload, ensure_ascii=False)
    return [word for word in PERSONAL if word in text]


async def test_a_console_connecting_after_erasure_gets_no_personal_data(server: Server) -> None:
    """After DELETE personal-data, a new console's snapshot (recent list included) and a console
    resuming from the hub's buffer carry no name, number, address or cancel reason."""
    customer_id, _ = await _a_customer_with_history(server)
    await server.settled()
    assert _leaks(server.hub.recent()), "the test must start with personal data in the hub"
    erased = await server.client.delete(
        f"/customers/{customer_id}/personal-data", headers={"X-API-Key": _admin_key(server)}
    )
    assert erased.status_code == 200, erased.text
    fresh = await server.console()  # at once: the answer waited for the hub's scrub
    assert (await next_message(fresh))["type"] == "welcome"
    snapshot = await next_message(fresh)
    assert snapshot["type"] == "snapshot" and snapshot["state"]["recent"]
    assert _leaks(snapshot) == []
    resuming = await server.console(last_seq=0)  # everything the buffer holds
    welcome = await next_message(resuming)
    assert welcome["resumed"] is True
    replayed = [await next_message(resuming) for _ in range(welcome["seq"])]
    assert [m["seq"] for m in replayed] == list(range(1, welcome["seq"] + 1))
    assert _leaks(replayed) == []


async def test_erasure_blanks_the_operators_words_in_the_event_log(server: Server) -> None:
    """The cancel reason goes from the order's events and from the events the same cancel wrote;
    the fixed causes stay."""
    await server.driver_online("d1", CENTRE[0] + 0.01, CENTRE[1])
    customer_id, first = await _a_customer_with_history(server)
    assigned = await server.order(CENTRE[0] + 0.02, CENTRE[1], phone=NUMBER_TYPED, allow_duplicate=True)
    cancel = await server.post(f"/orders/{assigned}/cancel", {"cause": "no_car", "reason": REASON})
    assert cancel.status_code == 200, cancel.text
    factory = server.app.state.session_factory
    with factory() as session:
        before = [(e.kind, e.cause, e.payload) for e in session.exec(select(OrderEvent))]
    assert _leaks(before), "the test must start with the reason in the log"
    admin = {"X-API-Key": _admin_key(server)}
    erased = await server.client.delete(f"/customers/{customer_id}/personal-data", headers=admin)
    assert erased.status_code == 200 and erased.json()["erased"]["reasons"] >= 3  # 2 orders + the driver
    with factory() as session:
        after = [(e.kind, e.cause, e.payload) for e in session.exec(select(OrderEvent))]
    assert len(after) == len(before) and _leaks(after) == []
    assert ("cancelled", "no_car") in [(kind, cause) for kind, cause, _ in after]
    events = await server.client.get(f"/orders/{first}/events", headers=admin)
    assert events.status_code == 200 and _leaks(events.json()) == []


async def test_an_open_console_keeps_getting_events_after_an_erasure(server: Server) -> None:
    """Scrubbing the hub's copies does not disturb the live stream."""
    client = await server.console()
    await next_message(client)
    await next_message(client)
    customer_id, _ = await _a_customer_with_history(server)
    admin = {"X-API-Key": _admin_key(server)}
    erased = await server.client.delete(f"/customers/{customer_id}/personal-data", headers=admin)
    assert erased.status_code == 200
    await server.order(CENTRE[0] + 0.003, CENTRE[1])
    created = await event_of_kind(client, "order.created")
    assert created["type"] == "event"


def _message(seq: int, kind: str, at: float, **data: Any) -> dict[str, Any]:
    return {"type": "event", "seq": seq, "kind": kind, "at": at, "data": data}


def test_scrub_follows_the_callers_number_and_the_words_of_the_same_command() -> None:
    """A call from the customer's number before they were known, and a driver event written by the
    same cancel, are scrubbed too; another customer's message and a fixed cause are not."""
    messages = [
        _message(1, "call.ringing", 1.0, customer_id="c1", caller=NUMBER_RAW, places=[{"text": ADDRESS}]),
        _message(2, "call.ringing", 2.0, customer_id=None, caller=NUMBER_RAW, known=False),
        _message(3, "order.cancelled", 3.0, order_id="o1", cause=REASON),
        _message(4, "driver.status", 3.0, driver_id="d1", cause=REASON),
        _message(5, "order.cancelled", 3.0, order_id="o2", cause="no_car", reason="other words"),
        _message(6, "order.created", 4.0, order_id="o3", customer_id="c2", pickup_address="Długa 7"),
    ]
    changed = scrub(messages, "c1", ["o1"])
    assert sorted(changed) == [0, 1, 2, 3]
    assert changed[0]["data"]["places"] == [] and changed[1]["data"]["caller"] is None
    assert changed[2]["data"]["cause"] is None and changed[3]["data"]["cause"] is None
    assert _leaks(list(changed.values())) == []


async def test_the_erasure_answer_waits_for_the_hubs_scrub() -> None:
    """`wait_forgotten` returns once the hub has taken the customer_forgotten event off the bus,
    whichever comes first; a customer never forgotten times out (False)."""
    bus = InProcessEventBus()
    hub = ConsoleHub(bus, _as_is, ShiftFigures(0.0))
    hub.start()
    order = {"order_id": "o1", "customer_id": "c1", "pickup_address": ADDRESS}
    await bus.publish([Event("order_created", 1.0, order)])
    waiting = asyncio.create_task(hub.wait_forgotten("c1", 10.0))
    await bus.publish([Event("customer_forgotten", 2.0, {"customer_id": "c1", "order_ids": ["o1"]})])
    assert await waiting is True
    assert _leaks(hub.recent()) == [] and hub.recent()[0]["data"]["order_id"] == "o1"
    await bus.publish([Event("customer_forgotten", 3.0, {"customer_id": "c2", "order_ids": []})])
    await asyncio.sleep(0.05)
    assert await hub.wait_forgotten("c2", 1.0) is True  # scrubbed before anyone asked
    assert await hub.wait_forgotten("nobody", 0.05) is False
    await hub.stop()


async def _as_is(events: list[tuple[str, Event]]) -> list[dict[str, Any]]:
    return [dict(event.data) for _, event in events]
