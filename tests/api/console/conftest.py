"""A real console server per test (see tests/api/console/server.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.api.console.server import Server, serve


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[Server]:
    async for running in serve(tmp_path):
        yield running
