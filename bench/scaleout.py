"""Scale-out figures: intake through 1, 2 and 3 replicas against the embedded default, failover, fan-out.

Every set-up runs as real processes on loopback in this one run (the process
harness of tests/api/cluster): the embedded default (one process, SQLite,
in-process bus) and 1, 2 and 3 replicas on PostgreSQL (a scratch schema of
the test database) and Redis (a key prefix of this run). Measured:

* order intake: `--orders` POST /orders at `--concurrency`, round-robin over
  the replicas; orders/s and p50/p99 at the client;
* console fan-out: one console per replica during the 3-replica run; the
  delay from the decision (`at`, the leader's clock) to each console (p99);
* failover: `--kills` times, SIGKILL of the leader under light load, then the
  seconds until the first decision on the event stream (the new leader's),
  and the killed replica is started again. Orders lost and double
  assignments are counted over all kills.

Speed is only compared within this run. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from api.db import upgrade_database  # noqa: E402
from tests.api.cluster.conftest import redis_url  # noqa: E402
from tests.api.cluster.load import Load, p99  # noqa: E402
from tests.api.cluster.replicas import Cluster, Console  # noqa: E402
from tests.api.cluster.test_failover import integrity  # noqa: E402
from tests.api.conftest import postgres_base_url  # noqa: E402
from tests.pg_schema import scratch_schema  # noqa: E402

DECISIONS = {"queued", "assigned", "rejected", "scheduled", "cancelled", "order_created"}


async def intake(load: Load, orders: int, concurrency: int) -> dict[str, float]:
    load.latencies_s.clear()
    numbers, run = iter(range(orders)), 10_000_000 + len(load.accepted)  # fresh Idempotency-Keys
    async with httpx.AsyncClient(timeout=30.0, limits=httpx.Limits(max_connections=concurrency)) as client:

        async def worker() -> None:
            for n in numbers:
                await load.order(client, run + n)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ordered = sorted(load.latencies_s)
    return {
        "orders_per_s": round(orders / elapsed, 1),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(p99(ordered) * 1000, 1),
    }


async def embedded(directory: Path, orders: int, concurrency: int) -> dict[str, float]:
    url = f"sqlite:///{directory / 'embedded.db'}"
    upgrade_database(url)
    cluster = Cluster(directory, url, redis_url(), "unused")
    cluster.start("embedded", KEEPCAB_REDIS_URL="")
    try:
        await cluster.ready("embedded")
        return await intake(
            Load(cluster.key, lambda: [cluster.replicas["embedded"].url]), orders, concurrency
        )
    finally:
        await cluster.close()


async def replicas(directory: Path, count: int, args: argparse.Namespace) -> dict[str, Any]:
    with scratch_schema(postgres_base_url(), "keepcab_bench") as url:
        upgrade_database(url)
        return await _replicas(directory, count, args, url)


async def _replicas(directory: Path, count: int, args: argparse.Namespace, url: str) -> dict[str, Any]:
    cluster = Cluster(directory / f"r{count}", url, redis_url(), f"keepcab-bench-{uuid.uuid4().hex[:8]}")
    names = [f"r{i}" for i in range(count)]
    try:
        for name in names:
            cluster.start(name)
        await cluster.ready(*names)
        await cluster.wait_leader(set(names))
        urls = [cluster.replicas[name].url for name in names]
        load = Load(cluster.key, lambda: urls)
        figures: dict[str, Any] = await intake(load, args.orders, args.concurrency)
        if count == 3:
            figures["fanout_p99_ms"] = await fanout(cluster, load, args)
            figures["failover"] = await failovers(cluster, names, args.kills)
        return figures
    finally:
        await cluster.close()
        await forget(cluster)


async def forget(cluster: Cluster) -> None:
    from tests.api.cluster.conftest import forget_prefix, open_redis

    client = await open_redis()
    await forget_prefix(client, cluster.prefix)
    await client.aclose()


async def fanout(cluster: Cluster, load: Load, args: argparse.Namespace) -> float:
    """Decision-to-console delay with one console on every replica, while orders come in."""
    stop = asyncio.Event()
    urls = [replica.url for replica in cluster.replicas.values()]
    consoles = [Console(cluster.key) for _ in urls]
    tasks = [asyncio.create_task(c.follow(lambda: urls, stop, turn=i)) for i, c in enumerate(consoles)]
    await cluster.wait_for(lambda: _connected(consoles))
    await intake(load, args.orders // 2, args.concurrency)
    stop.set()
    await asyncio.gather(*tasks)
    return round(p99([delay for console in consoles for delay in console.delays_s]) * 1000, 1)


async def _connected(consoles: list[Console]) -> bool:
    return all(console.timeline for console in consoles)


async def failovers(cluster: Cluster, names: list[str], kills: int) -> dict[str, Any]:
    """SIGKILL the leader `kills` times under light load; seconds to the first new decision."""
    seconds: list[float] = []
    alive = lambda: [r.url for r in cluster.replicas.values() if r.alive]  # noqa: E731
    load, stop = Load(cluster.key, alive), asyncio.Event()
    stream = f"{cluster.prefix}:default:events"
    async with httpx.AsyncClient(timeout=30.0) as client:
        drivers = await load.drivers_online(client, 4)
        workers = [asyncio.create_task(load.run(client, drivers, stop, start)) for start in range(2)]
        for _ in range(kills):
            leader = await cluster.wait_leader(set(names))
            tail = await cluster.redis.xrevrange(stream, count=1)
            cursor = tail[0][0] if tail else "0-0"
            killed_at = time.monotonic()
            cluster.replicas[leader].signal(signal.SIGKILL)
            cluster.replicas[leader].process.wait()
            seconds.append(await first_decision(cluster, stream, cursor) - killed_at)
            cluster.start(leader)
            await cluster.ready(leader)
        stop.set()
        await asyncio.gather(*workers)
    figures = integrity(cluster, load)
    return {
        "kills": kills,
        "median_s": round(statistics.median(seconds), 2),
        "worst_s": round(max(seconds), 2),
        "each_s": [round(s, 2) for s in seconds],
        "orders_accepted": len(load.accepted),
        "orders_lost": figures["lost"],
        "double_assignments": figures["assigned_twice"] + figures["driver_two_orders"],
    }


async def first_decision(cluster: Cluster, stream: str, cursor: str) -> float:
    while True:
        reply = await cluster.redis.xread({stream: cursor}, block=200)
        for _, entries in reply or ():
            for entry_id, fields in entries:
                cursor = entry_id
                if json.loads(fields["e"])["k"] in DECISIONS:
                    return time.monotonic()


async def main(args: argparse.Namespace) -> dict[str, Any]:
    directory = Path(tempfile.mkdtemp(prefix="keepcab-scaleout-"))  # kept on failure: replica logs
    print(f"replica logs in {directory}", flush=True)
    result: dict[str, Any] = {"orders": args.orders, "concurrency": args.concurrency}
    result["embedded"] = await embedded(directory, args.orders, args.concurrency)
    print(f"embedded: {result['embedded']}", flush=True)
    for count in (1, 2, 3):
        (directory / f"r{count}").mkdir()
        result[f"replicas_{count}"] = await replicas(directory, count, args)
        print(f"{count} replicas: {result[f'replicas_{count}']}", flush=True)
    shutil.rmtree(directory)
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--kills", type=int, default=5)
    print(json.dumps(asyncio.run(main(parser.parse_args()))))
