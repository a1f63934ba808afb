"""The live server through a real uvicorn process on loopback: order intake and phone lookups.

Starts `uvicorn api.app:create_app --factory` on a fresh SQLite file (or
`--database-url`, e.g. the PostgreSQL test database in a scratch schema you
made), then measures:

* order intake: `--orders` POST /orders from `--concurrency` keep-alive
  clients, each a distinct caller with an address, so every request scores a
  caller, writes customer, phone, address, order and two events, and commits
  (the writer batches concurrent requests into one transaction);
* phone ringing lookup: `call.ringing` for known callers (customer, last
  three addresses, active order, score; the call-log row is written behind
  the reply), as 1, 8 and 32 calls ringing at once: each round fires one ring
  per channel at the same instant and waits for all, then the room is quiet
  for `--ring-gap-s` (a busy evening is a few rings a second, not a stream);
  the p99 is over every ring of every round. Beside it, the saturated rate:
  the same channels ringing back to back with no pause (a throughput, whose
  latency is mostly the queue in this one-process client);
* baseline in the same run: GET /healthz through the same server and client,
  the floor any request pays (HTTP parsing, routing, event loop).

Latencies are wall-clock at the client. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.auth import create_api_key  # noqa: E402
from api.db import (  # noqa: E402
    make_engine,
    make_session_factory,
    upgrade_database,
)
from api.models import Role  # noqa: E402
from tests.pg_schema import scratch_schema  # noqa: E402

RINGING_P99_TARGET_MS = 20.0


def percentile_ms(samples_s: list[float], q: float) -> float:
    ordered = sorted(samples_s)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index] * 1000.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def issue_keys(database_url: str) -> dict[Role, str]:
    upgrade_database(database_url)
    engine = make_engine(database_url)
    with make_session_factory(engine)() as session:
        keys = {
            role: create_api_key(session, role, name=f"bench-{role.value}").plaintext
            for role in (Role.OPERATOR, Role.PHONE)
        }
        session.commit()
    engine.dispose()
    return keys


@contextmanager
def scratch_database(database_url: str | None, scratch_dir: str) -> Iterator[str]:
    """A fresh SQLite file, or a throw-away schema in the given PostgreSQL database."""
    if database_url is None or database_url.startswith("sqlite"):
        yield database_url or f"sqlite:///{scratch_dir}/bench.db"
        return
    with scratch_schema(database_url, "keepcab_bench") as url:
        yield url


def start_server(database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "KEEPCAB_DATABASE_URL": database_url, "KEEPCAB_MAX_BODY_BYTES": "65536"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "api.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
            "--no-access-log",
            "--timeout-keep-alive",  # the 32-channel run reuses connections idle through the others
            "60",
        ],
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("server did not become ready")


async def timed_requests(
    client: httpx.AsyncClient, requests: list[tuple[str, str, dict[str, Any]]], concurrency: int
) -> tuple[list[float], float, list[int]]:
    """Run `requests` through `concurrency` workers; returns latencies, elapsed seconds, statuses."""
    latencies: list[float] = []
    statuses: list[int] = []
    pending = iter(requests)

    async def worker() -> None:
        for method, path, kwargs in pending:
            started = time.perf_counter()
            response = await client.request(method, path, **kwargs)
            latencies.append(time.perf_counter() - started)
            statuses.append(response.status_code)

    started = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(concurrency)])
    return latencies, time.perf_counter() - started, statuses


async def ringing_bursts(
    client: httpx.AsyncClient, requests: list[tuple[str, str, dict[str, Any]]], channels: int, gap_s: float
) -> tuple[list[float], list[int]]:
    """`channels` requests at once, all awaited, then `gap_s` of quiet; latencies of every one."""
    latencies: list[float] = []
    statuses: list[int] = []

    async def one(method: str, path: str, kwargs: dict[str, Any]) -> None:
        started = time.perf_counter()
        response = await client.request(method, path, **kwargs)
        latencies.append(time.perf_counter() - started)
        statuses.append(response.status_code)

    for start in range(0, len(requests) - channels + 1, channels):
        await asyncio.gather(*(one(*request) for request in requests[start : start + channels]))
        await asyncio.sleep(gap_s)
    return latencies, statuses


def writer_figures(metrics_text: str) -> dict[str, float]:
    """Writer batches during intake, from the server's own Prometheus histogram."""
    values = {}
    for line in metrics_text.splitlines():
        for name in ("keepcab_writer_batch_seconds_count", "keepcab_writer_batch_seconds_sum"):
            if line.startswith(name + " "):
                values[name] = float(line.split()[1])
    batches = values.get("keepcab_writer_batch_seconds_count", 0.0)
    busy_s = values.get("keepcab_writer_batch_seconds_sum", 0.0)
    return {
        "writer_batches": batches,
        "writer_mean_batch_ms": 1000 * busy_s / batches if batches else 0.0,
        "writer_busy_s": busy_s,
    }


def phone(i: int) -> str:
    return f"+7912{i:07d}"


