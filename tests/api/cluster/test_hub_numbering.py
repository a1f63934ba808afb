"""Console hubs on two replicas of one Redis stream number events alike, so a console resumes on either."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from api.cluster.bus import RedisEventBus
from api.console.figures import ShiftFigures
from api.console.hub import ConsoleHub
from api.events import Event
from tests.api.console.test_hub import ListOutbox, _same


async def _settled(hub: ConsoleHub, bus: RedisEventBus, count: int) -> None:
    async with asyncio.timeout(5):
        while hub.taken < count or bus.published < count:
            await asyncio.sleep(0.005)


async def test_a_console_resumes_on_another_replica_with_exactly_what_it_missed(
    redis: Redis, prefix: str
) -> None:
    """Same seqs and stream name on both hubs; a last seq from hub A resumes on hub B."""
    buses = [RedisEventBus(redis, prefix), RedisEventBus(redis, prefix)]
    for bus in buses:
        await bus.start()
    hubs = [ConsoleHub(bus, _same, ShiftFigures(0.0), replay_events=100) for bus in buses]
    for hub in hubs:
        hub.start()
    try:
        on_a = ListOutbox()
        hubs[0].attach(on_a, None)
        await buses[0].publish([Event("queued", 1.0, {"order_id": "o1"}), Event("customer_forgotten", 1.5)])
        await buses[1].publish([Event("assigned", 2.0, {"order_id": "o1"})])
        for hub, bus in zip(hubs, buses, strict=True):
            await _settled(hub, bus, 3)
        assert hubs[0].stream == hubs[1].stream and hubs[0].seq == hubs[1].seq == 3
        last = on_a.seqs[0]  # the console saw the first event, then lost its connection
        await buses[1].publish([Event("picked_up", 3.0, {"order_id": "o1"})])
        for hub, bus in zip(hubs, buses, strict=True):
            await _settled(hub, bus, 4)
        on_b = ListOutbox()
        assert hubs[1].attach(on_b, last)  # resumed: no snapshot needed
        assert on_a.seqs[:1] + on_b.seqs == [1, 3, 4]  # the forgotten customer is not a console event
        assert [e["kind"] for e in on_b.events] == ["order.assigned", "order.picked_up"]
    finally:
        for hub in hubs:
            await hub.stop()
        for bus in buses:
            await bus.close()
