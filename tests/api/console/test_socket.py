"""The `/ws/console` protocol against a real server on loopback."""

from __future__ import annotations

import asyncio
import json
from collections import deque

import pytest
from websockets.exceptions import ConnectionClosed

from api.console import socket as console_socket
from tests.api.console.server import CENTRE, Server, event_of_kind, events_until, next_message
from tests.pg_schema import tables_locked


async def _closed_code(client: object) -> int | None:
    """Read until the server closes the socket; the close code."""
    try:
        while True:
            await asyncio.wait_for(client.recv(), 10)  # type: ignore[attr-defined]
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


async def test_snapshot_holds_the_queue_in_service_order_and_the_drivers(stored_server: Server) -> None:
    """A new console gets a welcome, then a snapshot numbered as the welcome says, queue as GET /queue."""
    server = stored_server  # on SQLite and PostgreSQL: the console's own store queries
    for offset in range(3):
        await server.order(CENTRE[0] + offset * 0.001, CENTRE[1])
    await server.post("/drivers", {"id": "far"})
    await server.post("/drivers/far/online", {"lat": 10.0, "lon": 10.0})  # too far to take anything
    await asyncio.sleep(0.2)
    client = await server.console()
    welcome = await next_message(client)
    snapshot = await next_message(client)
    assert welcome["type"] == "welcome" and welcome["resumed"] is False and welcome["role"] == "operator"
    assert snapshot["type"] == "snapshot" and snapshot["seq"] == welcome["seq"] <= server.hub.seq
    queue = (await server.client.get("/queue", headers={"X-API-Key": server.operator_key})).json()
    state = snapshot["state"]
    assert [o["order_id"] for o in state["queue"]] == [o["order_id"] for o in queue]
    assert [d["driver_id"] for d in state["drivers"]] == ["far"]
    assert state["figures"]["orders"] == 3
    await client.close()


async def test_events_arrive_numbered_in_order_with_console_kinds(server: Server) -> None:
    """After the snapshot every event carries the next seq, and order/driver events use dotted names."""
    client = await server.console()
    await next_message(client)
    start = (await next_message(client))["seq"]
    order_id = await server.order()
    await server.driver_online("d1")
    events = await events_until(client, await server.settled())
    assert [e["seq"] for e in events] == list(range(start + 1, start + 1 + len(events)))
    kinds = [e["kind"] for e in events]
    assert kinds[:3] == ["order.created", "order.queued", "order.assigned"]
    assert "driver.status" in kinds
    assigned = events[2]["data"]
    assert assigned["order_id"] == order_id and assigned["driver_id"] == "d1"
    assert assigned["pickup_lat"] == CENTRE[0]  # details the bus leaves out are added for the map
    await client.close()


async def test_reconnect_with_last_seq_gets_exactly_the_missed_events(server: Server) -> None:
    """A console that was away resumes from the buffer: the same events a connected console saw, once each."""
    watcher = await server.console()
    await next_message(watcher)
    await next_message(watcher)
    away = await server.console()
    await next_message(away)
    last_seq = (await next_message(away))["seq"]
    await server.order()
    seen_by_away = await events_until(away, await server.settled())
    last_seq = seen_by_away[-1]["seq"]
    await away.close()
    for offset in range(4):
        await server.order(CENTRE[0] + offset * 0.001, CENTRE[1])
    await server.driver_online("d1")
    target = await server.settled()
    back = await server.console(last_seq=last_seq)
    welcome = await next_message(back)
    assert welcome["resumed"] is True
    missed = await events_until(back, target)
    watched = [e for e in await events_until(watcher, target) if e["seq"] > last_seq]
    assert [e["seq"] for e in missed] == list(range(last_seq + 1, target + 1))
    assert missed == watched
    await back.close()
    await watcher.close()


async def test_reconnect_from_before_the_buffer_gets_a_fresh_snapshot(server: Server) -> None:
    """Past the replay buffer, or from another life of the server's numbering, a console gets a snapshot."""
    server.hub._buffer = deque(server.hub._buffer, maxlen=3)
    client = await server.console()
    await next_message(client)
    last_seq = (await next_message(client))["seq"]
    await client.close()
    for _ in range(3):
        await server.order()
    back = await server.console(last_seq=last_seq)
    assert (await next_message(back))["resumed"] is False
    snapshot = await next_message(back)
    assert snapshot["type"] == "snapshot" and len(snapshot["state"]["queue"]) == 3
    await back.close()
    future = await server.console(last_seq=server.hub.seq + 100)
    assert (await next_message(future))["resumed"] is False
    assert (await next_message(future))["type"] == "snapshot"
    await future.close()
    other_life = await server.console(last_seq=server.hub.seq, stream="a-server-that-restarted")
    assert (await next_message(other_life))["resumed"] is False
    assert (await next_message(other_life))["type"] == "snapshot"
    await other_life.close()


