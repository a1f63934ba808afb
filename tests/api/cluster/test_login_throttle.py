"""Login lockouts shared by every replica, on the real Redis (`api.cluster.login_throttle`)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from redis import Redis
from redis.exceptions import RedisError

from api.app import create_app
from api.cluster.login_throttle import RedisLoginThrottle, shared_throttle
from api.login_throttle import LoginThrottle, ThrottleRules
from api.settings import Settings
from tests.api.cluster.conftest import PrivateRedis, redis_url
from tests.conftest import require_service

RULES = ThrottleRules(free_failures=3, free_failures_per_address=6, lockout_s=2.0, max_lockout_s=8.0)


@pytest.fixture
def replicas(prefix: str) -> Iterator[tuple[RedisLoginThrottle, RedisLoginThrottle]]:
    """Two replicas' throttles on the shared test Redis, under this test's prefix."""
    client = Redis.from_url(redis_url(), decode_responses=True)
    try:
        client.ping()
    except (RedisError, OSError) as error:
        require_service("Redis", error)
    yield shared_throttle(redis_url(), prefix, RULES), shared_throttle(redis_url(), prefix, RULES)
    for key in client.scan_iter(f"{prefix}*"):
        client.delete(key)
    client.close()


def test_failures_on_one_replica_lock_the_name_on_the_other(
    replicas: tuple[RedisLoginThrottle, RedisLoginThrottle],
) -> None:
    """Three replicas must not mean three times the guesses: the failures add up in Redis."""
    first, second = replicas
    assert first.begin("anna", "10.0.0.1") == 0.0
    assert second.begin("ANNA", "10.0.0.2") == 0.0
    assert first.begin("anna", "10.0.0.3") == 0.0  # the third counted failure locks the name
    wait = second.begin("anna", "10.0.0.4")
    assert 0.0 < wait <= RULES.lockout_s
    assert second.begin("boris", "10.0.0.4") == 0.0  # another name from another address is free


def test_a_lockout_ends_on_its_own_and_then_doubles(
    replicas: tuple[RedisLoginThrottle, RedisLoginThrottle],
) -> None:
    first, second = replicas
    for _ in range(3):
        assert first.begin("olga", "10.0.0.9") == 0.0
    first_wait = second.begin("olga", "10.0.0.9")
    assert 0.0 < first_wait <= RULES.lockout_s
    time.sleep(first_wait + 0.05)
    assert second.begin("olga", "10.0.0.9") == 0.0  # allowed again, and counted: beyond by one
    second_wait = first.begin("olga", "10.0.0.9")
    assert RULES.lockout_s < second_wait <= 2 * RULES.lockout_s


def test_the_right_password_on_any_replica_clears_the_name(
    replicas: tuple[RedisLoginThrottle, RedisLoginThrottle],
) -> None:
    first, second = replicas
    assert first.begin("pavel", "10.0.0.5") == 0.0
    assert first.begin("pavel", "10.0.0.5") == 0.0
    second.succeeded("pavel", "10.0.0.5")
    for _ in range(3):
        assert first.begin("pavel", "10.0.0.5") == 0.0  # the count started again from zero


def test_an_address_locks_across_names_and_replicas(
    replicas: tuple[RedisLoginThrottle, RedisLoginThrottle],
) -> None:
    first, second = replicas
    for i in range(6):
        assert (first if i % 2 else second).begin(f"name{i}", "192.0.2.7") == 0.0
    assert first.begin("someone-else", "192.0.2.7") > 0.0


def test_without_redis_logins_are_throttled_in_the_process(
    private_redis: PrivateRedis, prefix: str
) -> None:
    """An outage must neither lock every operator out nor lift the limit."""
    throttle = shared_throttle(private_redis.url, prefix, RULES)
    assert throttle.begin("ivan", "10.0.0.1") == 0.0
    private_redis.stop()
    for _ in range(3):
        assert throttle.begin("ivan", "10.0.0.1") == 0.0
    assert throttle.begin("ivan", "10.0.0.1") > 0.0


def test_a_scaled_out_app_throttles_in_redis_and_the_embedded_one_in_the_process() -> None:
    scaled = create_app(Settings(database_url="sqlite://", redis_url=redis_url()))
    embedded = create_app(Settings(database_url="sqlite://"))
    assert isinstance(scaled.state.login_throttle, RedisLoginThrottle)
    assert isinstance(embedded.state.login_throttle, LoginThrottle)
