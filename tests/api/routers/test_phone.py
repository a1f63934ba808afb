"""The phone webhook: ringing replies with route hints, the call log, provider adapters."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from pydantic import SecretStr
from sqlmodel import select

from api.events import Event
from api.models import Call, Role
from tests.api.app_fixtures import Live

PH = Role.PHONE


def ringing(call_id: str, caller: str | None) -> dict[str, Any]:
    return {"event": "call.ringing", "call_id": call_id, "from": caller, "to": "+74950000000"}


async def test_an_unknown_or_withheld_caller_goes_to_an_operator(live: Live) -> None:
    """Unknown, withheld and garbage numbers: known=false, route operator, never an error."""
    for call_id, caller in [("1", "+79123456789"), ("2", "anonymous"), ("3", "12ab"), ("4", None)]:
        reply = (await live.post("/phone/events", role=PH, json=ringing(call_id, caller))).json()
        assert reply["known"] is False and reply["route_hint"] == "operator", caller


async def test_a_known_caller_gets_their_addresses_and_tier(live: Live) -> None:
    """The last three pickup addresses, most recent first, and a neutral tier word."""
    for i, text in enumerate(["A st 1", "B st 2", "C st 3", "D st 4"]):
        order = await live.order(lat=55.70 + 0.02 * i, phone="+79123456789", pickup_address=text)
        await live.post(f"/orders/{order['id']}/cancel", json={})
        live.clock.advance(60)
    reply = (await live.post("/phone/events", role=PH, json=ringing("x", "8 912 345-67-89"))).json()
    assert reply["known"] is True and reply["tier"] in {"new", "occasional", "regular"}
    assert reply["addresses"] == ["D st 4", "C st 3", "B st 2"]
    assert reply["route_hint"] == "operator" and reply["active_order"] is None


async def test_a_caller_with_a_car_coming_is_routed_to_active_order(live: Live) -> None:
    """route_hint active_order, with the order's status and driver."""
    await live.driver("d1")
    order = await live.order(phone="+79123456789")
    reply = (await live.post("/phone/events", role=PH, json=ringing("y", "+79123456789"))).json()
    assert reply["route_hint"] == "active_order"
    assert (
        reply["active_order"]["order_id"] == order["id"]
        and reply["active_order"]["driver_id"] == "d1"
    )


async def test_a_caller_we_just_failed_goes_to_the_priority_queue(live: Live) -> None:
    """A recent no-car failure makes the caller at risk: route_hint vip_queue."""
    order = await live.order(phone="+79123456789")
    await live.post(f"/orders/{order['id']}/cancel", json={"cause": "no_car"})
    reply = (await live.post("/phone/events", role=PH, json=ringing("z", "+79123456789"))).json()
    assert reply["tier"] == "at risk" and reply["route_hint"] == "vip_queue"


async def test_the_call_log_records_ringing_answer_and_end(live: Live) -> None:
    """One row per call id: times, operator extension, outcome order_created when linked."""
    reply = (await live.post("/phone/events", role=PH, json=ringing("c1", "+79123456789"))).json()
    live.clock.advance(5)
    await live.post(
        "/phone/events",
        role=PH,
        json={"event": "call.answered", "call_id": "c1", "operator_extension": "101"},
    )
    order = await live.order(phone="+79123456789", call_id=reply["call_id"])
    ended = await live.post("/phone/events", role=PH, json={"event": "call.ended", "call_id": "c1"})
    assert ended.json()["outcome"] == "order_created"
    with live.session() as session:
        call = session.exec(select(Call)).one()
    assert call.external_id == "generic:c1" and call.operator_extension == "101"
    assert (
        call.answered_at is not None and call.ended_at is not None and call.order_id == order["id"]
    )
    assert (call.answered_at - call.ringing_at).total_seconds() == 5


async def test_hanging_up_before_an_answer_is_a_lost_call(live: Live) -> None:
    """call.abandoned before answer: outcome abandoned; an answered call without order: other."""
    await live.post("/phone/events", role=PH, json=ringing("a", "+79123456789"))
    lost = await live.post(
        "/phone/events", role=PH, json={"event": "call.abandoned", "call_id": "a"}
    )
    await live.post("/phone/events", role=PH, json=ringing("b", "+79123456780"))
    await live.post("/phone/events", role=PH, json={"event": "call.answered", "call_id": "b"})
    other = await live.post("/phone/events", role=PH, json={"event": "call.ended", "call_id": "b"})
    assert lost.json()["outcome"] == "abandoned" and other.json()["outcome"] == "other"


async def test_ringing_reaches_the_consoles(live: Live) -> None:
    """The ringing reply is published on the event bus for every console."""
    subscription = live.bus.subscribe()
    await live.post("/phone/events", role=PH, json=ringing("e", "+79123456789"))
    event = await subscription.next(timeout_s=1.0)
    assert isinstance(event, Event) and event.kind == "call.ringing"
    assert event.data["call_id"] == "generic:e"


async def test_twilio_form_posts_are_understood(live: Live) -> None:
    """CallSid/From/CallStatus form fields, key as ?key= (Twilio cannot set headers)."""
    form = {"CallSid": "CA1", "From": "+79123456789", "To": "+74950000000", "CallStatus": "ringing"}
    response = await live.client.post("/phone/twilio", data=form, params={"key": live.keys[PH]})
    assert response.status_code == 200 and response.json()["call_id"] == "twilio:CA1"


async def test_zadarma_notifications_need_a_valid_signature(live: Live) -> None:
    """NOTIFY_START signed with the secret rings; a wrong signature is 403."""
    live.settings.zadarma_secret = SecretStr("s3cret")
    form = {
        "event": "NOTIFY_START",
        "call_start": "2026-05-22 12:13:20",
        "pbx_call_id": "in_1",
        "caller_id": "79123456789",
        "called_did": "74950000000",
    }
    data = form["caller_id"] + form["called_did"] + form["call_start"]
    mac = hmac.new(b"s3cret", data.encode(), hashlib.sha1).hexdigest().encode()
    good = base64.b64encode(mac).decode()
    ok = await live.client.post(
        "/phone/zadarma", data=form, headers={**live.auth(PH), "Signature": good}
    )
    bad = await live.client.post(
        "/phone/zadarma", data=form, headers={**live.auth(PH), "Signature": "x"}
    )
    assert ok.status_code == 200 and ok.json()["call_id"] == "zadarma:in_1"
    assert bad.status_code == 403


async def test_an_order_right_after_the_ring_links_the_call(live: Live) -> None:
    """The ringing row is written in the background, yet an order naming the call finds it."""
    reply = (await live.post("/phone/events", role=PH, json=ringing("fast", "+79123456789"))).json()
    order = await live.order(phone="+79123456789", call_id=reply["call_id"])
    with live.session() as session:
        call = session.exec(select(Call)).one()
    assert call.order_id == order["id"] and call.outcome == "order_created"
    assert call.customer_id == order["customer_id"]