async def test_a_slow_client_is_disconnected_and_delays_nobody(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A console that stops reading and acking is closed with 4408; a reading one gets every event."""
    monkeypatch.setattr(console_socket, "CLIENT_QUEUE", 200)
    slow = await server.console(max_queue=1)
    await next_message(slow)
    fast = await server.console(max_size=None)
    await next_message(fast)
    start = (await next_message(fast))["seq"]
    padding = "x" * 2_000
    received: list[int] = []

    async def read_fast() -> None:
        while not received or received[-1] < start + 2000:
            message = await next_message(fast)
            if message["type"] == "event":
                received.append(message["seq"])

    reader = asyncio.create_task(read_fast())
    for index in range(2000):
        server.hub.publish("order.test", 0.0, {"index": index, "padding": padding})
        if index % 10 == 9:
            await asyncio.sleep(0.005)  # the fast reader keeps up; the slow one never reads
    await asyncio.wait_for(reader, 30)
    assert received == list(range(start + 1, start + 2001))
    assert server.hub.disconnected_slow == 1
    assert await _closed_code(slow) == 4408
    assert (await server.post("/orders", {"pickup_lat": 50.0, "pickup_lon": 19.9})).status_code == 201
    await fast.close()


@pytest.mark.parametrize(
    "hello",
    [
        {"type": "hello", "key": "kc_nope_nope", "last_seq": None},
        {"type": "hello", "last_seq": None},
        {"type": "hello", "key": "x", "last_seq": "7"},
    ],
)
async def test_a_bad_hello_is_refused_with_4401(server: Server, hello: dict[str, object]) -> None:
    """An unknown key, a missing key or a malformed hello closes the socket with 4401 and no data."""
    from websockets.asyncio.client import connect

    async with connect(server.ws_url) as client:
        await client.send(json.dumps(hello))
        assert await _closed_code(client) == 4401


async def test_roles_that_do_not_dispatch_are_refused_with_4403(server: Server) -> None:
    """Phone and analyst keys authenticate but may not watch the console."""
    for key in (server.phone_key, server.analyst_key):
        client = await server.console(key=key)
        assert await _closed_code(client) == 4403


async def test_silence_after_connecting_is_refused(server: Server, monkeypatch: pytest.MonkeyPatch) -> None:
    """A socket that never says hello is closed with 4401."""
    from websockets.asyncio.client import connect

    monkeypatch.setattr(console_socket, "HELLO_TIMEOUT_S", 0.2)
    async with connect(server.ws_url) as client:
        assert await _closed_code(client) == 4401


async def test_ringing_calls_reach_the_console_with_the_callers_card(stored_server: Server) -> None:
    """call.ringing carries tier, reason and the last addresses; an answered call stays in the
    snapshot (the operator on the line needs it), marked answered, and leaves when it ends."""
    server = stored_server  # on SQLite and PostgreSQL: the console's own store queries
    await server.order(pickup_address="Floriańska 3", phone="+7 912 345 67 89")
    client = await server.console()
    await next_message(client)
    await next_message(client)
    body = {"event": "call.ringing", "call_id": "c1", "from": "8 (912) 345-67-89"}
    assert (await server.post("/phone/events", body, key=server.phone_key)).status_code == 200
    card = (await event_of_kind(client, "call.ringing"))["data"]
    assert card["known"] is True and card["tier"] and card["reason"]
    assert [p["text"] for p in card["places"]] == ["Floriańska 3"]
    assert card["places"][0]["lat"] == CENTRE[0]
    assert card["active_order"]["status"] == "queued"
    again = await server.console()
    await next_message(again)
    assert [c["call_id"] for c in (await next_message(again))["state"]["calls"]] == [card["call_id"]]
    await server.post("/phone/events", {"event": "call.answered", "call_id": "c1"}, key=server.phone_key)
    await event_of_kind(client, "call.answered")  # the hub has seen the answer before a new snapshot
    third = await server.console()
    await next_message(third)
    assert [c["answered"] for c in (await next_message(third))["state"]["calls"]] == [True]
    await server.post("/phone/events", {"event": "call.ended", "call_id": "c1"}, key=server.phone_key)
    await event_of_kind(client, "call.ended")
    fourth = await server.console()
    await next_message(fourth)
    assert (await next_message(fourth))["state"]["calls"] == []
    for socket_ in (client, again, third, fourth):
        await socket_.close()


async def test_a_ringing_card_reaches_the_console_while_the_store_is_locked(
    stored_server: Server,
) -> None:
    """The card a ring shows is built from the caller index, as the PBX's reply is: with every
    table it would otherwise read locked by another connection, it still reaches the console."""
    server = stored_server
    if not server.app.state.settings.database_url.startswith("postgresql"):
        pytest.skip("a table lock that shuts readers out is PostgreSQL's (SQLite's WAL lets them read)")
    await server.order(pickup_address="Floriańska 3", phone="+7 912 345 67 89")
    await server.app.state.caller_index.current(5.0)
    client = await server.console()
    await next_message(client)
    await next_message(client)
    url = server.app.state.settings.database_url
    with tables_locked(url, "customers", "phones", "pickup_addresses", "orders"):
        body = {"event": "call.ringing", "call_id": "c-locked", "from": "8 (912) 345-67-89"}
        assert (await server.post("/phone/events", body, key=server.phone_key)).status_code == 200
        card = (await event_of_kind(client, "call.ringing"))["data"]
    assert card["known"] is True and card["reason"] and card["active_order"]["status"] == "queued"
    assert [p["text"] for p in card["places"]] == ["Floriańska 3"]
    await client.close()


async def test_a_driver_ending_shift_after_the_job_reaches_the_console(server: Server) -> None:
    """A busy driver's "offline when free" arrives as driver.leaving, and the snapshot carries it."""
    await server.driver_online("d1")
    await server.order()
    await asyncio.sleep(0.2)
    client = await server.console()
    await next_message(client)
    await next_message(client)
    response = await server.post("/drivers/d1/offline?when_free=true", {})
    assert response.status_code == 200 and response.json()["leaving"] is True
    leaving = (await event_of_kind(client, "driver.leaving"))["data"]
    assert leaving["driver_id"] == "d1" and leaving["leaving"] is True
    await client.close()
    again = await server.console()
    await next_message(again)
    snapshot = await next_message(again)
    assert [d["leaving"] for d in snapshot["state"]["drivers"]] == [True]
    await again.close()
