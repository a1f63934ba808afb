"""The leader's consumer on real Redis and PostgreSQL: each command id applied once, pending work claimed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlmodel import Session

from api.cluster import codec
from api.cluster.channel import GROUP, command_stream, reply_stream
from api.cluster.fencing import Fence, fenced_session_factory, make_leader_engine, take_term
from api.cluster.leader import CommandConsumer
from api.events import InProcessEventBus
from api.live.commands import OrderIntake, SubmitOrder
from api.live.service import DispatcherService
from api.live.writer import WriterSetup
from api.metrics import LiveMetrics
from api.models import ClusterCommand, Order
from dispatch.model import Position


@dataclass
class Leader:
    consumer: CommandConsumer
    service: DispatcherService
    factory: object


@pytest.fixture
async def leader(pg_url: str, redis: Redis, prefix: str) -> AsyncIterator[Leader]:
    engine = make_leader_engine(pg_url)
    take_term(engine, "test", 1, "leader-1")
    fence = Fence("test", 1)
    factory = fenced_session_factory(engine, fence)
    service = DispatcherService(factory, WriterSetup(), InProcessEventBus(), LiveMetrics())
    await service.start()
    consumer = CommandConsumer(redis, command_stream(prefix), "leader-1", service, fence)
    yield Leader(consumer, service, factory)
    await service.stop()
    engine.dispose()


def _order(key: str | None = None) -> str:
    return codec.dumps(SubmitOrder(OrderIntake(Position(50.06, 19.94)), "op", "api", key))


async def _answers(redis: Redis, stream: str, count: int) -> list[dict[str, str]]:
    async with asyncio.timeout(10):
        while True:
            entries = await redis.xrange(stream)
            if len(entries) >= count:
                return [fields for _, fields in entries]
            await asyncio.sleep(0.01)


async def test_a_command_delivered_twice_is_applied_once(leader: Leader, redis: Redis, prefix: str) -> None:
    """The same command id twice (a re-delivery) makes one order and gets the same answer twice."""
    stream, replies = command_stream(prefix), reply_stream(prefix, "r1")
    entry = {"id": "cmd-1", "to": replies, "kind": "cmd", "body": _order()}
    await redis.xadd(stream, entry)
    await redis.xadd(stream, entry)
    task = asyncio.create_task(leader.consumer.run())
    try:
        first, second = await _answers(redis, replies, 2)
    finally:
        task.cancel()
    assert first == second and json.loads(first["body"])["created"] is True
    with leader.factory() as session:  # type: ignore[operator]
        assert isinstance(session, Session)
        assert session.scalar(select(func.count()).select_from(Order)) == 1
        assert session.scalar(select(func.count()).select_from(ClusterCommand)) == 1
    assert await redis.xpending(stream, GROUP) == {"pending": 0, "min": None, "max": None, "consumers": []}


async def test_a_new_leader_claims_what_a_dead_one_took_and_never_answered(
    leader: Leader, redis: Redis, prefix: str
) -> None:
    """An entry read by a consumer that died is claimed at start (XAUTOCLAIM) and answered."""
    stream, replies = command_stream(prefix), reply_stream(prefix, "r1")
    await redis.xgroup_create(stream, GROUP, id="0", mkstream=True)
    await redis.xadd(stream, {"id": "cmd-2", "to": replies, "kind": "cmd", "body": _order()})
    taken = await redis.xreadgroup(GROUP, "dead-leader", {stream: ">"}, count=10)
    assert len(taken[0][1]) == 1  # pending on the dead consumer
    task = asyncio.create_task(leader.consumer.run())
    try:
        (answer,) = await _answers(redis, replies, 1)
    finally:
        task.cancel()
    assert answer["id"] == "cmd-2" and json.loads(answer["body"])["kind"] == "intake"


async def test_a_refused_command_answers_with_the_error_and_is_not_recorded(
    leader: Leader, redis: Redis, prefix: str
) -> None:
    """A 422 from the writer travels back as data; nothing is stored under its id."""
    stream, replies = command_stream(prefix), reply_stream(prefix, "r1")
    bad = codec.dumps(SubmitOrder(OrderIntake(Position(50.0, 19.9), phone="not a number"), "op"))
    await redis.xadd(stream, {"id": "cmd-3", "to": replies, "kind": "cmd", "body": bad})
    await redis.xadd(stream, {"id": "cmd-4", "to": replies, "kind": "cmd", "body": '{"$t":"Popen"}'})
    task = asyncio.create_task(leader.consumer.run())
    try:
        first, second = await _answers(redis, replies, 2)
    finally:
        task.cancel()
    assert json.loads(first["body"])["error"] == "RequestProblem"
    assert json.loads(second["body"])["error"] == "StoreUnavailable"
    with leader.factory() as session:  # type: ignore[operator]
        assert session.scalar(select(func.count()).select_from(ClusterCommand)) == 0
