"""One contract for every event bus: in-process, the lambda-built mock, and Redis Streams.

Each backend is given as a pair (the bus a publisher uses, the bus a
subscriber uses): one object in one process, two replicas' buses on one
Redis stream. `delivered(n)` waits until the subscriber side has taken n
events (the Redis reader runs in its own task), never a fixed sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from api.cluster.bus import RedisEventBus
from api.events import Event, EventBus, InProcessEventBus, MockEventBus

from .conftest import forget_prefix, open_redis


@dataclass
class Pair:
    publisher: EventBus
    subscriber: Any  # an InProcessEventBus or a subclass: `published` counts what it delivered
    delivered: Callable[[int], Awaitable[None]]


def _waiter(bus: Any) -> Callable[[int], Awaitable[None]]:
    async def delivered(count: int) -> None:
        async with asyncio.timeout(5):
            while bus.published < count:
                await asyncio.sleep(0.005)

    return delivered


@pytest.fixture(params=["in-process", "mock", "redis"])
async def pair(request: pytest.FixtureRequest, prefix: str) -> AsyncIterator[Pair]:
    if request.param == "in-process":
        bus: Any = InProcessEventBus()
        yield Pair(bus, bus, _waiter(bus))
        return
    if request.param == "mock":
        bus = MockEventBus(lambda event: event)
        yield Pair(bus, bus, _waiter(bus))
        return
    redis = await open_redis()
    one, two = RedisEventBus(redis, prefix), RedisEventBus(redis, prefix)
    await one.start()
    await two.start()
    yield Pair(one, two, _waiter(two))
    await one.close()
    await two.close()
    await forget_prefix(redis, prefix)
    await redis.aclose()


async def test_every_subscriber_gets_every_event_in_order(pair: Pair) -> None:
    """Two consoles (on another replica, for Redis) see the same sequence, payloads intact."""
    one, two = pair.subscriber.subscribe(), pair.subscriber.subscribe()
    await pair.publisher.publish([Event("a", 1.5), Event("b", 2.0, {"x": 1, "y": [None, "é"]})])
    await pair.delivered(2)
    for subscription in (one, two):
        got = [await subscription.next(1) for _ in range(2)]
        assert [(e.kind, e.at, e.data) for e in got if e] == [
            ("a", 1.5, {}),
            ("b", 2.0, {"x": 1, "y": [None, "é"]}),
        ]


async def test_a_full_buffer_drops_the_oldest_and_counts_it(pair: Pair) -> None:
    """A slow subscriber loses old events, never blocks the publisher, and can tell it lost some."""
    slow = pair.subscriber.subscribe(buffer=2)
    await pair.publisher.publish([Event(str(i), float(i)) for i in range(5)])
    await pair.delivered(5)
    kinds = [(await slow.next(1)).kind for _ in range(2)]  # type: ignore[union-attr]
    assert kinds == ["3", "4"] and slow.dropped == 3


async def test_next_times_out_with_none_and_close_unsubscribes(pair: Pair) -> None:
    """No event: None after the timeout; a closed subscription hears nothing more."""
    subscription = pair.subscriber.subscribe()
    assert await subscription.next(0.01) is None
    subscription.close()
    await pair.publisher.publish([Event("late", 1.0)])
    await pair.delivered(1)
    assert pair.subscriber.subscriber_count == 0 and await subscription.next(0.01) is None


async def test_publishing_nothing_is_harmless(pair: Pair) -> None:
    """An empty batch (a command that decided nothing) publishes nothing."""
    subscription = pair.subscriber.subscribe()
    await pair.publisher.publish([])
    await pair.publisher.publish([Event("only", 1.0)])
    await pair.delivered(1)
    assert (await subscription.next(1)).kind == "only" and pair.subscriber.published == 1  # type: ignore[union-attr]
