"""Batch matching in scale-out: the leader's tick assigns, and keeps doing so after a failover.

With `KEEPCAB_MATCHING=batch` nothing is assigned when an order or a driver arrives; the
writer's tick runs the assignment when the window closes. In scale-out only the leader has
a writer, so the batch must be run by whichever replica leads now, wherever the order came in.
"""

from __future__ import annotations

import asyncio
import signal

import httpx
import pytest

from tests.api.cluster.load import CENTRE
from tests.api.cluster.replicas import Cluster

pytestmark = pytest.mark.slow


async def _status(client: httpx.AsyncClient, url: str, key: str, order_id: str) -> str:
    response = await client.get(f"{url}/orders/{order_id}", headers={"X-API-Key": key})
    assert response.status_code == 200, response.text
    status: str = response.json()["status"]
    return status


async def _assigned_through(cluster: Cluster, url: str, driver_id: str) -> None:
    """A driver online and an order beside it, both sent to `url`; the batch assigns them."""
    headers = {"X-API-Key": cluster.key}
    async with httpx.AsyncClient(timeout=10.0) as client:
        added = await client.post(f"{url}/drivers", json={"id": driver_id}, headers=headers)
        assert added.status_code < 300, added.text
        online = {"lat": CENTRE[0], "lon": CENTRE[1]}
        reply = await client.post(f"{url}/drivers/{driver_id}/online", json=online, headers=headers)
        assert reply.status_code == 200, reply.text
        body = {"pickup_lat": CENTRE[0], "pickup_lon": CENTRE[1]}
        placed = await client.post(f"{url}/orders", json=body, headers=headers)
        assert placed.status_code == 201, placed.text
        assert placed.json()["status"] == "queued"  # a batch never assigns on arrival
        order_id = placed.json()["id"]
        async with asyncio.timeout(30):
            while await _status(client, url, cluster.key, order_id) != "assigned":
                await asyncio.sleep(0.2)


async def test_the_leaders_tick_runs_the_batch_before_and_after_a_failover(cluster: Cluster) -> None:
    cluster.extra_env.update(KEEPCAB_MATCHING="batch", KEEPCAB_BATCH_WINDOW_S="1.0")
    for name in ("r0", "r1"):
        cluster.start(name)
    await cluster.ready("r0", "r1")
    leader = await cluster.wait_leader({"r0", "r1"})
    follower = "r1" if leader == "r0" else "r0"
    await _assigned_through(cluster, cluster.replicas[follower].url, "car-a")
    cluster.replicas[leader].signal(signal.SIGKILL)
    assert await cluster.wait_leader({follower}) == follower
    await _assigned_through(cluster, cluster.replicas[follower].url, "car-b")
