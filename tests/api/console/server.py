"""A real keepcab server on loopback for console tests: uvicorn serving `create_app` in the test's loop.

SQLite in the test's folder by default; the tests that read the store
through the console's own queries (snapshot, figures, ringing cards) also run
on PostgreSQL in a scratch schema. Keys: an operator login, a phone
key and an analyst key (a role that may not use the console).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect

from api.app import create_app
from api.auth import create_api_key, create_operator
from api.console.hub import ConsoleHub
from api.db import make_engine, make_session_factory, upgrade_database
from api.models import Role
from api.settings import Settings

OPERATOR, PASSWORD = "olga", "correct horse"
CENTRE = (50.03, 19.95)


@dataclass
class Server:
    app: FastAPI
    base_url: str
    ws_url: str
    client: httpx.AsyncClient
    operator_key: str
    phone_key: str
    analyst_key: str

    @property
    def hub(self) -> ConsoleHub:
        hub: ConsoleHub = self.app.state.console_hub
        return hub

    async def settled(self, timeout_s: float = 10.0) -> int:
        """Wait until the hub has numbered everything the bus published; the hub's last seq.

        The HTTP reply can come back before the hub's own task has taken the
        events off the bus, so reading `hub.seq` right after a request races.
        """
        bus = self.app.state.bus
        for _ in range(int(timeout_s / 0.01)):
            if self.hub.taken >= bus.published:
                break
            await asyncio.sleep(0.01)
        return self.hub.seq

    async def post(
        self, path: str, body: dict[str, Any] | None = None, key: str | None = None
    ) -> httpx.Response:
        return await self.client.post(path, json=body, headers={"X-API-Key": key or self.operator_key})

    async def order(self, lat: float = CENTRE[0], lon: float = CENTRE[1], **body: Any) -> str:
        response = await self.post("/orders", {"pickup_lat": lat, "pickup_lon": lon, **body})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def driver_online(self, driver_id: str, lat: float = CENTRE[0], lon: float = CENTRE[1]) -> None:
        await self.post("/drivers", {"id": driver_id})
        response = await self.post(f"/drivers/{driver_id}/online", {"lat": lat, "lon": lon})
        assert response.status_code == 200, response.text

    async def erase(self, customer_id: str) -> None:
        """DELETE personal-data as a data-protection officer would: with an admin key of their own."""
        with self.app.state.session_factory() as session:
            admin = create_api_key(session, Role.ADMIN, name="dpo").plaintext
            session.commit()
        erased = await self.client.delete(
            f"/customers/{customer_id}/personal-data", headers={"X-API-Key": admin}
        )
        assert erased.status_code == 200, erased.text

    async def console(
        self, last_seq: int | None = None, key: str | None = None, stream: str | None = "", **options: Any
    ) -> ClientConnection:
        """A console saying hello; `stream` defaults to this server's (a client that saw its welcome)."""
        socket_ = await connect(self.ws_url, **options)
        hello = {
            "type": "hello",
            "key": key or self.operator_key,
            "last_seq": last_seq,
            "stream": self.hub.stream if stream == "" else stream,
        }
        await socket_.send(json.dumps(hello))
        return socket_


async def next_message(
    socket_: ClientConnection, *, skip_heartbeats: bool = True, timeout_s: float = 10.0
) -> dict[str, Any]:
    """The next message (frames may carry several); every event is acked at once, as a console would."""
    pending: deque[dict[str, Any]] = _pending.setdefault(id(socket_), deque())
    while True:
        if not pending:
            parsed = json.loads(await asyncio.wait_for(socket_.recv(), timeout_s))
            pending.extend(parsed if isinstance(parsed, list) else [parsed])
        message: dict[str, Any] = pending.popleft()
        if message["type"] == "event":
            await socket_.send(json.dumps({"type": "ack", "seq": message["seq"]}))
        if not (skip_heartbeats and message["type"] == "heartbeat"):
            return message


_pending: dict[int, deque[dict[str, Any]]] = {}  # messages of a frame not yet handed out, per socket


async def event_of_kind(socket_: ClientConnection, kind: str) -> dict[str, Any]:
    """Read until an event of `kind` arrives (the hub may number it after the HTTP reply)."""
    while True:
        message = await next_message(socket_)
        if message["type"] == "event" and message["kind"] == kind:
            return message


async def events_until(socket_: ClientConnection, seq: int) -> list[dict[str, Any]]:
    """Every event up to and including `seq`."""
    events: list[dict[str, Any]] = []
    while not events or events[-1]["seq"] < seq:
        message = await next_message(socket_)
        if message["type"] == "event":
            events.append(message)
    return events


def _prepare(url: str) -> tuple[str, str, str]:
    upgrade_database(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        create_operator(session, OPERATOR, PASSWORD)
        phone = create_api_key(session, Role.PHONE, name="pbx").plaintext
        analyst = create_api_key(session, Role.ANALYST, name="analyst").plaintext
        session.commit()
    engine.dispose()
    return phone, analyst, url


async def serve_app(app: FastAPI) -> AsyncIterator[int]:
    """Run `app` under uvicorn on a free loopback port (yielded) until the caller is done."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", ws_ping_interval=None))
    task = asyncio.create_task(server.serve(sockets=[listener]))
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


async def serve(url: str, **overrides: Any) -> AsyncIterator[Server]:
    """A started server on the store at `url` (migrated here), with keys and an operator login."""
    phone, analyst, _ = _prepare(url)
    app = create_app(Settings(database_url=url, tick_interval_s=0.05, **overrides))
    async for port in serve_app(app):
        base_url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
            login = await client.post("/console/login", json={"username": OPERATOR, "password": PASSWORD})
            assert login.status_code == 200, login.text
            ws_url = f"ws://127.0.0.1:{port}/ws/console"
            yield Server(app, base_url, ws_url, client, login.json()["key"], phone, analyst)
