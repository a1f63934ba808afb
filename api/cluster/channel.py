"""The command stream: any replica accepts a request, the leader applies it, the replica answers.

A replica appends each command to the city's stream (`XADD`) with a fresh
command id and the name of its own reply stream, then awaits the leader's
answer there (one `XREAD` reader per replica hands answers to waiting
requests by id). The leader reads the stream in a consumer group, so a
command it took but never acknowledged (it died) stays pending and the next
leader claims it (`XAUTOCLAIM`); the id makes sure it is applied once.

A request that gets no answer within `timeout_s` (no leader during a
failover, Redis down) is a 503 with Retry-After, never a hang; a command that
was appended may still be applied later, which is why retries should carry an
`Idempotency-Key`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.live.commands import LiveCommand
from dispatch.engine import Dispatcher

from . import codec
from .bus import BusUnavailable
from .replies import decode_result, read_name

log = logging.getLogger(__name__)
GROUP = "dispatcher"
COMMANDS_MAXLEN = 100_000
REPLIES_MAXLEN = 10_000
BLOCK_MS = 250


class NoAnswer(BusUnavailable):
    """No leader answered in time (a failover in progress, or no leader at all)."""


def command_stream(prefix: str) -> str:
    return f"{prefix}:commands"


def reply_stream(prefix: str, replica: str) -> str:
    return f"{prefix}:replies:{replica}"


class CommandClient:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        replica: str,
        factory: sessionmaker[Session],
        timeout_s: float = 10.0,
    ) -> None:
        self._redis, self._factory, self.timeout_s = redis, factory, timeout_s
        self.commands, self.replies = command_stream(prefix), reply_stream(prefix, replica)
        self._waiting: dict[str, asyncio.Future[str]] = {}
        self._last_id = "0-0"
        self._task: asyncio.Task[None] | None = None
        self.connected = False
        self._closing = False

    async def start(self) -> None:
        tail = await self._redis.xrevrange(self.replies, count=1)
        self._last_id = tail[0][0] if tail else "0-0"
        self.connected = True
        self._task = asyncio.create_task(self._read_replies(), name="keepcab-replies")

    async def stop(self) -> None:
        self._closing = True
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 2 * BLOCK_MS / 1000)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task

    async def submit(self, command: LiveCommand) -> Any:
        """Have the leader run `command`; its result once committed, as `DispatcherService.submit`."""
        text = await self._call("cmd", codec.dumps(command), self.timeout_s)
        return await run_in_threadpool(decode_result, text, self._factory)

    async def read(self, query: Callable[[Dispatcher], Any]) -> Any:
        """Run a registered read on the leader's engine, between two of its writes."""
        text = await self._call("read", read_name(query), self.timeout_s)
        return await run_in_threadpool(decode_result, text, self._factory)

    async def _call(self, kind: str, body: str, timeout_s: float) -> str:
        command_id = uuid.uuid4().hex
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting[command_id] = future
        entry = {"id": command_id, "to": self.replies, "kind": kind, "body": body}
        try:
            await self._redis.xadd(self.commands, entry, maxlen=COMMANDS_MAXLEN, approximate=True)
        except RedisError as error:
            self._waiting.pop(command_id, None)
            raise BusUnavailable(f"the command stream is unavailable: {type(error).__name__}") from error
        try:
            return await asyncio.wait_for(future, timeout_s)
        except TimeoutError:
            raise NoAnswer(f"no dispatcher leader answered within {timeout_s:g} s") from None
        finally:
            self._waiting.pop(command_id, None)

    async def _read_replies(self) -> None:
        while not self._closing:
            try:
                reply = await self._redis.xread({self.replies: self._last_id}, count=500, block=BLOCK_MS)
            except RedisError as error:
                if self.connected:
                    log.warning("reply stream unreachable (%s): retrying", error)
                self.connected = False
                await asyncio.sleep(0.2)
                continue
            self.connected = True
            for _, entries in reply or ():
                for entry_id, fields in entries:
                    self._last_id = entry_id
                    future = self._waiting.get(fields.get("id", ""))
                    if future is not None and not future.done():
                        future.set_result(fields["body"])
