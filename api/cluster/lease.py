"""The dispatcher lease: one leader per city, held in Redis and renewed well inside its TTL.

The lease is redis-py's `Lock` (`SET NX PX` to take it, a Lua check-and-set
to renew it with our token), never blocking: a follower simply tries again
every `poll_s`. Each successful take is followed by `INCR` of the city's term
counter; that number is the fencing token the new leader writes to
PostgreSQL (`api.cluster.fencing`). The lease only says who *should* lead:
what keeps a paused old leader from writing is the token, not the lease.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

_RAISE_TO = """
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
"""


@dataclass
class Lease:
    redis: Redis
    prefix: str
    holder: str
    ttl_s: float = 3.0

    def __post_init__(self) -> None:
        self.key, self.term_key = f"{self.prefix}:leader", f"{self.prefix}:term"
        self._lock = Lock(self.redis, self.key, timeout=self.ttl_s, blocking=False, thread_local=False)
        self._raise_to = self.redis.register_script(_RAISE_TO)
        self.term = 0

    @property
    def renew_every_s(self) -> float:
        return self.ttl_s / 3

    async def take(self) -> int | None:
        """The new term's token if the lease was free and is now ours, else None."""
        if not await self._lock.acquire(token=f"{self.holder}:{self.term + 1}"):
            return None
        self.term = int(await self.redis.incr(self.term_key))
        return self.term

    async def renew(self) -> bool:
        """Push the expiry back by a TTL; False if the lease is no longer ours."""
        try:
            await self._lock.reacquire()
        except LockError:
            return False
        return True

    async def release(self) -> None:
        with contextlib.suppress(LockError):  # it had run out (or moved) already
            await self._lock.release()

    async def raise_term_to(self, term: int) -> None:
        """After Redis lost the counter: never hand out a token the database has seen."""
        await self._raise_to(keys=[self.term_key], args=[term])

    async def holder_now(self) -> str | None:
        value = await self.redis.get(self.key)
        return None if value is None else str(value)
