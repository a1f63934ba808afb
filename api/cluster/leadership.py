"""One term of leadership: take the term in PostgreSQL, rebuild, serve the stream, step down.

Every replica runs `Elector.run`: it tries to take the lease every `poll_s`.
The one that gets it writes the new term to `cluster_terms` (refused if the
database has seen a higher one: then it raises Redis's counter and lets go),
rebuilds the dispatcher from PostgreSQL (`Dispatcher.restore`, inside
`DispatcherService.start`), claims what the last leader left pending and
carries on. It steps down when its lease is gone or its writes are fenced,
after draining the events it committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from redis.exceptions import RedisError
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from api.console.positions import watch_positions
from api.live.service import DispatcherService, StoreUnavailable
from api.live.writer import WriterSetup
from api.metrics import LiveMetrics
from dispatch.engine import Dispatcher

from .bus import RedisEventBus
from .fencing import Fence, current_term, fenced_session_factory, take_term
from .leader import CommandConsumer, MovedPublisher
from .lease import Lease
from .relay import EventRelay

log = logging.getLogger(__name__)
DRAIN_S = 5.0


def _nothing(dispatcher: Dispatcher) -> None:
    """The leader's proof of term: a transaction that reads and writes nothing but the fence."""


@dataclass
class Term:
    number: int
    fence: Fence
    service: DispatcherService
    consumer: CommandConsumer
    relay: EventRelay


class Elector:
    def __init__(
        self,
        lease: Lease,
        engine: Engine,
        city: str,
        bus: RedisEventBus,
        setup: WriterSetup,
        metrics: LiveMetrics,
        clock: Callable[[], float],
        stream: str,
        poll_s: float = 0.25,
    ) -> None:
        self.lease, self._engine, self.city, self._bus = lease, engine, city, bus
        self._setup, self._metrics, self._clock, self._stream = setup, metrics, clock, stream
        self.poll_s = poll_s
        self.term: Term | None = None
        self.fenced_writes = 0
        self.terms_led = 0

    @property
    def leading(self) -> bool:
        return self.term is not None

    async def run(self) -> None:
        while True:
            try:
                number = await self.lease.take()
            except RedisError:
                number = None
            if number is None:
                await asyncio.sleep(self.poll_s)
                continue
            try:
                await self._lead(number)
            except Exception:
                log.exception("term %d ended with an error", number)
            finally:
                await self.step_down()

    async def _lead(self, number: int) -> None:
        if not await run_in_threadpool(take_term, self._engine, self.city, number, self.lease.holder):
            stored = await run_in_threadpool(current_term, self._engine, self.city)
            log.warning("term %d is not above the stored term %d: raising the counter", number, stored)
            await self.lease.raise_term_to(stored)
            return
        log.info("%s leads %s in term %d", self.lease.holder, self.city, number)
        fence = Fence(self.city, number)
        relay = EventRelay(self._bus)
        relay.start()
        service = DispatcherService(
            fenced_session_factory(self._engine, fence), self._setup, relay, self._metrics, self._clock
        )
        consumer = CommandConsumer(self.lease.redis, self._stream, self.lease.holder, service, fence)
        self.term = Term(number, fence, service, consumer, relay)
        self.terms_led += 1
        await service.start()
        tasks = [
            asyncio.create_task(consumer.run(), name="keepcab-consumer"),
            asyncio.create_task(self._renew(service, fence), name="keepcab-lease"),
            asyncio.create_task(watch_positions(service, MovedPublisher(relay, self._clock), self._clock)),  # type: ignore[arg-type]
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is not None:
                    log.warning("stepping down: %s", task.exception())
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _renew(self, service: DispatcherService, fence: Fence) -> None:
        """Each period: prove the term in PostgreSQL, then push the lease's expiry back.

        The proof is an empty transaction of the writer, so it carries the
        fencing check: a leader that wakes from a pause learns from the
        database, not from Redis, that a newer term exists, and steps down.
        """
        while True:
            await asyncio.sleep(self.lease.renew_every_s)
            # The store being down is not a newer term; a long writer queue must not cost the lease.
            with contextlib.suppress(StoreUnavailable, TimeoutError):
                await asyncio.wait_for(service.read(_nothing), self.lease.renew_every_s)
            if fence.fenced:
                log.warning("term %d fenced: a newer leader exists", fence.term)
                return
            try:
                if not await self.lease.renew():
                    log.warning("lease of term %d lost", fence.term)
                    return
            except RedisError:
                continue  # nobody can take the lease while Redis is away either; the fence decides

    async def step_down(self) -> None:
        term, self.term = self.term, None
        if term is None:
            return
        await term.service.stop()
        self.fenced_writes += term.fence.refused
        await term.relay.drain(DRAIN_S)
        await term.relay.close()
        if not term.fence.fenced:
            with contextlib.suppress(RedisError):
                await self.lease.release()
        log.info("%s stepped down from term %d", self.lease.holder, term.number)
