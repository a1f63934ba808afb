"""A replica of the scale-out set-up: what `app.state.service` is when KEEPCAB_REDIS_URL is set.

It offers the routers and the console exactly what `DispatcherService` does
(`submit`, `read`, `healthy`, `setup`, `start`, `stop`), but `submit` and
`read` go through the command stream to whichever replica leads, so a
replica's own engine (if it has one) is never read or written around the
leader. Every replica also takes part in the election (`Elector`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import Gauge
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from api.live.commands import LiveCommand
from api.live.watchdog import Stall
from api.live.writer import WriterSetup
from api.metrics import LiveMetrics
from api.settings import Settings
from dispatch.engine import Dispatcher

from .bus import RedisEventBus
from .channel import CommandClient, command_stream
from .fencing import make_leader_engine
from .leadership import Elector
from .lease import Lease

log = logging.getLogger(__name__)


class RedisUnreachable(RuntimeError):
    """KEEPCAB_REDIS_URL names a server that does not answer: start-up stops with this."""


def replica_name(settings: Settings) -> str:
    return settings.replica_id or f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(2)}"


def connect_redis(url: str) -> Redis:
    """Timeouts short enough that an outage is a quick 503, never a hang."""
    return Redis.from_url(
        url,
        decode_responses=True,
        socket_connect_timeout=2.0,
        socket_timeout=3.0,
        health_check_interval=5,
    )


class ClusterService:
    def __init__(
        self,
        settings: Settings,
        redis: Redis,
        session_factory: sessionmaker[Session],
        metrics: LiveMetrics,
        clock: Callable[[], float] = time.time,
    ) -> None:
        prefix = f"{settings.redis_prefix}:{settings.city}"
        self.replica, self.redis, self._metrics = replica_name(settings), redis, metrics
        self.setup = WriterSetup.from_settings(settings)
        self.bus = RedisEventBus(redis, prefix)
        self.client = CommandClient(redis, prefix, self.replica, session_factory, settings.command_timeout_s)
        self._leader_engine = make_leader_engine(settings.database_url)
        lease = Lease(redis, prefix, self.replica, settings.lease_ttl_s)
        self.elector = Elector(
            lease,
            self._leader_engine,
            settings.city,
            self.bus,
            self.setup,
            metrics,
            clock,
            command_stream(prefix),
        )
        self._task: asyncio.Task[None] | None = None
        self.running = False
        self._gauges()

    async def connect(self) -> None:
        """Check Redis and start reading; `RedisUnreachable` names the URL when it does not answer."""
        try:
            await self.redis.ping()
            await self.bus.start()
            await self.client.start()
        except (RedisError, OSError) as error:
            raise RedisUnreachable(
                f"KEEPCAB_REDIS_URL: Redis at {self.redis.connection_pool.connection_kwargs.get('host')}:"
                f"{self.redis.connection_pool.connection_kwargs.get('port')} is not reachable ({error}); "
                "start Redis, or unset KEEPCAB_REDIS_URL for the embedded one-process set-up"
            ) from error

    async def start(self) -> None:
        self.running = True
        self._task = asyncio.create_task(self.elector.run(), name="keepcab-elector")

    async def stop(self) -> None:
        self.running = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(Exception):
            await self.elector.step_down()
        await self.client.stop()
        self._leader_engine.dispose()

    @property
    def healthy(self) -> bool:
        return self.running and self.bus.connected and self.client.connected

    def stalled(self) -> Stall | None:
        """The leader's writer watchdog, on the replica that leads; followers hold no writer."""
        term = self.elector.term
        return None if term is None else term.service.stalled()

    async def submit(self, command: LiveCommand) -> Any:
        return await self.client.submit(command)

    async def read(self, query: Callable[[Dispatcher], Any]) -> Any:
        return await self.client.read(query)

    def status(self) -> dict[str, Any]:
        term = self.elector.term
        return {
            "replica": self.replica,
            "leading": term is not None,
            "term": None if term is None else term.number,
            "fenced_writes": self.fenced_writes,
            "pending_commands": 0 if term is None else term.consumer.pending,
            "stream_lag": 0 if term is None else term.consumer.lag,
            "redis": "ok" if self.healthy else "unreachable",
        }

    @property
    def fenced_writes(self) -> int:
        term = self.elector.term
        return self.elector.fenced_writes + (0 if term is None else term.fence.refused)

    def _gauges(self) -> None:
        term = lambda: self.elector.term  # noqa: E731
        figures: dict[str, tuple[str, Callable[[], float]]] = {
            "leader": ("1 while this replica leads", lambda: float(self.elector.leading)),
            "term": ("Term this replica leads (0: follower)", lambda: float(self.status()["term"] or 0)),
            "fenced_writes": ("Leader writes refused by the fencing check", lambda: self.fenced_writes),
            "pending_commands": ("Commands taken, unanswered", lambda: self.status()["pending_commands"]),
            "stream_lag": ("Commands not yet read by the leader", lambda: self.status()["stream_lag"]),
            "event_backlog": (
                "Committed events not yet on the stream",
                lambda: float(term().relay.backlog) if term() else 0.0,  # type: ignore[union-attr]
            ),
        }
        for name, (help_text, read) in figures.items():
            Gauge(f"keepcab_cluster_{name}", help_text, registry=self._metrics.registry).set_function(read)


async def open_cluster(
    settings: Settings,
    session_factory: sessionmaker[Session],
    metrics: LiveMetrics,
    clock: Callable[[], float],
) -> ClusterService:
    """A connected replica (not yet electing); raises `RedisUnreachable` with a clear message."""
    assert settings.redis_url is not None
    service = ClusterService(settings, connect_redis(settings.redis_url), session_factory, metrics, clock)
    await service.connect()
    return service
