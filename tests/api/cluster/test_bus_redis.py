"""What only the shared bus does: one dense numbering across replicas, a retried batch once, holes seen."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from api.cluster.bus import RedisEventBus
from api.cluster.relay import EventRelay
from api.events import Event


async def _delivered(bus: RedisEventBus, count: int) -> None:
    async with asyncio.timeout(5):
        while bus.published < count:
            await asyncio.sleep(0.005)


async def test_numbers_are_dense_across_publishers_and_a_retried_batch_is_appended_once(
    redis: Redis, prefix: str
) -> None:
    """Two replicas publish; readers see 1, 2, 3 in stream order; the same batch id twice adds nothing."""
    one, two = RedisEventBus(redis, prefix), RedisEventBus(redis, prefix)
    await one.start()
    await two.start()
    try:
        seen = two.subscribe()
        await one.publish([Event("a", 1.0)], batch_id="b1")
        await two.publish([Event("b", 2.0), Event("c", 3.0)], batch_id="b2")
        await one.publish([Event("a", 1.0)], batch_id="b1")  # a retry after a lost reply
        await _delivered(two, 3)
        got = [await seen.next(1) for _ in range(3)]
        assert [(e.kind, e.id) for e in got if e] == [("a", 1), ("b", 2), ("c", 3)]
        assert await seen.next(0.3) is None and await redis.xlen(one.key) == 3
    finally:
        await one.close()
        await two.close()


async def test_a_hole_in_the_numbers_counts_as_dropped(redis: Redis, prefix: str) -> None:
    """Numbers lost (the stream trimmed past a reader, Redis lost data) make subscribers resync."""
    bus = RedisEventBus(redis, prefix)
    await bus.start()
    try:
        subscription = bus.subscribe()
        await bus.publish([Event("a", 1.0)])
        await redis.incrby(f"{prefix}:events:n", 2)  # two numbers that never reach the stream
        await bus.publish([Event("b", 2.0)])
        await _delivered(bus, 2)
        assert subscription.dropped == 2
    finally:
        await bus.close()


async def test_the_leader_relay_never_blocks_and_delivers_in_order(redis: Redis, prefix: str) -> None:
    """The writer hands batches over at once; they reach the stream in order and `drain` says so."""
    bus = RedisEventBus(redis, prefix)
    await bus.start()
    relay = EventRelay(bus)
    relay.start()
    try:
        seen = bus.subscribe()
        for i in range(5):
            await relay.publish([Event(f"e{i}", float(i))])
        assert await relay.drain(5) and relay.backlog == 0
        await _delivered(bus, 5)
        assert [(await seen.next(1)).kind for _ in range(5)] == [f"e{i}" for i in range(5)]  # type: ignore[union-attr]
    finally:
        await relay.close()
        await bus.close()
