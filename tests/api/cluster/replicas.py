"""Replicas as real processes on loopback: the compose file's topology without containers.

Each replica is `uvicorn api.app:create_app --factory` with KEEPCAB_REDIS_URL
set, on a free port, sharing one PostgreSQL schema and one Redis key prefix.
Tests kill, pause and resume them with real signals and wait for conditions
(a replica ready, the lease on another holder), never for fixed times.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis
from sqlalchemy import text
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from api.auth import create_api_key
from api.db import make_engine, make_session_factory
from api.models import Role

from .conftest import free_port


@dataclass
class Replica:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def signal(self, number: int) -> None:
        os.kill(self.process.pid, number)


@dataclass
class Cluster:
    directory: Path
    database_url: str
    redis_url: str
    prefix: str
    extra_env: dict[str, str] = field(default_factory=dict)
    replicas: dict[str, Replica] = field(default_factory=dict)
    key: str = ""

    def __post_init__(self) -> None:
        engine = make_engine(self.database_url)
        with make_session_factory(engine)() as session:
            self.key = create_api_key(session, Role.ADMIN, name="cluster-test").plaintext
            session.commit()
        engine.dispose()
        self.redis = Redis.from_url(self.redis_url, decode_responses=True)

    def env(self, name: str, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "KEEPCAB_DATABASE_URL": self.database_url,
            "KEEPCAB_REDIS_URL": self.redis_url,
            "KEEPCAB_REDIS_PREFIX": self.prefix,
            "KEEPCAB_REPLICA_ID": name,
            **self.extra_env,
            **extra,
        }

    def start(self, name: str, **extra: str) -> Replica:
        port, log = free_port(), self.directory / f"{name}.log"
        command = [
            sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
        ]  # fmt: skip
        with log.open("wb") as out:
            process = subprocess.Popen(command, env=self.env(name, **extra), stdout=out, stderr=out)
        replica = self.replicas[name] = Replica(name, port, process, log)
        return replica

    async def ready(self, *names: str, timeout_s: float = 60.0) -> None:
        async with asyncio.timeout(timeout_s), httpx.AsyncClient(timeout=2.0) as client:
            for name in names:
                replica = self.replicas[name]
                while True:
                    assert replica.alive, replica.log.read_text()
                    try:
                        if (await client.get(replica.url + "/readyz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.05)

    async def leader(self) -> str | None:
        token = await self.redis.get(f"{self.prefix}:default:leader")
        return None if token is None else str(token).rsplit(":", 1)[0]

    async def wait_for(self, condition: Callable[[], Awaitable[bool]], timeout_s: float = 30.0) -> None:
        async with asyncio.timeout(timeout_s):
            while not await condition():
                await asyncio.sleep(0.05)

    async def wait_leader(self, among: set[str], timeout_s: float = 30.0) -> str:
        async def led() -> bool:
            return await self.leader() in among and await self.term_in_db() > 0

        await self.wait_for(led, timeout_s)
        leader = await self.leader()
        assert leader is not None
        return leader

    async def term_in_db(self) -> int:
        return int(self.scalar("SELECT coalesce(max(term), 0) FROM cluster_terms"))

    def scalar(self, sql: str) -> Any:
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return connection.execute(text(sql)).scalar()
        finally:
            engine.dispose()

    def rows(self, sql: str) -> list[Any]:
        engine = make_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return list(connection.execute(text(sql)).all())
        finally:
            engine.dispose()

    async def metric(self, name: str, metric: str) -> float:
        async with httpx.AsyncClient(timeout=2.0) as client:
            body = (await client.get(self.replicas[name].url + "/metrics")).text
        for line in body.splitlines():
            if line.startswith(metric + " "):
                return float(line.split()[1])
        raise AssertionError(f"{metric} not in /metrics of {name}")

    async def close(self) -> None:
        for replica in self.replicas.values():
            if replica.alive:
                replica.signal(signal.SIGCONT)
                replica.process.terminate()
        for replica in self.replicas.values():
            try:
                replica.process.wait(10)
            except subprocess.TimeoutExpired:
                replica.process.kill()
                replica.process.wait(10)
        await self.redis.aclose()


@dataclass
class Console:
    """One operator console that reconnects (with its last seq and stream) wherever it is told to.

    `timeline` is what it got, in order: ("snapshot", seq) or ("event", seq).
    """

    key: str
    timeline: list[tuple[str, int]] = field(default_factory=list)
    stream: str | None = None
    connections: int = 0
    delays_s: list[float] = field(default_factory=list)  # decision (`at`) to this console

    @property
    def last_seq(self) -> int | None:
        return self.timeline[-1][1] if self.timeline else None

    async def follow(self, urls: Callable[[], list[str]], stop: asyncio.Event, turn: int = 0) -> None:
        """Read events until `stop`; on a closed socket reconnect to the next live replica."""
        while not stop.is_set():
            choices = urls()
            url = choices[turn % len(choices)].replace("http://", "ws://") + "/ws/console"
            turn += 1
            try:
                async with connect(url, open_timeout=3) as socket_:
                    self.connections += 1
                    hello = {
                        "type": "hello",
                        "key": self.key,
                        "last_seq": self.last_seq,
                        "stream": self.stream,
                    }
                    await socket_.send(json.dumps(hello))
                    await self._read(socket_, stop)
            except (OSError, TimeoutError, ConnectionClosed):
                await asyncio.sleep(0.05)

    async def _read(self, socket_: Any, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(socket_.recv(), 0.5)
            except TimeoutError:
                continue
            now, parsed = time.time(), json.loads(raw)
            for message in parsed if isinstance(parsed, list) else [parsed]:
                if message["type"] == "welcome":
                    self.stream = message["stream"]
                elif message["type"] == "snapshot":
                    self.timeline.append(("snapshot", int(message["seq"])))
                elif message["type"] == "event":
                    self.timeline.append(("event", int(message["seq"])))
                    if message["kind"] != "driver.moved":  # numbered on a timer, not at a decision
                        self.delays_s.append(now - float(message["at"]))
                    await socket_.send(json.dumps({"type": "ack", "seq": message["seq"]}))

    def check(self, console_ids: list[int]) -> tuple[int, int]:
        """(missed, duplicated) events against the ids the stream holds for consoles.

        A snapshot covers what happened up to its seq; a console drops an
        event with a seq it has already applied, as the page does.
        """
        applied: list[int] = []
        covered: list[tuple[int, int]] = []
        last = -1
        for kind, seq in self.timeline:
            if kind == "snapshot":
                covered.append((last, seq))
                last = max(last, seq)
            elif seq > last:
                applied.append(seq)
                last = seq
        raw = [seq for kind, seq in self.timeline if kind == "event"]
        if not covered or not applied:
            return 0, len(raw) - len(set(raw))
        start, end = covered[0][1], applied[-1]
        expected = {
            i for i in console_ids if start < i <= end and not any(lo < i <= hi for lo, hi in covered)
        }
        return len(expected - set(applied)), len(raw) - len(set(raw))
