"""Console fan-out: latency from a dispatcher decision to websocket consoles, through a real server.

Starts `uvicorn api.app:create_app --factory` on a fresh SQLite file, connects
`--clients` consoles to `/ws/console` (operator key, acks like the page), and
posts orders at `--rate / 2` per second for `--seconds`: each order is two
decisions (`order.created`, `order.queued`), so the consoles get `--rate`
events per second. Latency per delivered event = the client's wall clock at
receipt minus the event's `at` (the dispatcher's clock when it decided; same
machine, same clock), so it includes the commit, the bus, the hub's
enrichment, the per-client queues and loopback.

Baseline in the same run: the same load with a single console, so the ratio
shows what fanning out to many consoles costs. The last line printed is one
JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.auth import create_api_key  # noqa: E402
from api.db import make_engine, make_session_factory, upgrade_database  # noqa: E402
from api.models import Role  # noqa: E402
from bench.api import free_port, percentile_ms  # noqa: E402


def prepare(url: str) -> str:
    upgrade_database(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        key = create_api_key(session, Role.OPERATOR, name="bench").plaintext
        session.commit()
    engine.dispose()
    return key


def start_server(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "KEEPCAB_DATABASE_URL": url, "KEEPCAB_REDIS_URL": ""}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:create_app",
        "--factory",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    return subprocess.Popen(command, env=env, cwd=ROOT)


async def wait_ready(base_url: str) -> None:
    async with httpx.AsyncClient(base_url=base_url) as client:
        for _ in range(300):
            try:
                if (await client.get("/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("server not ready")


class Console:
    """One console: records the latency of every event it gets, acks like the page does."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket, self.latencies_s = socket, []
        self.last_seq = self.acked = 0
        self.ready = asyncio.Event()

    async def run(self, key: str) -> None:
        await self.socket.send(json.dumps({"type": "hello", "key": key, "last_seq": None}))
        async for raw in self.socket:
            received = time.time()
            parsed = json.loads(raw)
            for message in parsed if isinstance(parsed, list) else [parsed]:
                await self._take(message, received)

    async def _take(self, message: dict[str, Any], received: float) -> None:
        kind = message["type"]
        if kind == "snapshot":
            self.ready.set()
        elif kind == "event":
            self.last_seq = message["seq"]
            if message["kind"].startswith("order."):
                self.latencies_s.append(received - message["at"])
            if self.last_seq - self.acked >= 100:
                await self._ack()
        elif kind == "heartbeat" and self.last_seq:
            await self._ack()

    async def _ack(self) -> None:
        self.acked = self.last_seq
        await self.socket.send(json.dumps({"type": "ack", "seq": self.last_seq}))


async def post_orders(base_url: str, key: str, orders_per_s: float, seconds: float) -> int:
    """Post orders on a fixed schedule from a few keep-alive connections; how many were accepted."""
    workers = 4
    accepted = 0

    async def worker(index: int, client: httpx.AsyncClient) -> None:
        nonlocal accepted
        gap_s = workers / orders_per_s
        start = time.perf_counter() + index * gap_s / workers
        for n in range(int(seconds * orders_per_s / workers)):
            await asyncio.sleep(max(0.0, start + n * gap_s - time.perf_counter()))
            body = {"pickup_lat": 55.70 + (n % 97) * 0.001, "pickup_lon": 37.50 + index * 0.01}
            response = await client.post("/orders", json=body, headers={"X-API-Key": key})
            accepted += response.status_code == 201

    async with httpx.AsyncClient(base_url=base_url, timeout=30.0) as client:
        await asyncio.gather(*(worker(i, client) for i in range(workers)))
    return accepted


async def phase(
    base_url: str, ws_url: str, key: str, clients: int, rate: float, seconds: float
) -> dict[str, Any]:
    sockets = [await connect(ws_url, max_size=None) for _ in range(clients)]
    consoles = [Console(socket) for socket in sockets]
    tasks = [asyncio.create_task(console.run(key)) for console in consoles]
    await asyncio.gather(*(console.ready.wait() for console in consoles))
    accepted = await post_orders(base_url, key, rate / 2, seconds)
    await asyncio.sleep(1.0)  # the tail of the fan-out
    for socket in sockets:
        await socket.close()
    await asyncio.gather(*tasks, return_exceptions=True)
    samples = [latency for console in consoles for latency in console.latencies_s]
    expected = 2 * accepted * clients
    return {
        "clients": clients,
        "events_per_s": rate,
        "orders_accepted": accepted,
        "deliveries": len(samples),
        "deliveries_expected": expected,
        "p50_ms": round(percentile_ms(samples, 0.50), 2),
        "p99_ms": round(percentile_ms(samples, 0.99), 2),
        "max_ms": round(percentile_ms(samples, 1.0), 2),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--rate", type=float, default=200.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="keepcab-bench-console-"))
    url = f"sqlite:///{folder / 'keepcab.db'}"
    key = prepare(url)
    port = free_port()
    server = start_server(url, port)
    base_url, ws_url = f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws/console"
    try:
        await wait_ready(base_url)
        baseline = await phase(base_url, ws_url, key, 1, args.rate, args.seconds)
        print("baseline, 1 console:", json.dumps(baseline))
        fanout = await phase(base_url, ws_url, key, args.clients, args.rate, args.seconds)
        print(f"fan-out, {args.clients} consoles:", json.dumps(fanout))
    finally:
        server.terminate()
        server.wait(10)
    result = {
        "bench": "console_fanout",
        "clients": args.clients,
        "events_per_s": args.rate,
        "p50_ms": fanout["p50_ms"],
        "p99_ms": fanout["p99_ms"],
        "max_ms": fanout["max_ms"],
        "delivered_share": round(fanout["deliveries"] / max(1, fanout["deliveries_expected"]), 4),
        "baseline_1_client_p50_ms": baseline["p50_ms"],
        "baseline_1_client_p99_ms": baseline["p99_ms"],
        "p99_ratio_vs_1_client": round(fanout["p99_ms"] / max(baseline["p99_ms"], 1e-9), 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.run(main())
