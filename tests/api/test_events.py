"""The in-process event bus: fan-out in order, bounded buffers, unsubscribe."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from api.events import Event, InProcessEventBus


async def test_every_subscriber_gets_every_event_in_order() -> None:
    """Two consoles see the same sequence."""
    bus = InProcessEventBus()
    one, two = bus.subscribe(), bus.subscribe()
    await bus.publish([Event("a", 1.0), Event("b", 2.0, {"x": 1})])
    for subscription in (one, two):
        assert [(await subscription.next(0.1)).kind for _ in range(2)] == ["a", "b"]  # type: ignore[union-attr]
    assert bus.published == 2


async def test_a_full_buffer_drops_the_oldest_and_counts_it() -> None:
    """A slow console loses old events, never blocks the publisher, and can tell it lost some."""
    bus = InProcessEventBus()
    slow = bus.subscribe(buffer=2)
    await bus.publish([Event(str(i), float(i)) for i in range(5)])
    kinds = [(await slow.next(0.1)).kind for _ in range(2)]  # type: ignore[union-attr]
    assert kinds == ["3", "4"] and slow.dropped == 3


async def test_next_times_out_with_none_and_close_unsubscribes() -> None:
    """No event: None after the timeout; a closed subscription hears nothing more."""
    bus = InProcessEventBus()
    subscription = bus.subscribe()
    assert await subscription.next(0.01) is None
    subscription.close()
    await bus.publish([Event("late", 1.0)])
    assert bus.subscriber_count == 0 and await subscription.next(0.01) is None


async def test_async_iteration_yields_published_events() -> None:
    """`async for` over a subscription reads events as they come."""
    bus = InProcessEventBus()
    subscription = bus.subscribe()
    await bus.publish([Event("x", 1.0), Event("y", 2.0)])
    seen = []
    async for event in subscription:
        seen.append(event.kind)
        if len(seen) == 2:
            break
    assert seen == ["x", "y"]


@given(st.lists(st.text(max_size=3), max_size=30), st.integers(min_value=1, max_value=8))
def test_a_subscriber_keeps_the_newest_events_whatever_the_buffer(
    kinds: list[str], buffer: int
) -> None:
    """Kept + dropped = published, and what is kept is the tail, in order."""
    import asyncio

    async def run() -> tuple[list[str], int]:
        bus = InProcessEventBus()
        subscription = bus.subscribe(buffer=buffer)
        await bus.publish([Event(kind, 0.0) for kind in kinds])
        kept = []
        while (event := await subscription.next(0)) is not None:
            kept.append(event.kind)
        return kept, subscription.dropped

    kept, dropped = asyncio.run(run())
    assert kept == kinds[len(kinds) - len(kept) :] and len(kept) + dropped == len(kinds)
    assert len(kept) == min(buffer, len(kinds))
