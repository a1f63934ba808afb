"""Redis for the scale-out tests: the shared server under a key prefix of this test, or a private one.

Tests that only read and write use the machine's Redis (KEEPCAB_TEST_REDIS_URL)
under a prefix unique to the test, deleted afterwards. Tests that stop Redis
start their own `redis-server` on a free port (append-only file, fsync on
every write, like the compose file's), never touching the shared one.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.db import upgrade_database
from tests.api.conftest import fresh_postgres_schema
from tests.conftest import require_service

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def redis_url() -> str:
    return os.environ.get("KEEPCAB_TEST_REDIS_URL", DEFAULT_REDIS_URL)


@pytest.fixture
def prefix() -> str:
    return f"keepcab-test-{uuid.uuid4().hex[:10]}"


async def open_redis() -> Redis:
    """A client of the shared test Redis; skips (fails in CI) when it does not answer."""
    client = Redis.from_url(redis_url(), decode_responses=True)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        require_service("Redis", error)
    return client


async def forget_prefix(client: Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(f"{prefix}*")]
    if keys:
        await client.delete(*keys)


@pytest.fixture
async def redis(prefix: str) -> AsyncIterator[Redis]:
    client = await open_redis()
    yield client
    await forget_prefix(client, prefix)
    await client.aclose()


@dataclass
class PrivateRedis:
    """A `redis-server` of this test alone, stopped and started by the test."""

    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
            "--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not listen on {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        require_service("redis-server", FileNotFoundError("redis-server is not installed"))
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A migrated PostgreSQL schema of this test alone (scale-out runs on PostgreSQL only)."""
    with fresh_postgres_schema("keepcab_cluster") as url:
        upgrade_database(url)
        yield url


@pytest.fixture
async def cluster(tmp_path: Path, pg_url: str, prefix: str) -> AsyncIterator[Any]:
    """Replicas as processes (`tests.api.cluster.replicas`) on the shared Redis, under this test's prefix."""
    from .replicas import Cluster

    probe = await open_redis()
    cluster = Cluster(tmp_path, pg_url, redis_url(), prefix)
    yield cluster
    await cluster.close()
    await forget_prefix(probe, prefix)
    await probe.aclose()
