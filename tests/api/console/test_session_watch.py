"""Open console sockets end with their key, and a lost store is a 1013 logged once (real servers)."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from typer.testing import CliRunner
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from api.admin_cli import keys_app, operators_app
from api.app import create_app
from api.settings import Settings
from tests.api.console.server import OPERATOR, Server, next_message, serve, serve_app

FAST_RECHECK = {"console_key_recheck_s": 0.2}


async def _closed_code(client: object, timeout_s: float = 15.0) -> int | None:
    """Read (and ack) until the server closes the socket; its close code (-1: still open)."""
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                await next_message(client)  # type: ignore[arg-type]
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
    except TimeoutError:
        return -1


def keepcab(url: str, group: str, *args: str) -> None:
    """Run a `keepcab keys|operators` command as an admin would (its own engine, its own commit)."""
    app = {"keys": keys_app, "operators": operators_app}[group]
    result = CliRunner().invoke(app, [*args, "--database-url", url])
    assert result.exit_code == 0, result.output


@pytest.fixture
async def fast(tmp_path: Path) -> AsyncIterator[Server]:
    """A server whose console sockets re-check their key five times a second."""
    async for running in serve(f"sqlite:///{tmp_path / 'keepcab.db'}", **FAST_RECHECK):
        yield running


async def _open_console(server: Server) -> object:
    client = await server.console()
    assert (await next_message(client))["type"] == "welcome"
    assert (await next_message(client))["type"] == "snapshot"
    return client


async def test_disabling_the_operator_closes_their_open_socket_with_4401(fast: Server) -> None:
    """`keepcab operators disable` ends the operator's already-open console."""
    client = await _open_console(fast)
    url = str(fast.app.state.settings.database_url)
    await asyncio.to_thread(keepcab, url, "operators", "disable", OPERATOR)
    assert await _closed_code(client) == 4401
    assert fast.hub.client_count == 0


async def test_revoking_the_key_closes_the_socket_with_4401(fast: Server) -> None:
    """`keepcab keys revoke ID` on the session key the console said hello with closes it."""
    client = await _open_console(fast)
    key_id = fast.operator_key.split("_")[1]
    await asyncio.to_thread(keepcab, str(fast.app.state.settings.database_url), "keys", "revoke", key_id)
    assert await _closed_code(client) == 4401


async def test_an_expiring_session_closes_the_socket_at_its_expiry(tmp_path: Path) -> None:
    """A login key that runs out closes the socket at its expiry, without waiting for a re-check."""
    url = f"sqlite:///{tmp_path / 'keepcab.db'}"
    async for server in serve(url, operator_session_ttl_s=1.5, console_key_recheck_s=10.0):
        client = await _open_console(server)
        assert await _closed_code(client) == 4401


async def test_a_live_key_keeps_its_socket_across_re_checks(fast: Server) -> None:
    """Re-checking a good key changes nothing: heartbeats keep coming after many checks."""
    client = await _open_console(fast)
    await asyncio.sleep(1.0)  # five re-checks
    assert (await next_message(client, skip_heartbeats=False))["type"] in {"heartbeat", "figures"}
    assert fast.hub.client_count == 1


def _unreachable_postgres_url() -> str:
    """A PostgreSQL URL on a loopback port nobody listens on."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return f"postgresql+psycopg://keepcab@127.0.0.1:{port}/keepcab?connect_timeout=2"


async def _serve_without_store() -> AsyncIterator[str]:
    settings = Settings(database_url=_unreachable_postgres_url(), tick_interval_s=0.05)
    app = create_app(settings, migrate=False)  # `keepcab serve --no-migrate`
    async for port in serve_app(app):
        yield f"ws://127.0.0.1:{port}/ws/console"


async def test_an_unreachable_store_closes_consoles_with_1013_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Started with --no-migrate and no database: every hello gets 1013; five refused consoles
    and a second of 20 ticks a second make one warning each (console, dispatcher), no traceback."""
    caplog.set_level(logging.WARNING)
    async for ws_url in _serve_without_store():
        codes = []
        for _ in range(5):
            async with connect(ws_url) as client:
                await client.send(json.dumps({"type": "hello", "key": "kc_0123456789abcdef_x"}))
                codes.append(await _closed_code(client))
            await asyncio.sleep(0.2)
    assert codes == [1013] * 5
    lines = [(r.name, r.getMessage()) for r in caplog.records if r.levelno >= logging.WARNING]
    console = [m for name, m in lines if name.startswith("api.console") and "1013" in m]
    writer = [m for name, m in lines if name == "api.live.service"]
    assert len(console) == 1 and "unreachable" in console[0], lines
    assert len(writer) == 1 and "unreachable" in writer[0], lines
    assert all(r.exc_info is None for r in caplog.records), "no traceback for a known outage"
