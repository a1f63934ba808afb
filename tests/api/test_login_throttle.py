"""Login throttling as a pure counter (a hand-moved clock): lockouts, doubling, recovery, bounds."""

from __future__ import annotations

import threading

from api.login_throttle import LoginThrottle, ThrottleRules, retry_after_header

RULES = ThrottleRules(free_failures=3, free_failures_per_address=10, lockout_s=30.0, max_lockout_s=120.0)


def _throttle() -> tuple[LoginThrottle, list[float]]:
    now = [1000.0]
    return LoginThrottle(RULES, clock=lambda: now[0]), now


def test_a_username_locks_after_its_free_failures_and_unlocks_after_the_lockout() -> None:
    """Three failed attempts go through, the fourth waits 30 s; after 30 s it may try again."""
    throttle, now = _throttle()
    assert [throttle.begin("olga", "10.0.0.1") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert throttle.begin("olga", "10.0.0.2") == 30.0  # another address does not help
    now[0] += 29.5
    assert throttle.begin("OLGA", "10.0.0.3") == 0.5  # nor another spelling
    now[0] += 0.5
    assert throttle.begin("olga", "10.0.0.1") == 0.0


def test_lockouts_double_up_to_the_cap_and_a_success_clears_them() -> None:
    """Each failure past the free ones doubles the lockout (30, 60, 120, 120 s); the right password
    once admitted resets the username."""
    throttle, now = _throttle()
    for _ in range(3):
        throttle.begin("olga", "a")
    waits = []
    for _ in range(4):
        wait = throttle.begin("olga", "a")
        waits.append(wait)
        now[0] += wait
        assert throttle.begin("olga", "a") == 0.0  # admitted: counts as a failure until it succeeds
    assert waits == [30.0, 60.0, 120.0, 120.0]
    throttle.succeeded("olga", "a")
    assert [throttle.begin("olga", "a") for _ in range(3)] == [0.0, 0.0, 0.0]


def test_an_address_locks_after_its_own_larger_budget_across_usernames() -> None:
    """Ten guesses from one address at ten usernames lock the address for every username."""
    throttle, _ = _throttle()
    assert all(throttle.begin(f"user{i}", "10.0.0.9") == 0.0 for i in range(10))
    assert throttle.begin("someone-else", "10.0.0.9") == 30.0
    assert throttle.begin("someone-else", "10.0.0.8") == 0.0


def test_parallel_attempts_are_counted_before_any_finishes() -> None:
    """Forty guesses started at once: only the free ones are admitted (no race past the limit)."""
    throttle, _ = _throttle()
    admitted: list[float] = []
    barrier = threading.Barrier(40)

    def guess() -> None:
        barrier.wait()
        admitted.append(throttle.begin("olga", "a"))

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert admitted.count(0.0) == RULES.free_failures


def test_a_flood_of_names_stays_bounded_and_keeps_locked_names_locked() -> None:
    """Made-up usernames are forgotten once the table is full, but a locked name stays locked."""
    now = [1000.0]
    throttle = LoginThrottle(RULES, clock=lambda: now[0], max_records=100)
    for _ in range(4):
        throttle.begin("olga", "attacker")
    for i in range(1000):
        now[0] += 0.001
        throttle.begin(f"made-up-{i}", f"10.1.{i // 250}.{i % 250}")
    assert len(throttle._records) <= 100
    assert throttle.begin("olga", "elsewhere") > 0


def test_retry_after_is_whole_seconds_rounded_up() -> None:
    """RFC 9110 delay-seconds: an integer, never 0 while locked."""
    assert [retry_after_header(w) for w in (0.01, 1.0, 29.2)] == ["1", "1", "30"]
