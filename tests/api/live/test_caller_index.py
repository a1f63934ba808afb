"""The in-memory caller index: rings answered from memory, kept current by the writer's events."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import Engine

from api.caller_index import CallerIndex
from api.db import make_session_factory
from api.models import Customer, Phone, Role
from tests.api.app_fixtures import Live, start_live, stop_live
from tests.pg_schema import tables_locked

PH = Role.PHONE


def ringing(call_id: str, caller: str) -> dict[str, str]:
    return {"event": "call.ringing", "call_id": call_id, "from": caller}


def _index(live: Live) -> CallerIndex:
    index: CallerIndex = live.app.state.caller_index
    return index


async def test_a_ring_right_after_each_change_sees_it(live: Live) -> None:
    """An order's 201, its cancellation and the erasure of the customer each show in the very next
    ring: the writer tells the index before it answers, and a ring waits for a read under way."""
    order = await live.order(phone="+79123456789", pickup_address="Lenina 5")
    first = (await live.post("/phone/events", role=PH, json=ringing("r1", "8 912 345-67-89"))).json()
    assert first["known"] and first["active_order"]["order_id"] == order["id"]
    assert first["addresses"] == ["Lenina 5"]
    await live.post(f"/orders/{order['id']}/cancel", json={})
    second = (await live.post("/phone/events", role=PH, json=ringing("r2", "+79123456789"))).json()
    assert second["known"] and second["active_order"] is None
    erased = await live.client.delete(
        f"/customers/{order['customer_id']}/personal-data", headers=live.auth(Role.ADMIN)
    )
    assert erased.status_code == 200
    assert _index(live).lookup("+79123456789") is None
    third = (await live.post("/phone/events", role=PH, json=ringing("r3", "+79123456789"))).json()
    assert third["known"] is False
    assert _index(live).late == 0


async def test_numbers_another_process_wrote_are_picked_up(database_url: str, engine: Engine) -> None:
    """A customer stored behind the server's back (an import into a running server) is recognised
    within KEEPCAB_CALLER_INDEX_RESYNC_S."""
    live, lifespan = await start_live(database_url, engine, caller_index_resync_s=0.1)
    try:
        with make_session_factory(engine)() as session:
            session.add(Customer(id="c-imported", display_name="Anna"))
            session.flush()
            session.add(Phone(e164="+79120000001", raw="8 912 000-00-01", customer_id="c-imported"))
            session.commit()
        deadline = time.monotonic() + 10
        while _index(live).lookup("+79120000001") is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        reply = (await live.post("/phone/events", role=PH, json=ringing("r4", "89120000001"))).json()
        assert reply["known"] and reply["display_name"] == "Anna"
    finally:
        await stop_live(live, lifespan)


async def test_a_ring_is_answered_while_the_store_is_locked(live: Live) -> None:
    """Recognition does not queue behind the store: with the customers' tables locked by another
    connection, a known caller is still recognised at once (the call-log row is written later)."""
    if not live.settings.database_url.startswith("postgresql"):
        pytest.skip("a table lock that shuts readers out is PostgreSQL's (SQLite's WAL lets them read)")
    await live.order(phone="+79123456789", pickup_address="Lenina 5")
    await _index(live).current(1.0)
    with tables_locked(live.settings.database_url, "customers", "phones"):
        started = time.perf_counter()
        response = await asyncio.wait_for(
            live.post("/phone/events", role=PH, json=ringing("r5", "+79123456789")), 10.0
        )
        took_s = time.perf_counter() - started
    assert response.status_code == 200 and response.json()["known"] is True
    assert took_s < 1.0, f"the ring waited {took_s:.2f} s for the store"
