"""Login throttling shared by every replica, in Redis.

With the records in each process (`api.login_throttle.LoginThrottle`), three
replicas behind one port give an attacker three times the guesses before any
lockout, and a locked username is free again on the next replica. Here both
keys of an attempt (`user:NAME`, `addr:IP`) are checked and counted in one Lua
script, atomically across replicas, on Redis's own clock (replicas' monotonic
clocks do not agree). The rules are the in-process throttle's, so the embedded
and scaled-out set-ups lock out alike.

When Redis does not answer, logins fall back to this process's own throttle
(and say so in the log) rather than locking every operator out in an outage.
"""

from __future__ import annotations

import logging
from typing import Any

from redis import Redis
from redis.exceptions import RedisError

from api.login_throttle import LoginThrottle, ThrottleRules, throttle_keys

log = logging.getLogger(__name__)

# KEYS: user key, address key. ARGV: user threshold, address threshold, lockout_s, max_lockout_s.
# Returns the seconds to wait (as a string: Lua numbers become integers), "0" if counted.
_BEGIN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1e6
local wait = 0
for i = 1, 2 do
  local until_ = tonumber(redis.call('HGET', KEYS[i], 'locked_until') or '0')
  if until_ - now > wait then wait = until_ - now end
end
if wait > 0 then return tostring(wait) end
local lockout_s, max_lockout_s = tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 1, 2 do
  local failures = redis.call('HINCRBY', KEYS[i], 'failures', 1)
  local beyond = failures - tonumber(ARGV[i])
  if beyond >= 0 then
    local lockout = math.min(lockout_s * 2 ^ math.min(beyond, 32), max_lockout_s)
    redis.call('HSET', KEYS[i], 'locked_until', tostring(now + lockout))
  end
  redis.call('EXPIRE', KEYS[i], math.ceil(2 * max_lockout_s))
end
return '0'
"""
# KEYS: user key, address key. ARGV: address threshold.
_SUCCEEDED = """
redis.call('DEL', KEYS[1])
local failures = tonumber(redis.call('HGET', KEYS[2], 'failures') or '0')
if failures > 0 then
  failures = redis.call('HINCRBY', KEYS[2], 'failures', -1)
end
if failures < tonumber(ARGV[1]) then redis.call('HDEL', KEYS[2], 'locked_until') end
return 0
"""


class RedisLoginThrottle:
    """`LoginThrottle`'s interface over Redis; called from the login route's worker thread."""

    def __init__(self, redis: Redis, prefix: str, rules: ThrottleRules) -> None:
        self.rules, self._prefix, self._redis = rules, f"{prefix}:login:", redis
        self._begin: Any = redis.register_script(_BEGIN)
        self._succeeded: Any = redis.register_script(_SUCCEEDED)
        self._fallback = LoginThrottle(rules)

    def _keys(self, username: str, address: str) -> list[str]:
        return [self._prefix + key for key in throttle_keys(username, address)]

    def begin(self, username: str, address: str) -> float:
        """0.0 if the attempt may go ahead (and it is counted), else the seconds to wait."""
        rules = self.rules
        args = [rules.free_failures, rules.free_failures_per_address, rules.lockout_s, rules.max_lockout_s]
        try:
            return float(self._begin(keys=self._keys(username, address), args=args))
        except RedisError as error:
            log.warning("login throttle: Redis unreachable (%s); counting in this process", error)
            return self._fallback.begin(username, address)

    def succeeded(self, username: str, address: str) -> None:
        self._fallback.succeeded(username, address)
        try:
            self._succeeded(keys=self._keys(username, address), args=[self.rules.free_failures_per_address])
        except RedisError as error:
            log.warning("login throttle: Redis unreachable (%s); the success is not shared", error)


def shared_throttle(redis_url: str, prefix: str, rules: ThrottleRules) -> RedisLoginThrottle:
    """A synchronous client of its own: the login route runs on a worker thread."""
    client = Redis.from_url(redis_url, decode_responses=True, socket_connect_timeout=2.0, socket_timeout=3.0)
    return RedisLoginThrottle(client, prefix, rules)
