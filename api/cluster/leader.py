"""The leader's side of the command stream: the same writer, fed from Redis, every command once.

The leader runs an ordinary `DispatcherService` whose sessions carry the
fencing check, reads the command stream in a consumer group and submits what
it reads as `Once(command_id, command)`. The `Once` handler runs inside the
writer's transaction: an id already in `cluster_commands` gets its stored
answer; otherwise the command runs and its answer is stored in the same
transaction. So a command claimed again after a failover, or read twice, is
applied exactly once, and its answer survives the leader that gave it.

A command is acknowledged (`XACK`) only after its answer went out. If the
writer was fenced the leader sends nothing and acknowledges nothing: the
rolled-back commands stay pending for the new leader, and this one steps down.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError
from sqlmodel import Session

from api.events import Event
from api.live.commands import LiveCommand
from api.live.service import DispatcherService, ServiceStopped, StoreUnavailable
from api.live.writer import WriteFailed, Writer
from api.models import ClusterCommand

from . import codec
from .channel import GROUP
from .fencing import Fence, applied_reply
from .replies import encode_error, encode_read, encode_result, read_query

log = logging.getLogger(__name__)
READ_COUNT = 64
BLOCK_MS = 500
CLAIM_EVERY_S = 1.0
CLAIM_IDLE_MS = 2000  # taken by a consumer that has not answered for this long: a paused old leader


class StepDown(Exception):
    """The leader must stop: fenced, or its service stopped under it."""


@dataclass(frozen=True, slots=True)
class Once:
    command_id: str
    command: LiveCommand


def once_handler(writer: Writer, fence: Fence) -> Callable[[Session, Once, float], tuple[str, list[Event]]]:
    def handle(session: Session, request: Once, now: float) -> tuple[str, list[Event]]:
        stored = applied_reply(session, request.command_id)
        if stored is not None:
            return stored, []
        result, events = writer.handler_for(request.command)(session, request.command, now)
        reply = encode_result(result)
        try:
            session.add(ClusterCommand(id=request.command_id, term=fence.term, reply=reply))
            session.flush()
        except Exception as error:
            raise WriteFailed(f"recording command {request.command_id} failed: {error}") from error
        return reply, events

    return handle


class CommandConsumer:
    def __init__(
        self, redis: Redis, stream: str, consumer: str, service: DispatcherService, fence: Fence
    ) -> None:
        self._redis, self.stream, self.consumer = redis, stream, consumer
        self._service, self._fence = service, fence
        service.writer.add_handler(Once, once_handler(service.writer, fence))
        self.applied = 0
        self.pending = 0
        self.lag = 0

    async def run(self) -> None:
        """Claim what earlier leaders left pending, then take new commands until told to stop."""
        await self._ensure_group()
        await self._claim(min_idle_ms=0)
        last_claim = time.monotonic()
        while True:
            try:
                reply = await self._redis.xreadgroup(
                    GROUP, self.consumer, {self.stream: ">"}, count=READ_COUNT, block=BLOCK_MS
                )
            except RedisError as error:
                log.warning("command stream unreachable (%s): retrying", error)
                await asyncio.sleep(0.2)
                continue
            for _, entries in reply or ():
                await self._handle(entries)
            if time.monotonic() - last_claim >= CLAIM_EVERY_S:
                await self._claim(min_idle_ms=CLAIM_IDLE_MS)
                await self._watch()
                last_claim = time.monotonic()

    async def _ensure_group(self) -> None:
        try:
            await self._redis.xgroup_create(self.stream, GROUP, id="0", mkstream=True)
        except ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    async def _claim(self, min_idle_ms: int) -> None:
        start = "0-0"
        while True:
            try:
                answer = await self._redis.xautoclaim(
                    self.stream, GROUP, self.consumer, min_idle_ms, start, count=READ_COUNT
                )
            except RedisError as error:
                log.warning("claiming pending commands failed (%s)", error)
                return
            start, entries = answer[0], [entry for entry in answer[1] if entry and entry[1]]
            if entries:
                log.info("claimed %d pending commands", len(entries))
                await self._handle(entries)
            if start in ("0-0", b"0-0"):
                return

    async def _watch(self) -> None:
        """Pending and lag of the group, for the metrics."""
        try:
            for group in await self._redis.xinfo_groups(self.stream):
                if group["name"] == GROUP:
                    self.pending, self.lag = int(group["pending"]), int(group.get("lag") or 0)
        except RedisError:
            pass

    async def _handle(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        answers = await asyncio.gather(*(self._one(fields) for _, fields in entries))
        if self._fence.fenced or not self._service.running:
            raise StepDown("fenced: a newer term exists" if self._fence.fenced else "service stopped")
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                for (entry_id, fields), answer in zip(entries, answers, strict=True):
                    if answer is not None and fields.get("to"):
                        pipe.xadd(
                            fields["to"],
                            {"id": fields.get("id", ""), "body": answer},
                            maxlen=10_000,
                            approximate=True,
                        )
                    pipe.xack(self.stream, GROUP, entry_id)
                await pipe.execute()
        except RedisError as error:  # answers lost: the commands stay pending and are claimed again
            log.warning("answering %d commands failed (%s)", len(entries), error)

    async def _one(self, fields: dict[str, str]) -> str | None:
        """The answer to one entry, or None when this leader must not answer (fenced, stopping)."""
        try:
            if fields.get("kind") == "read":
                return encode_read(await self._service.read(read_query(fields["body"])))
            command = codec.loads(fields["body"])
            answer: str = await self._service.submit(Once(fields["id"], command))
            self.applied += 1
            return answer
        except ServiceStopped:
            return None
        except StoreUnavailable as error:
            return None if self._fence.fenced else encode_error(error)
        except (codec.CodecError, KeyError, TypeError, ValueError) as error:
            log.warning("unreadable command %s: %s", fields.get("id"), error)
            return encode_error(StoreUnavailable(f"unreadable command: {error}"))
        except Exception as error:  # an expected refusal (422, 404, 409) travels back as data
            return encode_error(error)


class MovedPublisher:
    """What `watch_positions` publishes to: the leader puts `driver.moved` on the shared bus."""

    def __init__(self, relay: Any, clock: Callable[[], float]) -> None:
        self._relay, self.seq = relay, 0

    def publish(self, kind: str, at: float, data: dict[str, Any]) -> int:
        self._relay.offer([Event(kind, at, data)])
        return 0
