"""A leader paused (SIGSTOP) until its lease moved, then resumed (SIGCONT): fenced, and it steps down."""

from __future__ import annotations

import signal

import httpx
import pytest

from .load import Load
from .replicas import Cluster


@pytest.mark.slow
async def test_a_paused_leader_that_wakes_writes_nothing_and_steps_down(cluster: Cluster) -> None:
    """Its first transaction after the pause is refused by PostgreSQL; it follows the new leader."""
    for name in ("a", "b"):
        cluster.start(name)
    await cluster.ready("a", "b")
    await cluster.wait_leader({"a", "b"})
    load = Load(cluster.key, lambda: [r.url for r in cluster.replicas.values()])
    async with httpx.AsyncClient(timeout=15.0) as client:
        await load.order(client, 1)
        old = await cluster.leader()
        assert old is not None
        new = ({"a", "b"} - {old}).pop()
        old_term = await cluster.term_in_db()
        cluster.replicas[old].signal(signal.SIGSTOP)
        assert await cluster.wait_leader({new}) == new
        new_term = await cluster.term_in_db()
        load.urls = lambda: [cluster.replicas[new].url]
        await load.order(client, 2)  # applied by the new leader
        cluster.replicas[old].signal(signal.SIGCONT)

        async def stepped_down() -> bool:
            fenced = await cluster.metric(old, "keepcab_cluster_fenced_writes")
            return fenced >= 1 and await cluster.metric(old, "keepcab_cluster_leader") == 0

        await cluster.wait_for(stepped_down)
        load.urls = lambda: [cluster.replicas[old].url]
        await load.order(client, 3)  # the old leader is a follower now: the new one applies it
    assert await cluster.leader() == new and await cluster.term_in_db() == new_term > old_term
    applied = dict(cluster.rows("SELECT term, count(*) FROM cluster_commands GROUP BY term"))
    assert applied[new_term] == 2 and sum(applied.values()) == 3  # nothing of the old term after the pause
    assert cluster.scalar("SELECT count(*) FROM orders") == 3
