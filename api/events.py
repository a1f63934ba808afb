"""The event bus: what the consoles (and later other replicas) hear about.

Events are published only after the decisions behind them are committed, so a
console never shows a car that the database does not know about. The bus is an
interface with one in-process implementation (the embedded default); the Redis
Streams implementation (`api.cluster.bus`: `XADD` on publish, one `XREAD`
cursor per replica) replaces it in the scale-out set-up without touching
publishers, and one contract suite runs against both.

A slow subscriber must never stall the dispatcher, so each subscriber has a
bounded buffer: when it is full the oldest event is dropped and the loss is
counted, and a console that sees `dropped` grow reloads its state over REST.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened; `data` holds only JSON-ready values."""

    kind: str
    at: float
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None  # the shared bus's number (scale-out); None in one process

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "at": self.at, "data": self.data}


class Subscription(Protocol):
    @property
    def dropped(self) -> int: ...

    def __aiter__(self) -> AsyncIterator[Event]: ...

    async def next(self, timeout_s: float | None = None) -> Event | None: ...

    def close(self) -> None: ...


class EventBus(Protocol):
    async def publish(self, events: list[Event]) -> None: ...

    def subscribe(self, buffer: int = 1000) -> Subscription: ...

    async def close(self) -> None: ...


class InProcessSubscription:
    """A bounded per-subscriber buffer that drops the oldest event when full."""

    def __init__(self, bus: InProcessEventBus, buffer: int) -> None:
        self._bus = bus
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=buffer)
        self.dropped = 0

    def offer(self, event: Event) -> None:
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(event)

    async def next(self, timeout_s: float | None = None) -> Event | None:
        """The next event, or None when `timeout_s` passes first."""
        if not self._queue.empty():
            return self._queue.get_nowait()
        try:
            return await asyncio.wait_for(self._queue.get(), timeout_s)
        except TimeoutError:
            return None

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            yield await self._queue.get()

    def close(self) -> None:
        self._bus.unsubscribe(self)


class InProcessEventBus:
    """Fan-out to subscribers in this process; publish never blocks."""

    def __init__(self) -> None:
        self._subscribers: list[InProcessSubscription] = []
        self.published = 0

    async def publish(self, events: list[Event]) -> None:
        for event in events:
            self.published += 1
            for subscriber in self._subscribers:
                subscriber.offer(event)

    def subscribe(self, buffer: int = 1000) -> InProcessSubscription:
        subscription = InProcessSubscription(self, buffer)
        self._subscribers.append(subscription)
        return subscription

    def unsubscribe(self, subscription: InProcessSubscription) -> None:
        if subscription in self._subscribers:
            self._subscribers.remove(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def close(self) -> None:
        self._subscribers.clear()


class MockEventBus(InProcessEventBus):
    """The trivial bus for tests, built from one function (like httpx's `MockTransport`).

    `handler` sees every published event and returns what the subscribers get
    instead (the event itself, a changed copy, or None to drop it), so a test
    records, rewrites or loses events without a second fan-out to maintain.
    """

    def __init__(self, handler: Callable[[Event], Event | None]) -> None:
        super().__init__()
        self._handler = handler

    async def publish(self, events: list[Event]) -> None:
        await super().publish([out for event in events if (out := self._handler(event)) is not None])
