"""The FastAPI application: `create_app()` wires settings, store, dispatcher and routers.

Nothing connects at import. The lifespan opens the engine and session factory,
starts the dispatcher service (which first rebuilds itself from the store) and
closes everything on shutdown. Run it with
`uvicorn api.app:create_app --factory`; the schema must be at head
(`keepcab db upgrade`), or pass `migrate=True` for the embedded set-up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.api_docs import mount_api_docs
from api.caller_index import CallerIndex
from api.cluster import ClusterService, open_cluster
from api.console import mount_console
from api.console import routes as console_routes
from api.db import make_engine, make_session_factory, upgrade_database
from api.deps import KeyCache
from api.events import EventBus, InProcessEventBus
from api.http_errors import BodyLimitMiddleware, install_error_handlers
from api.live.call_log import CallLogWriter
from api.live.service import DispatcherService
from api.live.writer import WriterSetup
from api.metrics import LiveMetrics
from api.openapi import declare_error_responses
from api.places import mount_places
from api.places import routes as places_routes
from api.routers import customer_care, customers, drivers, fares, health, orders, phone, prebookings, queue
from api.settings import Settings

ROUTERS = (
    orders.router,
    fares.router,
    prebookings.router,
    queue.router,
    drivers.router,
    customers.router,
    customer_care.router,
    phone.router,
    health.router,
)

DESCRIPTION = """\
The live keepcab server: orders in, cars out, every decision recorded, callers
recognised by number. Authenticate with an API key in the `X-API-Key` header
(`keepcab keys create --role ...`).
"""


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], float] = time.time,
    bus: EventBus | None = None,
    migrate: bool = False,
) -> FastAPI:
    """A new application; each one owns its engine, dispatcher, bus and metrics."""
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if migrate:
            upgrade_database(settings.database_url)
        engine = make_engine(settings.database_url, echo=settings.database_echo)
        session_factory = make_session_factory(engine)
        metrics = LiveMetrics()
        service: DispatcherService | ClusterService
        if settings.redis_url is not None:  # scale-out: the leader may be another replica
            service = app.state.cluster = await open_cluster(settings, session_factory, metrics, clock)
            event_bus: EventBus = service.bus
        else:
            event_bus = bus or InProcessEventBus()
            service = DispatcherService(
                session_factory, WriterSetup.from_settings(settings), event_bus, metrics, clock
            )
        app.state.engine, app.state.session_factory = engine, session_factory
        app.state.metrics, app.state.bus, app.state.service = metrics, event_bus, service
        app.state.key_cache = KeyCache()
        app.state.call_log = call_log = CallLogWriter(session_factory)
        app.state.caller_index = callers = CallerIndex(session_factory)
        await service.start()
        call_log.start()
        if isinstance(service, DispatcherService):  # the writer tells the index before it answers
            service.committed.append(callers.note)
            feeding = []
        else:  # scale-out: the writer may be another replica; its events come over the bus
            feeding = [callers.follow(event_bus)]
        following = await callers.start(settings.caller_index_resync_s)
        try:
            yield
        finally:
            for task in [following, *feeding]:
                task.cancel()
            await asyncio.gather(following, *feeding, return_exceptions=True)
            await call_log.stop()
            await service.stop()
            await event_bus.close()
            engine.dispose()

    app = FastAPI(
        title="keepcab",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served from the package by mount_api_docs, not from a CDN
        redoc_url=None,
    )
    app.state.settings, app.state.clock = settings, clock
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    mount_places(app)  # address book, suggestions, geocoder, map settings (api.places)
    mount_console(app, clock)  # the operator console: `/`, `/ws/console` (api.console)
    declare_error_responses(app, (*ROUTERS, console_routes.router, places_routes.router))
    mount_api_docs(app)
    return app
