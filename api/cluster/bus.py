"""The Redis Streams event bus: what every replica's consoles hear, in one order, numbered once.

`publish` runs one Lua script that gives each event the next number of a
counter (`INCR`) and appends it to the stream (`XADD`) in the same step, so
the numbers are dense and in stream order whichever replica published. Each
replica runs one reader (`XREAD BLOCK` from its last stream id) and fans the
events out to its local subscribers with the in-process bus's bounded
buffers; a hole in the numbers (the stream was trimmed past a slow reader)
is counted as dropped, which makes the console hub resync its clients.

A publish carries a batch id that the script remembers for a while, so a
publish retried after a lost reply appends nothing twice. The console hub
numbers its messages with the bus's numbers (`numbers_events`) and names its
stream after the bus's generation, so a console resumes on any replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import uuid

from redis.asyncio import Redis
from redis.exceptions import RedisError

from api.events import Event, InProcessEventBus
from api.live.service import StoreUnavailable

log = logging.getLogger(__name__)
STREAM_MAXLEN = 100_000
READ_BLOCK_MS = 250  # also how long `close` may wait for the reader to notice
DEDUPE_MS = 600_000

_PUBLISH = """
if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[2]) then return 0 end
for i = 3, #ARGV do
  local n = redis.call('INCR', KEYS[2])
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'n', n, 'e', ARGV[i])
end
return #ARGV - 2
"""


class BusUnavailable(StoreUnavailable):
    """Redis cannot be reached: a 503 with Retry-After, like an unreachable store."""


def _encode(event: Event) -> str:
    return json.dumps({"k": event.kind, "a": event.at, "d": event.data}, separators=(",", ":"))


def _decode(number: int, text: str) -> Event:
    raw = json.loads(text)
    return Event(str(raw["k"]), float(raw["a"]), dict(raw["d"]), id=number)


class RedisEventBus(InProcessEventBus):
    """XADD on publish, one XREAD cursor per replica, local fan-out to subscribers."""

    numbers_events = True

    def __init__(self, redis: Redis, prefix: str, *, retry_s: float = 0.2) -> None:
        super().__init__()
        self._redis, self._retry_s = redis, retry_s
        self.key, self._counter, self._dedupe = f"{prefix}:events", f"{prefix}:events:n", f"{prefix}:pub:"
        self._generation_key = f"{prefix}:events:generation"
        self._script = redis.register_script(_PUBLISH)
        self._task: asyncio.Task[None] | None = None
        self._last_id = "0-0"
        self.last_number: int | None = None
        self.stream_name = ""
        self.connected = False
        self._closing = False

    async def start(self) -> None:
        """Name the stream's generation and start reading after its current end."""
        await self._redis.set(self._generation_key, secrets.token_hex(6), nx=True)
        self.stream_name = f"redis-{await self._redis.get(self._generation_key)}"
        tail = await self._redis.xrevrange(self.key, count=1)
        if tail:
            self._last_id = tail[0][0]
            self.last_number = int(tail[0][1]["n"])
        self.connected = True
        self._task = asyncio.create_task(self._read(), name="keepcab-event-reader")

    async def publish(self, events: list[Event], batch_id: str | None = None) -> None:
        """Append the events; raises `BusUnavailable` when Redis cannot be reached."""
        if not events:
            return
        keys = [self.key, self._counter, self._dedupe + (batch_id or uuid.uuid4().hex)]
        try:
            await self._script(keys=keys, args=[STREAM_MAXLEN, DEDUPE_MS, *map(_encode, events)])
        except RedisError as error:
            raise BusUnavailable(f"the event stream is unavailable: {type(error).__name__}") from error

    async def _read(self) -> None:
        while not self._closing:
            try:
                reply = await self._redis.xread({self.key: self._last_id}, count=500, block=READ_BLOCK_MS)
            except RedisError as error:
                if self.connected:
                    log.warning("event stream unreachable (%s): retrying", error)
                self.connected = False
                await asyncio.sleep(self._retry_s)
                continue
            self.connected = True
            for _, entries in reply or ():
                await self._deliver(entries)

    async def _deliver(self, entries: list[tuple[str, dict[str, str]]]) -> None:
        events = []
        for entry_id, fields in entries:
            self._last_id, number = entry_id, int(fields["n"])
            expected = None if self.last_number is None else self.last_number + 1
            if expected is not None and number != expected:  # trimmed past us, or Redis lost data
                for subscriber in self._subscribers:
                    subscriber.dropped += max(1, number - expected)
            self.last_number = number
            events.append(_decode(number, fields["e"]))
        await super().publish(events)

    async def close(self) -> None:
        """Let the reader finish its blocking read rather than cancel it inside redis-py."""
        self._closing = True
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), 2 * READ_BLOCK_MS / 1000)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        await super().close()
