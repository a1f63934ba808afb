"""Real console servers (see tests/api/console/server.py): on SQLite, or on both stores."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

from tests.api.conftest import fresh_postgres_schema
from tests.api.console.server import Server, serve
from tests.conftest import require_service


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async for running in serve(f"sqlite:///{tmp_path / 'keepcab.db'}"):
        yield running


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store: a SQLite file, or a scratch schema in the PostgreSQL test database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'keepcab.db'}"
        return
    with fresh_postgres_schema("keepcab_console") as url:
        yield url


@pytest.fixture
async def stored_server(store_url: str) -> AsyncIterator[Server]:
    async for running in serve(store_url):
        yield running


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--headless",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        require_service("chromium", FileNotFoundError("chromium is not on PATH (apt-get install chromium)"))
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()
