"""The app as deployed: a real uvicorn process, killed with SIGKILL, loses no order that got a 201."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine

from api.app import ROUTERS, create_app
from api.models import Role
from tests.api.app_fixtures import issue_keys

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Server:
    """`uvicorn api.app:create_app --factory` on a free loopback port."""

    def __init__(self, database_url: str) -> None:
        self.port = free_port()
        env = {**os.environ, "KEEPCAB_DATABASE_URL": database_url, "KEEPCAB_TICK_INTERVAL_S": "0.2"}
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "api.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"server exited: {self.process.stderr.read().decode()[-2000:]}"
                )  # type: ignore[union-attr]
            try:
                if httpx.get(self.url + "/readyz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.kill()
        raise AssertionError("server never became ready")

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flushes, exactly a crash."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@pytest.fixture
def server_factory(database_url: str, engine: Engine) -> Iterator[Any]:
    started: list[Server] = []

    def start() -> Server:
        server = Server(database_url)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()


def test_orders_that_got_a_201_survive_a_kill_minus_9(server_factory: Any, engine: Engine) -> None:
    """Create orders, SIGKILL the server, start it again: every order is there, the queue is the same."""
    keys = issue_keys(engine)
    headers = {"X-API-Key": keys[Role.OPERATOR]}
    first = server_factory()
    with httpx.Client(base_url=first.url, headers=headers, timeout=10) as client:
        assert client.post("/drivers", json={"id": "d7"}).status_code == 201
        assert (
            client.post("/drivers/d7/online", json={"lat": 55.70, "lon": 37.60}).status_code == 200
        )
        created = []
        for i in range(12):
            body = {
                "pickup_lat": 55.70 + 0.01 * i,
                "pickup_lon": 37.60,
                "phone": f"+7912345{i:04d}" if i % 3 else None,
            }
            response = client.post("/orders", json=body, headers={"Idempotency-Key": f"crash-{i}"})
            assert response.status_code == 201, response.text
            created.append(response.json())
        queue_before = client.get("/queue").json()
        orders_before = {
            o["id"]: o["status"] for o in client.get("/orders", params={"limit": 500}).json()
        }
    first.kill()

    second = server_factory()
    with httpx.Client(base_url=second.url, headers=headers, timeout=10) as client:
        orders_after = {
            o["id"]: o["status"] for o in client.get("/orders", params={"limit": 500}).json()
        }
        queue_after = client.get("/queue").json()
        retry = client.post(
            "/orders",
            json={"pickup_lat": 55.70, "pickup_lon": 37.60},
            headers={"Idempotency-Key": "crash-0"},
        )
        driver = client.get("/drivers/d7").json()
    assert {o["id"] for o in created} <= set(orders_after)
    assert orders_after == orders_before
    assert [(q["order_id"], q["head_start_s"]) for q in queue_after] == [
        (q["order_id"], q["head_start_s"]) for q in queue_before
    ]
    assert len(queue_after) == 11 and sum(s == "assigned" for s in orders_after.values()) == 1
    assert retry.status_code == 200 and retry.json()["id"] == created[0]["id"]
    assert driver["status"] == "en_route" and driver["order_id"] == created[0]["id"]


def test_the_openapi_document_lists_every_route_with_examples() -> None:
    """The schema builds, and the order and phone bodies carry examples."""
    schema = create_app().openapi()
    paths = {route.path for router in ROUTERS for route in router.routes}  # type: ignore[attr-defined]
    assert paths <= set(schema["paths"])
    components = schema["components"]["schemas"]
    assert components["OrderRequest"]["examples"] and components["GenericCallBody"]["examples"]


def test_a_kill_during_a_burst_loses_no_order_that_was_answered_201(
    server_factory: Any, engine: Engine
) -> None:
    """SIGKILL in the middle of concurrent creates: every 201 is in the store after restart."""
    keys = issue_keys(engine)
    headers = {"X-API-Key": keys[Role.OPERATOR]}
    first = server_factory()
    answered: list[str] = []
    lock = threading.Lock()

    def create(i: int) -> None:
        body = {"pickup_lat": 55.60 + 0.001 * i, "pickup_lon": 37.60, "phone": f"+7912999{i:04d}"}
        try:
            response = httpx.post(first.url + "/orders", json=body, headers=headers, timeout=10)
        except httpx.TransportError:
            return
        if response.status_code == 201:
            with lock:
                answered.append(response.json()["id"])

    pool = ThreadPoolExecutor(max_workers=8)
    for i in range(400):
        pool.submit(create, i)
    while True:
        with lock:
            if len(answered) >= 40:
                break
        time.sleep(0.005)
    first.kill()
    pool.shutdown(wait=True, cancel_futures=True)
    second = server_factory()
    with httpx.Client(base_url=second.url, headers=headers, timeout=10) as client:
        stored = {o["id"] for o in client.get("/orders", params={"limit": 500}).json()}
    assert 40 <= len(answered) < 400  # the kill really landed mid-burst
    assert set(answered) <= stored
