"""The leader's publisher: committed events reach the shared stream even across a Redis outage.

The writer publishes after every commit and must never wait on Redis, so the
leader's `DispatcherService` publishes into this relay, which only queues.
One task appends the queued batches to the stream in order, retrying a batch
under the same batch id until Redis takes it (the bus's script appends a
batch once), so an outage delays console events but neither loses nor
duplicates them. On step-down the relay is drained before it stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

from api.events import Event, InProcessSubscription

from .bus import BusUnavailable, RedisEventBus

log = logging.getLogger(__name__)


class EventRelay:
    def __init__(self, bus: RedisEventBus, retry_s: float = 0.2) -> None:
        self._bus, self._retry_s = bus, retry_s
        self._queue: asyncio.Queue[tuple[str, list[Event]]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        self.failed_attempts = 0

    @property
    def backlog(self) -> int:
        return self._queue.qsize() + (0 if self._idle.is_set() else 1)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="keepcab-event-relay")

    def offer(self, events: list[Event]) -> None:
        if events:
            self._idle.clear()
            self._queue.put_nowait((uuid.uuid4().hex, events))

    async def publish(self, events: list[Event]) -> None:
        self.offer(events)

    def subscribe(self, buffer: int = 1000) -> InProcessSubscription:
        return self._bus.subscribe(buffer)

    async def drain(self, timeout_s: float) -> bool:
        """Wait until every queued batch is on the stream; False if Redis stayed away."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout_s)
        except TimeoutError:
            log.error("%d event batches not published before step-down", self.backlog)
            return False
        return True

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            if self._queue.empty():
                self._idle.set()
            batch_id, events = await self._queue.get()
            self._idle.clear()
            while True:
                try:
                    await self._bus.publish(events, batch_id)
                    break
                except BusUnavailable:
                    self.failed_attempts += 1
                    await asyncio.sleep(self._retry_s)
