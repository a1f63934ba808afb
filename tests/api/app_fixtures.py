"""Fixtures for tests of the live app, on SQLite and PostgreSQL (via tests/api/conftest.py).

`live` starts a real app (lifespan, dispatcher service, tick task) on the
parametrised test database with a clock the test moves by hand, and an
`httpx.AsyncClient` talking to it in-process. `keys` holds one API key per
role; the driver key speaks for driver `d1`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlmodel import Session

from api.app import create_app
from api.auth import create_api_key
from api.db import make_session_factory
from api.events import InProcessEventBus
from api.models import Driver, Role
from api.settings import Settings

START_S = 1_790_000_000.0  # 2026-09-21, a fixed "now" so tests never depend on the wall clock
CENTRE = (55.7558, 37.6173)


class FakeClock:
    """The app's clock; tests move it with `advance`."""

    def __init__(self, now_s: float = START_S) -> None:
        self.now_s = now_s

    def __call__(self) -> float:
        return self.now_s

    def advance(self, seconds: float) -> None:
        self.now_s += seconds


@dataclass
class Live:
    app: FastAPI
    client: httpx.AsyncClient
    clock: FakeClock
    bus: InProcessEventBus
    keys: dict[Role, str]
    engine: Engine
    settings: Settings
    extra: dict[str, Any] = field(default_factory=dict)

    def auth(self, role: Role) -> dict[str, str]:
        return {"X-API-Key": self.keys[role]}

    def session(self) -> Session:
        return make_session_factory(self.engine)()

    async def post(self, path: str, role: Role = Role.OPERATOR, **kwargs: Any) -> httpx.Response:
        headers = {**self.auth(role), **kwargs.pop("headers", {})}
        return await self.client.post(path, headers=headers, **kwargs)

    async def get(self, path: str, role: Role = Role.OPERATOR, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.auth(role), **kwargs)

    async def order(
        self, lat: float = CENTRE[0], lon: float = CENTRE[1], **body: Any
    ) -> dict[str, Any]:
        """Create an order (201 expected) and return its JSON."""
        response = await self.post("/orders", json={"pickup_lat": lat, "pickup_lon": lon, **body})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data

    async def driver(
        self, driver_id: str, lat: float = CENTRE[0], lon: float = CENTRE[1]
    ) -> dict[str, Any]:
        """Register a driver and bring them online; returns the driver state."""
        created = await self.post("/drivers", json={"id": driver_id})
        assert created.status_code in (201, 409), created.text
        response = await self.post(f"/drivers/{driver_id}/online", json={"lat": lat, "lon": lon})
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        return data


def issue_keys(engine: Engine) -> dict[Role, str]:
    with make_session_factory(engine)() as session:
        session.add(Driver(id="d1"))
        session.flush()
        keys = {
            role: create_api_key(
                session, role, name=role.value, driver_id="d1" if role is Role.DRIVER else None
            ).plaintext
            for role in Role
        }
        session.commit()
    return keys


def live_settings(database_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": database_url,
        "tick_interval_s": 0.02,
        "phone_region": "RU",
        "policy": "retention",
    }
    values.update(overrides)
    return Settings(**values)


async def start_live(
    database_url: str,
    engine: Engine,
    keys: dict[Role, str] | None = None,
    clock: FakeClock | None = None,
    **overrides: Any,
) -> tuple[Live, Any]:
    """A started app (its lifespan entered); `keys` reuses keys of an earlier start."""
    clock = clock or FakeClock()
    bus = InProcessEventBus()
    settings = live_settings(database_url, **overrides)
    app = create_app(settings, clock=clock, bus=bus)
    lifespan = app.router.lifespan_context(app)
    await lifespan.__aenter__()
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://keepcab.test"
    )
    keys = keys or issue_keys(engine)
    return Live(app, client, clock, bus, keys, engine, settings), lifespan


async def stop_live(running: Live, lifespan: Any) -> None:
    await running.client.aclose()
    await lifespan.__aexit__(None, None, None)


@pytest.fixture
async def live(database_url: str, engine: Engine) -> AsyncIterator[Live]:
    running, lifespan = await start_live(database_url, engine)
    try:
        yield running
    finally:
        await stop_live(running, lifespan)
