"""The console hub on its own: numbering, replay, slow clients, a hub that fell behind the bus."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from api.console.figures import ShiftFigures
from api.console.hub import CLOSE_RESYNC, CLOSE_TOO_SLOW, ConsoleHub, console_kind
from api.events import Event, InProcessEventBus


class ListOutbox:
    """A client that keeps what it is sent, up to `capacity` messages."""

    def __init__(self, capacity: int = 1000) -> None:
        self.capacity, self.texts, self.closed = capacity, [], None  # type: ignore[var-annotated]

    def offer(self, text: str, seq: int | None = None) -> bool:
        if self.closed is not None or len(self.texts) >= self.capacity:
            return False
        self.texts.append(text)
        return True

    def reset(self) -> None:
        self.texts.clear()

    def close(self, code: int, reason: str) -> None:
        self.closed = code

    @property
    def events(self) -> list[dict[str, Any]]:
        return [m for m in map(json.loads, self.texts) if m["type"] == "event"]

    @property
    def seqs(self) -> list[int]:
        return [event["seq"] for event in self.events]


async def _same(events: list[tuple[str, Event]]) -> list[dict[str, Any]]:
    return [dict(event.data) for _, event in events]


def _hub(bus: InProcessEventBus | None = None, replay: int = 100) -> ConsoleHub:
    return ConsoleHub(bus or InProcessEventBus(), _same, ShiftFigures(0.0), replay_events=replay)


def test_bus_kinds_get_dotted_console_names_and_others_are_left_out() -> None:
    """Decisions become order.*/driver.*, call events keep their names, the rest is not for consoles."""
    assert console_kind("queued") == "order.queued"
    assert console_kind("driver_status") == "driver.status"
    assert console_kind("driver_leaving") == "driver.leaving"
    assert console_kind("call.ringing") == "call.ringing"
    assert console_kind("customer_forgotten") is None


async def test_events_from_the_bus_are_numbered_in_order_and_counted() -> None:
    """The hub numbers what the bus publishes, in order, and keeps the shift figures."""
    bus = InProcessEventBus()
    hub = _hub(bus)
    hub.start()
    client = ListOutbox()
    assert hub.attach(client, None) is False
    await bus.publish([Event("order_created", 10.0, {"order_id": "a"}), Event("customer_forgotten", 10.0)])
    await bus.publish([Event("queued", 10.0, {"order_id": "a"}), Event("assigned", 11.0, {"order_id": "a"})])

    def figures() -> list[dict[str, object]]:
        return [m for m in map(json.loads, client.texts) if m["type"] == "figures"]

    for _ in range(1000):  # up to 10 s on a loaded machine; usually a few milliseconds
        if len(client.events) == 3 and figures() and figures()[-1]["figures"]["assigned"] == 1:
            break
        await asyncio.sleep(0.01)
    assert client.seqs == [1, 2, 3]
    assert [e["kind"] for e in client.events] == ["order.created", "order.queued", "order.assigned"]
    assert (hub.figures.counts.orders, hub.figures.counts.assigned) == (1, 1)
    assert figures() and figures()[-1]["figures"]["assigned"] == 1  # pushed after the batch
    await hub.stop()


@given(st.integers(min_value=0, max_value=30), st.integers(min_value=1, max_value=10))
def test_resuming_replays_exactly_what_came_after_the_last_seq(published: int, replay: int) -> None:
    """Within the buffer a client gets seq last+1..now, once each; beyond it, nothing (a snapshot)."""
    hub = _hub(replay=replay)
    for index in range(published):
        hub.publish("order.queued", float(index), {"order_id": str(index)})
    for last_seq in range(published + 2):
        client = ListOutbox()
        resumed = hub.attach(client, last_seq)
        in_buffer = last_seq <= published and published - last_seq <= replay
        assert resumed is in_buffer
        assert client.seqs == (list(range(last_seq + 1, published + 1)) if resumed else [])
        hub.detach(client)


def test_a_client_that_cannot_take_the_replay_gets_a_snapshot_instead() -> None:
    """More missed events than the client may queue: nothing is replayed."""
    hub = _hub()
    for index in range(20):
        hub.publish("order.queued", float(index), {})
    client = ListOutbox(capacity=5)
    assert hub.attach(client, 0) is False
    assert client.texts == []


def test_a_full_client_is_closed_and_the_others_still_get_everything() -> None:
    """Publishing never waits: a client whose queue is full is dropped with 4408."""
    hub = _hub()
    slow, fast = ListOutbox(capacity=3), ListOutbox()
    hub.attach(slow, None)
    hub.attach(fast, None)
    for index in range(10):
        hub.publish("order.queued", float(index), {})
    assert slow.closed == CLOSE_TOO_SLOW and slow.seqs == [1, 2, 3]
    assert fast.seqs == list(range(1, 11))
    assert hub.client_count == 1 and hub.disconnected_slow == 1


async def test_a_hub_that_lost_bus_events_forgets_its_buffer_and_resyncs_everyone() -> None:
    """When the bus dropped events for the hub, every client is closed and no old seq can resume."""
    bus = InProcessEventBus()
    hub = ConsoleHub(bus, _same, ShiftFigures(0.0), bus_buffer=2)
    hub.start()
    await asyncio.sleep(0)
    client = ListOutbox()
    hub.attach(client, None)
    await bus.publish([Event("queued", float(i), {"order_id": str(i)}) for i in range(5)])
    for _ in range(50):
        if client.closed is not None:
            break
        await asyncio.sleep(0.01)
    assert client.closed == CLOSE_RESYNC
    assert hub.attach(ListOutbox(), 0) is False  # what the closed client had seen
    await hub.stop()
