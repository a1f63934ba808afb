"""The operator console: the `/ws/console` hub and the page served at `/`.

`mount_console(app, clock)` is the one hook in `api.app.create_app`: it adds
the routes and wraps the app's lifespan so the hub starts after the
dispatcher (it subscribes to the bus the lifespan creates) and stops before it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from api.cluster.login_throttle import RedisLoginThrottle, shared_throttle
from api.events import Event
from api.login_throttle import LoginThrottle, ThrottleRules
from api.outage_log import OutageLog
from api.settings import Settings

from .figures import ShiftFigures, load_figures, shift_start
from .hub import ConsoleHub
from .positions import watch_positions
from .routes import router as http_router
from .socket import router as socket_router
from .state import enrich_events, needs_store, plain_payloads

log = logging.getLogger(__name__)


def mount_console(app: FastAPI, clock: Callable[[], float]) -> None:
    app.include_router(http_router)
    app.include_router(socket_router)
    static = str(files("api.console").joinpath("static"))
    app.mount("/console/static", StaticFiles(directory=static), name="console-static")
    app.state.console_clock = clock
    app.state.login_throttle = login_throttle(app.state.settings)
    app.state.console_outages = OutageLog(log, "console connections (closed with 1013)")
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        async with inner(app) as state:
            hub = await start_hub(app, clock)
            # In scale-out the leader puts driver.moved on the shared bus (api.cluster.leadership).
            watcher = asyncio.create_task(
                watch_positions(app.state.service, hub, clock)
                if getattr(app.state, "cluster", None) is None
                else asyncio.Event().wait()
            )
            try:
                yield state
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
                await hub.stop()

    app.router.lifespan_context = lifespan


def login_throttle(settings: Settings) -> LoginThrottle | RedisLoginThrottle:
    """In the process for the embedded set-up; in Redis, shared by every replica, for scale-out."""
    rules = ThrottleRules.from_settings(settings)
    if settings.redis_url is None:
        return LoginThrottle(rules)
    return shared_throttle(settings.redis_url, f"{settings.redis_prefix}:{settings.city}", rules)


async def start_hub(app: FastAPI, clock: Callable[[], float]) -> ConsoleHub:
    factory, setup = app.state.session_factory, app.state.service.setup

    async def enrich(events: list[tuple[str, Event]]) -> list[dict[str, Any]]:
        if not needs_store(events):
            return plain_payloads(setup, events)
        return await run_in_threadpool(enrich_events, factory, setup, events)

    def figures() -> ShiftFigures:
        """The shift so far; empty if the store cannot be read now (the app starts not ready)."""
        try:
            with factory() as session:
                return load_figures(session, clock())
        except SQLAlchemyError as error:
            log.warning("shift figures start empty: the store is unreachable (%s)", error)
            return ShiftFigures(shift_start(clock()))

    hub = ConsoleHub(app.state.bus, enrich, await run_in_threadpool(figures))
    hub.start()
    app.state.console_hub = hub
    return hub


__all__ = ["ConsoleHub", "mount_console"]