async def measure(
    url: str, keys: dict[Role, str], orders: int, concurrency: int, rings: int, settle_s: float,
    ring_gap_s: float = 0.1,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    limits = httpx.Limits(max_connections=concurrency + 8, max_keepalive_connections=concurrency + 8)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
        warm: list[tuple[str, str, dict[str, Any]]] = [("GET", "/healthz", {}) for _ in range(200)]
        await timed_requests(client, warm, 8)
        health: list[tuple[str, str, dict[str, Any]]] = [("GET", "/healthz", {}) for _ in range(2000)]
        lat, elapsed, _ = await timed_requests(client, health, 1)
        results["healthz_p50_ms"], results["healthz_p99_ms"] = (
            percentile_ms(lat, 0.5),
            percentile_ms(lat, 0.99),
        )
        operator = {"X-API-Key": keys[Role.OPERATOR]}
        intake = [
            (
                "POST",
                "/orders",
                {
                    "headers": operator,
                    "json": {
                        "pickup_lat": 55.60 + (i % 300) * 0.001,
                        "pickup_lon": 37.40 + (i // 300) * 0.001,
                        "phone": phone(i),
                        "pickup_address": f"Street {i % 977}, {i}",
                    },
                },
            )
            for i in range(orders)
        ]
        lat, elapsed, statuses = await timed_requests(client, intake, concurrency)
        assert all(s == 201 for s in statuses), sorted(set(statuses))
        results.update(
            intake_orders=orders,
            intake_concurrency=concurrency,
            intake_orders_per_s=orders / elapsed,
            intake_p50_ms=percentile_ms(lat, 0.5),
            intake_p99_ms=percentile_ms(lat, 0.99),
        )
        results.update(writer_figures((await client.get("/metrics")).text))
        await asyncio.sleep(settle_s)  # let background work of the intake burst (console fan-out) drain
        phone_key = {"X-API-Key": keys[Role.PHONE]}
        for channels in (1, 8, 32):
            ringing = [
                (
                    "POST",
                    "/phone/events",
                    {
                        "headers": phone_key,
                        "json": {
                            "event": "call.ringing",
                            "call_id": f"b{channels}-{i}",
                            "from": phone(i * 7 % orders),
                        },
                    },
                )
                for i in range(rings)
            ]
            lat, statuses = await ringing_bursts(client, ringing, channels, ring_gap_s)
            assert all(s == 200 for s in statuses), sorted(set(statuses))
            results[f"ringing_c{channels}_p50_ms"] = percentile_ms(lat, 0.5)
            results[f"ringing_c{channels}_p99_ms"] = percentile_ms(lat, 0.99)
            saturated = [(m, p, {**k, "json": {**k["json"], "call_id": "s" + k["json"]["call_id"]}})
                         for m, p, k in ringing[: rings // 2]]  # fmt: skip
            lat, elapsed, statuses = await timed_requests(client, saturated, channels)
            assert all(s == 200 for s in statuses), sorted(set(statuses))
            results[f"ringing_c{channels}_per_s"] = len(saturated) / elapsed
            results[f"ringing_saturated_c{channels}_p99_ms"] = percentile_ms(lat, 0.99)
        results["ringing_mean_ms"] = statistics.fmean(lat) * 1000
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rings", type=int, default=2000)
    parser.add_argument(
        "--database-url",
        default=None,
        help="default: a fresh SQLite file; a PostgreSQL URL gets a scratch schema, dropped after",
    )
    parser.add_argument("--settle-s", type=float, default=10.0, help="pause between intake and ringing")
    parser.add_argument("--ring-gap-s", type=float, default=0.1, help="quiet between two ringing rounds")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as scratch,
        scratch_database(args.database_url, scratch) as database_url,
    ):
        keys = issue_keys(database_url)
        process, url = start_server(database_url)
        try:
            results = asyncio.run(
                measure(url, keys, args.orders, args.concurrency, args.rings, args.settle_s, args.ring_gap_s)
            )
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    backend = database_url.split(":", 1)[0].split("+", 1)[0]
    results = {
        "backend": backend,
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in results.items()},
    }
    results["intake_p99_over_healthz_p99"] = round(results["intake_p99_ms"] / results["healthz_p99_ms"], 2)
    results["ringing_p99_over_healthz_p99"] = round(
        results["ringing_c1_p99_ms"] / results["healthz_p99_ms"], 2
    )
    verdicts = {
        channels: "ok" if results[f"ringing_c{channels}_p99_ms"] < RINGING_P99_TARGET_MS else "ABOVE TARGET"
        for channels in (1, 8, 32)
    }
    print(
        f"[{backend}] healthz p50 {results['healthz_p50_ms']:.2f} ms, p99 {results['healthz_p99_ms']:.2f} ms"
    )
    print(
        f"[{backend}] order intake: {results['intake_orders_per_s']:.0f} orders/s at concurrency "
        f"{args.concurrency}; p50 {results['intake_p50_ms']:.1f} ms, p99 {results['intake_p99_ms']:.1f} ms"
    )
    for channels in (1, 8, 32):
        print(
            f"[{backend}] {channels} ringing at once: p50 {results[f'ringing_c{channels}_p50_ms']:.2f} ms, "
            f"p99 {results[f'ringing_c{channels}_p99_ms']:.2f} ms; saturated: "
            f"{results[f'ringing_c{channels}_per_s']:.0f}/s, "
            f"p99 {results[f'ringing_saturated_c{channels}_p99_ms']:.0f} ms"
        )
    verdict = ", ".join(f"x{channels} {word}" for channels, word in verdicts.items())
    print(f"ringing p99 target < {RINGING_P99_TARGET_MS} ms: {verdict}")
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
