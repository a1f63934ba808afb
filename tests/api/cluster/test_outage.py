"""Redis away: a clear error at start-up; mid-stream, 503 with Retry-After, nothing lost, and recovery."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from .conftest import PrivateRedis, free_port
from .load import CENTRE, Load
from .replicas import Cluster


def test_an_unreachable_redis_stops_start_up_with_a_clear_message(tmp_path: Path, pg_url: str) -> None:
    """KEEPCAB_REDIS_URL naming a closed port: the server exits at once, saying what to do."""
    cluster = Cluster(tmp_path, pg_url, f"redis://127.0.0.1:{free_port()}/0", "unused")
    replica = cluster.start("lonely")
    replica.process.wait(60)
    log = replica.log.read_text()
    assert replica.process.returncode != 0
    assert "KEEPCAB_REDIS_URL" in log and "not reachable" in log and "unset KEEPCAB_REDIS_URL" in log
    asyncio.run(cluster.redis.aclose())


@pytest.mark.slow
async def test_redis_stopped_mid_stream_is_a_503_and_the_cluster_resumes_by_itself(
    tmp_path: Path, pg_url: str, private_redis: PrivateRedis
) -> None:
    """Orders before, during and after a Redis outage: 503s meanwhile, every 201 kept, no restart."""
    cluster = Cluster(tmp_path, pg_url, private_redis.url, "outage")
    try:
        for name in ("a", "b"):
            cluster.start(name)
        await cluster.ready("a", "b")
        await cluster.wait_leader({"a", "b"})
        urls = [replica.url for replica in cluster.replicas.values()]
        load = Load(cluster.key, lambda: urls)
        async with httpx.AsyncClient(timeout=15.0) as client:
            for n in range(10):
                await load.order(client, n)
            private_redis.stop()
            for url in urls:  # one request straight to each replica, no retries: a quick 503
                response = await client.post(
                    url + "/orders",
                    json={"pickup_lat": CENTRE[0], "pickup_lon": CENTRE[1]},
                    headers={"X-API-Key": cluster.key, "Idempotency-Key": f"down-{url}"},
                )
                assert response.status_code == 503 and response.headers["Retry-After"], response.text
                assert (await client.get(url + "/readyz")).status_code == 503
            retrying = asyncio.create_task(load.order(client, 100))  # waits out the outage itself
            await cluster.wait_for(lambda: _saw_unavailable(load))
            private_redis.start()
            await retrying
            for n in range(200, 210):
                await load.order(client, n)
        await cluster.ready("a", "b")
    finally:
        await cluster.close()
    stored = dict(cluster.rows("SELECT idempotency_key, id FROM orders WHERE idempotency_key LIKE 'order-%'"))
    assert {key: stored.get(key) for key in load.accepted} == load.accepted and len(load.accepted) == 21
    assert all(replica.process.returncode in (0, -15) for replica in cluster.replicas.values())


async def _saw_unavailable(load: Load) -> bool:
    return load.unavailable >= 30  # retried for at least 3 s: past the lease TTL
