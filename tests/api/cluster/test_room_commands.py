"""The dispatch room's new commands in scale-out: notes, the flag, pre-booking edits and promises to a
busy car cross the wire, and a request taken by a follower is applied by the leader's writer."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import Engine

from api.cluster import codec, replies
from api.console.state import EngineView
from api.db import make_session_factory
from api.live.commands import Apply
from api.live.customer_care import SetConfirmFlag, SetCustomerNotes
from api.live.prebooking import EditPrebooking
from api.models import Customer
from dispatch import commands as c
from dispatch.model import DriverStatus, DriverView, OrderStatus, OrderView, Position, PriorityScore, Tier
from dispatch.model import Order as CoreOrder
from tests.api.cluster.load import CENTRE
from tests.api.cluster.replicas import Cluster

HERE = Position(50.06, 19.94)
COMMANDS = [
    SetCustomerNotes("c1", "deaf: text only", "operator:olga"),
    SetConfirmFlag("c1", True, "two no-shows", "operator:olga"),
    EditPrebooking("o1", "operator:olga", 1.8e9, HERE, "Rynek 2"),
    EditPrebooking("o1", "operator:olga"),
    Apply(c.AssignNext("o1", "d1"), "operator:olga", "assigned when free"),
    Apply(c.CancelHold("o1"), "operator:olga", "back to the queue"),
    Apply(c.RescheduleOrder("o1", 1.8e9, HERE), "operator:olga"),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: type(command).__name__)
def test_the_new_commands_round_trip_equal(command: object) -> None:
    """What a follower sends is what the leader's writer gets."""
    assert codec.loads(codec.dumps(command)) == command


def test_an_engine_view_keeps_its_prebookings_and_promises() -> None:
    """The console snapshot a follower asks the leader for carries state.scheduled and state.held."""
    order = CoreOrder("o1", None, HERE, 1.0, 9000.0, None)
    score = PriorityScore(0.0, Tier.NEW, "new")
    view = EngineView(
        [],
        [DriverView("d1", DriverStatus.ON_TRIP, HERE, "o0", False, "o2")],
        [],
        [OrderView(order, OrderStatus.SCHEDULED, None, None, score, 0.0)],
        [OrderView(order, OrderStatus.QUEUED, None, None, score, 0.0, "d1")],
    )
    assert codec.loads(codec.dumps(view)) == view


def test_a_customer_or_an_order_answer_is_read_back_from_the_store(engine: Engine) -> None:
    """The leader answers with the row's id; the accepting replica reads the committed row."""
    factory = make_session_factory(engine)
    with factory() as session:
        session.add(Customer(id="c-room", notes="deaf: text only"))
        session.commit()
        customer = session.get(Customer, "c-room")
    back = replies.decode_result(replies.encode_result(customer), factory)
    assert isinstance(back, Customer) and back.notes == "deaf: text only"
    with pytest.raises(codec.CodecError):
        replies.decode_result('{"kind": "row", "table": "ApiKey", "id": 1}', factory)


@pytest.mark.slow
async def test_a_follower_takes_the_rooms_requests_and_the_leader_applies_them(cluster: Cluster) -> None:
    """Through the follower: notes and flag on a customer, a pre-booking moved, an order promised to a
    busy car and taken back: each answered as in one process."""
    for name in ("r0", "r1"):
        cluster.start(name)
    await cluster.ready("r0", "r1")
    leader = await cluster.wait_leader({"r0", "r1"})
    url = cluster.replicas["r1" if leader == "r0" else "r0"].url
    headers = {"X-API-Key": cluster.key}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=10.0) as client:
        first = await client.post(
            "/orders", json={"pickup_lat": CENTRE[0], "pickup_lon": CENTRE[1], "phone": "+48 600 100 200"}
        )
        assert first.status_code == 201, first.text
        customer_id = first.json()["customer_id"]
        notes = await client.put(f"/customers/{customer_id}/notes", json={"notes": "deaf: text only"})
        assert notes.status_code == 200 and notes.json()["notes"] == "deaf: text only", notes.text
        flag = await client.put(
            f"/customers/{customer_id}/flag", json={"confirm_required": True, "reason": "no-shows"}
        )
        assert flag.status_code == 200 and flag.json()["confirm_required"] is True, flag.text
        when = datetime.fromtimestamp(datetime.now(UTC).timestamp() + 7200, UTC).isoformat()
        booked = await client.post(
            "/orders", json={"pickup_lat": CENTRE[0], "pickup_lon": CENTRE[1], "pickup_at": when}
        )
        moved = await client.patch(f"/orders/{booked.json()['id']}", json={"pickup_address": "Rynek 2"})
        assert moved.status_code == 200 and moved.json()["pickup_address"] == "Rynek 2", moved.text
        assert (await client.post("/drivers", json={"id": "car-1"})).status_code == 201
        await client.post("/drivers/car-1/online", json={"lat": CENTRE[0], "lon": CENTRE[1]})
        busy = await client.get(f"/orders/{first.json()['id']}")
        assert busy.json()["driver_id"] == "car-1"
        waiting = await client.post("/orders", json={"pickup_lat": CENTRE[0] + 0.01, "pickup_lon": CENTRE[1]})
        held = await client.post(
            f"/orders/{waiting.json()['id']}/assign", json={"driver_id": "car-1", "when_free": True}
        )
        assert held.status_code == 200 and held.json()["next_driver_id"] == "car-1", held.text
        back = await client.post(f"/orders/{waiting.json()['id']}/requeue")
        assert back.status_code == 200 and back.json()["next_driver_id"] is None, back.text
