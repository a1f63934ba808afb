"""Console servers for the address tests (tests/api/console/server.py), on SQLite and PostgreSQL."""

from tests.api.console.conftest import browser, server, store_url, stored_server

__all__ = ["browser", "server", "store_url", "stored_server"]
