"""Three replicas as processes on real PostgreSQL and Redis; the leader is SIGKILLed mid-stream.

At the end every order that got a 201 exists once and in one state, no
driver holds two orders, no order was assigned twice, and every console
connection (reconnecting to a surviving replica with its last seq) saw every
event once, by the event ids on the stream.
"""

from __future__ import annotations

import asyncio
import signal
import time

import httpx
import pytest

from .load import Load, console_ids
from .replicas import Cluster, Console


def integrity(cluster: Cluster, load: Load) -> dict[str, int]:
    """Orders lost, orders stored twice, drivers holding two orders, orders assigned twice."""
    stored = dict(cluster.rows("SELECT idempotency_key, id FROM orders WHERE idempotency_key IS NOT NULL"))
    twice = cluster.rows("SELECT idempotency_key FROM orders GROUP BY 1 HAVING count(*) > 1")
    busy = cluster.rows(
        "SELECT driver_id FROM orders WHERE status IN ('assigned', 'picked_up')"
        " GROUP BY 1 HAVING count(*) > 1"
    )
    reassigned = cluster.rows(
        "SELECT order_id FROM order_events WHERE kind = 'assigned' GROUP BY 1 HAVING count(*) > 1"
    )
    lost = [key for key, order_id in load.accepted.items() if stored.get(key) != order_id]
    return {
        "lost": len(lost),
        "stored_twice": len(twice),
        "driver_two_orders": len(busy),
        "assigned_twice": len(reassigned),
    }


@pytest.mark.slow
async def test_sigkill_of_the_leader_mid_stream_loses_nothing(cluster: Cluster) -> None:
    """SIGKILL the leader while three operators and the drivers are busy; nothing is lost or doubled."""
    for name in ("a", "b", "c"):
        cluster.start(name)
    await cluster.ready("a", "b", "c")
    first = await cluster.wait_leader({"a", "b", "c"})
    alive = lambda: [r.url for r in cluster.replicas.values() if r.alive]  # noqa: E731
    load, stop, done = Load(cluster.key, alive), asyncio.Event(), asyncio.Event()
    consoles = [Console(cluster.key) for _ in range(3)]
    async with httpx.AsyncClient(timeout=15.0) as client:
        drivers = await load.drivers_online(client, 6)
        watchers = [asyncio.create_task(c.follow(alive, done, turn=i)) for i, c in enumerate(consoles)]
        workers = [asyncio.create_task(load.run(client, drivers, stop, start)) for start in range(3)]
        await cluster.wait_for(lambda: _at_least(load, 30))
        killed_at = time.monotonic()
        cluster.replicas[first].signal(signal.SIGKILL)
        second = await cluster.wait_leader({"a", "b", "c"} - {first})
        target = len(load.accepted) + 30
        await cluster.wait_for(lambda: _at_least(load, target), 60)
        failover_s = time.monotonic() - killed_at
        stop.set()
        await asyncio.gather(*workers)
        entries = await cluster.redis.xrange(f"{cluster.prefix}:default:events")
        ids = console_ids(entries)
        try:
            await cluster.wait_for(lambda: _caught_up(consoles, ids[-1]), 30)
        except TimeoutError:
            raise AssertionError(
                f"consoles behind {ids[-5:]}: {[(c.connections, c.timeline[-3:]) for c in consoles]}"
            ) from None
        done.set()
        await asyncio.gather(*watchers)
    figures = integrity(cluster, load)
    checked = [console.check(ids) for console in consoles]
    print(f"failover to {second} within {failover_s:.1f} s; {figures}; consoles (missed, dup) {checked}")
    assert figures == {"lost": 0, "stored_twice": 0, "driver_two_orders": 0, "assigned_twice": 0}
    assert all(missed == 0 and dup == 0 for missed, dup in checked)
    assert all(console.connections >= 1 for console in consoles)
    assert await cluster.term_in_db() >= 2


async def _at_least(load: Load, count: int) -> bool:
    return len(load.accepted) >= count


async def _caught_up(consoles: list[Console], last: int) -> bool:
    return all((console.last_seq or 0) >= last for console in consoles)
