"""Addresses: the firm's address book in memory, suggestions, geocoding, the map's settings.

`mount_places(app)` is its one hook in `api.app.create_app`: the routes, and a
lifespan wrap that loads the book once the store is open and follows the bus
(api.places.index), and builds the geocoder from the settings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from .geocode import build_geocoder
from .index import AddressIndex
from .routes import router

log = logging.getLogger(__name__)


def mount_places(app: FastAPI) -> None:
    app.include_router(router)
    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[Any]:
        async with inner(app) as state:
            settings = app.state.settings
            index = app.state.address_index = AddressIndex(app.state.session_factory)
            app.state.geocoder = build_geocoder(
                settings.geocoder,
                settings.geocoder_url,
                settings.geocoder_timeout_s,
                index,
                settings.geocoder_language,
            )
            try:
                await run_in_threadpool(index.load)
            except Exception as error:  # the store may be down at start: the task retries
                log.warning("the address book starts empty (%s)", type(error).__name__)
            else:
                index.mark_loaded()
            task = index.follow(app.state.bus, settings.address_book_resync_s)
            try:
                yield state
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    app.router.lifespan_context = lifespan


__all__ = ["mount_places"]
