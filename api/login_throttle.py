"""Login throttling: doubling lockouts per username and per client address.

scrypt makes each password guess cost about 50 ms of the server's time, but
without a limit one client still got 44 guesses a second through (issue 10),
and a burst of logins also starves the threadpool the REST routes share. So
every attempt counts as a failure the moment it starts (a guess is a guess
until the password proves it right; counting only finished failures would
let forty parallel guesses through before the first one was counted), and a
correct password takes its own attempt back. After `free_failures` for a
username (or `free_failures_per_address` from one address, higher because an
office shares one address behind NAT), that key is locked for `lockout_s`,
doubling with every further failure up to `max_lockout_s`.
While locked, even the right password is refused with a 429 and Retry-After.

Locking a username lets anyone keep a known operator out for up to
`max_lockout_s` at a time: the balance between protecting the account and
legitimate access that OWASP's testing guide names (WSTG-ATHN-03, weak
lock-out mechanism). A lockout that ends by itself, short at first, keeps
both costs small; an admin can still issue the operator a key with
`keepcab keys create`. The records live in the process (the embedded set-up
has one); a scale-out set-up keeps them in Redis (`api.cluster.login_throttle`)
so that every replica counts the same failures.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from api.settings import Settings

MAX_RECORDS = 10_000  # a flood of made-up usernames must not grow memory without bound


@dataclass(slots=True)
class _Record:
    failures: int = 0
    locked_until: float = 0.0
    last_at: float = 0.0


@dataclass(frozen=True, slots=True)
class ThrottleRules:
    free_failures: int = 5
    free_failures_per_address: int = 20
    lockout_s: float = 30.0
    max_lockout_s: float = 900.0

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottleRules:
        return cls(
            settings.login_free_failures,
            settings.login_free_failures_per_address,
            settings.login_lockout_s,
            settings.login_max_lockout_s,
        )


class LoginThrottle:
    """Failure counts per `user:NAME` and `addr:IP`; thread-safe (logins run on worker threads)."""

    def __init__(
        self,
        rules: ThrottleRules,
        clock: Callable[[], float] = time.monotonic,
        max_records: int = MAX_RECORDS,
    ) -> None:
        self.rules, self._clock, self._max_records = rules, clock, max_records
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def begin(self, username: str, address: str) -> float:
        """Count an attempt; 0.0 if it may go ahead, else the seconds until it may be tried again."""
        now = self._clock()
        keys = self._keys(username, address)
        with self._lock:
            wait = max(self._wait(key, now) for key in keys)
            if wait > 0:
                return wait
            self._prune(now)
            for key in keys:
                self._count(key, now)
        return 0.0

    def succeeded(self, username: str, address: str) -> None:
        """The right password: forget the username's failures and take back this attempt's count."""
        user_key, address_key = self._keys(username, address)
        with self._lock:
            self._records.pop(user_key, None)
            record = self._records.get(address_key)
            if record is not None:
                record.failures = max(0, record.failures - 1)
                if record.failures < self.rules.free_failures_per_address:
                    record.locked_until = 0.0

    @staticmethod
    def _keys(username: str, address: str) -> tuple[str, str]:
        return throttle_keys(username, address)

    def _threshold(self, key: str) -> int:
        rules = self.rules
        return rules.free_failures if key.startswith("user:") else rules.free_failures_per_address

    def _wait(self, key: str, now: float) -> float:
        record = self._records.get(key)
        return 0.0 if record is None else max(0.0, record.locked_until - now)

    def _count(self, key: str, now: float) -> None:
        record = self._records.setdefault(key, _Record())
        record.failures += 1
        record.last_at = now
        beyond = record.failures - self._threshold(key)
        if beyond >= 0:
            lockout = min(self.rules.lockout_s * 2.0 ** min(beyond, 32), self.rules.max_lockout_s)
            record.locked_until = now + lockout

    def _prune(self, now: float) -> None:
        """Forget records quiet for longer than the longest lockout, then the oldest unlocked ones.

        A locked record is never forgotten early, or flooding the table with
        made-up names would unlock the name under attack.
        """
        if len(self._records) < self._max_records:
            return
        horizon = now - self.rules.max_lockout_s
        for key in [k for k, r in self._records.items() if r.last_at < horizon]:
            del self._records[key]
        unlocked = [k for k, r in self._records.items() if r.locked_until <= now]
        unlocked.sort(key=lambda k: self._records[k].last_at)
        for key in unlocked[: max(0, len(self._records) - self._max_records // 2)]:
            del self._records[key]


def throttle_keys(username: str, address: str) -> tuple[str, str]:
    """The two records an attempt counts against: the username (case-insensitive) and the address."""
    return f"user:{username.casefold()}", f"addr:{address}"


def retry_after_header(wait_s: float) -> str:
    """Whole seconds, rounded up and at least 1 (RFC 9110 delay-seconds)."""
    return str(max(1, math.ceil(wait_s)))
