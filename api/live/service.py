"""The live dispatcher service: the single writer of the embedded set-up.

HTTP handlers never touch the engine or write dispatch state themselves: they
`submit` a `LiveCommand` and await its result. One consumer task takes
commands off an asyncio queue in arrival order and runs them, a batch at a
time, on one dedicated thread (the store is synchronous SQLAlchemy): the
engine decides, the decisions are written in the same transaction as
everything else the command changes, the transaction commits, and only then
are events published and callers answered. A 201 therefore always means the
order is on disk. Batching several waiting commands into one transaction is
group commit: the cost of a commit (an fsync on SQLite) is shared.

If a transaction fails, the engine may hold decisions the store does not, so
the service throws the engine away and rebuilds it from the store
(`Dispatcher.restore`) before the next command, exactly as after a restart;
while the store is unreachable every command fails with `StoreUnavailable`.
The scale-out set-up keeps this class and feeds `submit` from a Redis stream
on the leader.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.exc import DataError, SQLAlchemyError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from api.events import Event, EventBus
from api.metrics import LiveMetrics
from api.outage_log import OutageLog
from dispatch.engine import Dispatcher
from dispatch.errors import DomainError

from .commands import Conflict, LiveCommand, NotFound, PurgeCalls, RequestProblem, TickIfDue
from .watchdog import Stall, WriterWatch, describe
from .writer import Writer, WriterSetup

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BATCH = 64
_EXPECTED = (DomainError, RequestProblem, NotFound, Conflict)


class StoreUnavailable(Exception):
    """The database cannot be reached (or the engine could not be rebuilt from it): a 503."""


class ServiceStopped(StoreUnavailable):
    """The service is not running (starting up or shutting down)."""


@dataclass(slots=True)
class _Envelope:
    command: LiveCommand | Callable[[Dispatcher], Any]
    future: asyncio.Future[Any]
    result: Any = None
    error: BaseException | None = None
    events: list[Event] = field(default_factory=list)


class DispatcherService:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        setup: WriterSetup,
        bus: EventBus,
        metrics: LiveMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._writer = Writer(session_factory, setup, clock)
        self._bus, self._metrics = bus, metrics
        self._queue: asyncio.Queue[_Envelope] = asyncio.Queue()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="keepcab-writer")
        self._tasks: list[asyncio.Task[None]] = []
        self._tick_interval_s = setup.tick_interval_s
        self._purge_every_s = 3600.0
        self._outage = OutageLog(log, "rebuilding the dispatcher from the store")
        self.watch = WriterWatch(setup.writer_stall_s)
        self.running = False
        # Called with each batch's events once committed and published, before anyone is answered
        # (the in-memory caller index notes what it must read again: api.caller_index).
        self.committed: list[Callable[[list[Event]], None]] = []

    # ---- life cycle ------------------------------------------------------------------

    async def start(self) -> None:
        """Rebuild the engine from the store, then start taking commands and ticking."""
        loop = asyncio.get_running_loop()
        try:
            events = await loop.run_in_executor(self._executor, self._writer.rebuild)
        except Exception as error:  # not ready (readyz says so); the first command retries
            self._outage.failed(error)
            events = []
        await self._bus.publish(events)
        self._metrics.observe(events, self._writer.gauges())
        self.running = True
        self._tasks = [
            asyncio.create_task(self._consume(), name="keepcab-writer"),
            asyncio.create_task(self._tick(), name="keepcab-tick"),
            asyncio.create_task(self.watch.watch(), name="keepcab-writer-watchdog"),
        ]

    async def stop(self) -> None:
        self.running = False
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        while not self._queue.empty():
            envelope = self._queue.get_nowait()
            if not envelope.future.done():
                envelope.future.set_exception(ServiceStopped("the dispatcher is shutting down"))
        self._executor.shutdown(wait=True)

    @property
    def writer(self) -> Writer:
        return self._writer

    @property
    def setup(self) -> WriterSetup:
        return self._writer.setup

    @property
    def healthy(self) -> bool:
        return self.running and not self._writer.dirty and all(not t.done() for t in self._tasks)

    def stalled(self) -> Stall | None:
        """The command holding the writer past `writer_stall_s`, if any (see `watchdog`)."""
        return self.watch.stalled()

    # ---- the command interface -----------------------------------------------------

    async def submit(self, command: LiveCommand) -> Any:
        """Run one command on the writer; returns its result once committed, or raises."""
        return await self._enqueue(command)

    async def read(self, query: Callable[[Dispatcher], T]) -> T:
        """Run a read-only query against the engine between writes (a consistent view)."""
        result: T = await self._enqueue(query)
        return result

    async def _enqueue(self, command: LiveCommand | Callable[[Dispatcher], Any]) -> Any:
        if not self.running:
            raise ServiceStopped("the dispatcher is not running")
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Envelope(command, future))
        return await future

    # ---- the single writer -----------------------------------------------------------

    async def _consume(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_BATCH and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            started = time.perf_counter()
            try:
                await loop.run_in_executor(self._executor, self._run_batch, batch)
            except (
                Exception
            ) as error:  # the executor itself failed: answer, never leave callers hanging
                log.exception("the writer thread could not run a batch")
                for envelope in batch:
                    envelope.error, envelope.events = StoreUnavailable(str(error)), []
            events = [event for envelope in batch for event in envelope.events]
            try:
                await self._bus.publish(events)
            except Exception:  # the decisions are committed; a bus failure must not undo the answer
                log.exception("publishing %d events failed", len(events))
            for listener in self.committed:
                listener(events)
            self._metrics.observe(events, self._writer.gauges(), time.perf_counter() - started)
            for envelope in batch:
                if envelope.future.done():
                    continue
                if envelope.error is not None:
                    envelope.future.set_exception(envelope.error)
                else:
                    envelope.future.set_result(envelope.result)

    def _run_batch(self, batch: list[_Envelope]) -> None:
        """One transaction for the batch; on failure, rebuild and retry each command alone."""
        try:
            self._run_in_transaction(batch)
            return
        except Exception as error:
            failure: BaseException = error
        for envelope in batch:
            envelope.result, envelope.error, envelope.events = None, None, []
        if len(batch) > 1 and self._rebuild_quietly():
            for envelope in batch:
                try:
                    self._run_in_transaction([envelope])
                except Exception as error:
                    self._fail([envelope], error)
            return
        self._fail(batch, failure)

    def _run_in_transaction(self, batch: list[_Envelope]) -> None:
        if self._writer.dirty and not self._rebuild_quietly():
            raise StoreUnavailable("the store is unavailable")
        with self._writer.transaction() as run:
            for envelope in batch:
                try:
                    with self.watch.holding(describe(envelope.command)):
                        envelope.result, envelope.events = run(envelope.command)
                except _EXPECTED as error:
                    envelope.error = error

    def _rebuild_quietly(self) -> bool:
        """Rebuild; a store that stays down is logged once per outage, not once per tick."""
        try:
            with self.watch.holding("rebuilding the dispatcher from the store"):
                self._writer.rebuild()
        except Exception as error:
            self._outage.failed(error)
            return False
        self._outage.recovered()
        return True

    def _fail(self, batch: list[_Envelope], error: BaseException) -> None:
        self._writer.dirty = True
        if isinstance(error.__cause__, DataError):  # a value the store refuses: the request's fault
            log.warning("store refused a value: %s", error.__cause__)
            error = RequestProblem(("body",), "a value in the request cannot be stored")
        elif isinstance(error, SQLAlchemyError | StoreUnavailable):
            if not self._outage.ongoing:  # during an outage the outage log counts it
                log.warning("store failure: %s", error)
            error = StoreUnavailable(f"the store is unavailable: {type(error).__name__}")
        else:
            log.exception("writer command failed", exc_info=error)
        for envelope in batch:
            envelope.error, envelope.events = error, []

    # ---- time ----------------------------------------------------------------------

    async def _tick(self) -> None:
        """Ask the writer every `tick_interval_s` whether an expiry or release fell due."""
        last_purge = 0.0
        while True:
            await asyncio.sleep(self._tick_interval_s)
            try:
                await self.submit(TickIfDue())
                if time.monotonic() - last_purge >= self._purge_every_s:
                    await self.submit(PurgeCalls(self._writer.setup.call_log_retention_days))
                    last_purge = time.monotonic()
            except StoreUnavailable:
                continue
            except Exception:
                log.exception("tick failed")
