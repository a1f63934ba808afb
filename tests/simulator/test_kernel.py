"""The event kernel's ordering, cancellation and clock, and the random streams."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.kernel import (
    NORMAL,
    URGENT,
    BufferedDraws,
    Kernel,
    RandomStreams,
    standard_exponentials,
    uniforms,
)


def _recorder(kernel: Kernel, log: list[tuple[float, str]]) -> Callable[[str], None]:
    def record(label: str) -> None:
        log.append((kernel.now, label))
    return record


@given(st.lists(st.tuples(st.integers(0, 20), st.sampled_from([URGENT, NORMAL])), max_size=60))
def test_events_run_by_time_then_priority_then_insertion(keys: list[tuple[int, int]]) -> None:
    """The run order is exactly the sort by (time, priority, insertion index)."""
    kernel = Kernel()
    ran: list[int] = []
    for index, (at, priority) in enumerate(keys):
        kernel.schedule(float(at), ran.append, index, priority)
    kernel.run()
    expected = sorted(range(len(keys)), key=lambda i: (keys[i][0], keys[i][1], i))
    assert ran == expected


def test_clock_shows_the_time_of_the_running_event() -> None:
    """Inside a callback `now` is the event's own time."""
    kernel = Kernel()
    log: list[tuple[float, str]] = []
    record = _recorder(kernel, log)
    kernel.schedule(5.0, record, "b")
    kernel.schedule(2.5, record, "a")
    kernel.run()
    assert log == [(2.5, "a"), (5.0, "b")]


def test_callbacks_can_schedule_further_events_at_the_same_time() -> None:
    """An event scheduled for `now` from inside a callback runs after the current one."""
    kernel = Kernel()
    ran: list[str] = []

    def first(_: None) -> None:
        ran.append("first")
        kernel.schedule(kernel.now, ran.append, "same time")

    kernel.schedule(1.0, first, None)
    kernel.schedule(1.0, ran.append, "queued earlier")
    kernel.run()
    assert ran == ["first", "queued earlier", "same time"]


def test_cancelled_events_never_run() -> None:
    """A cancelled event is skipped; cancelling twice is harmless."""
    kernel = Kernel()
    ran: list[str] = []
    handle = kernel.schedule(1.0, ran.append, "cancelled")
    kernel.schedule(2.0, ran.append, "kept")
    Kernel.cancel(handle)
    Kernel.cancel(handle)
    kernel.run()
    assert ran == ["kept"]
    assert kernel.events_run == 1


def test_run_until_stops_before_the_boundary_and_moves_the_clock() -> None:
    """run(until=t) leaves events at t for the next run and sets now to t."""
    kernel = Kernel()
    ran: list[str] = []
    kernel.schedule(1.0, ran.append, "before")
    kernel.schedule(3.0, ran.append, "at boundary")
    kernel.run(until=3.0)
    assert (ran, kernel.now) == (["before"], 3.0)
    kernel.run(until=10.0)
    assert (ran, kernel.now) == (["before", "at boundary"], 10.0)


def test_split_runs_equal_one_run() -> None:
    """Running [0, t1) then [t1, t2) is the same as running [0, t2)."""
    def simulate(boundaries: list[float]) -> list[float]:
        kernel = Kernel()
        seen: list[float] = []

        def tick(step: float) -> None:
            seen.append(kernel.now)
            kernel.schedule(kernel.now + step, tick, step)

        kernel.schedule(0.0, tick, 0.7)
        for boundary in boundaries:
            kernel.run(until=boundary)
        return seen

    assert simulate([2.1, 5.6, 10.0]) == simulate([10.0])


def test_step_runs_one_event_and_fails_on_an_empty_heap() -> None:
    """step() advances by exactly one live event; an empty kernel raises IndexError."""
    kernel = Kernel()
    ran: list[str] = []
    Kernel.cancel(kernel.schedule(0.5, ran.append, "gone"))
    kernel.schedule(1.5, ran.append, "x")
    assert kernel.peek() == 1.5
    kernel.step()
    assert (ran, kernel.now, kernel.peek()) == (["x"], 1.5, math.inf)
    with pytest.raises(IndexError):
        kernel.step()


def test_scheduling_in_the_past_is_refused() -> None:
    """Time never runs backwards."""
    kernel = Kernel(start_at=10.0)
    with pytest.raises(ValueError, match="before now"):
        kernel.schedule(9.0, print, "late")


def test_same_seed_same_streams_and_streams_differ_from_each_other() -> None:
    """A seed fixes every stream; two names never share numbers."""
    first = RandomStreams(7, ["arrivals", "patience"])
    second = RandomStreams(7, ["arrivals", "patience"])
    a1, a2 = first["arrivals"].random(5), second["arrivals"].random(5)
    assert np.array_equal(a1, a2)
    assert not np.array_equal(first["patience"].random(5), a1)
    assert not np.array_equal(RandomStreams(8, ["arrivals"])["arrivals"].random(5), a1)


def test_a_stream_does_not_depend_on_how_much_others_consumed() -> None:
    """Heavy use of one stream leaves another's numbers unchanged (common random numbers)."""
    quiet = RandomStreams(3, ["arrivals", "service"])
    busy = RandomStreams(3, ["arrivals", "service"])
    busy["arrivals"].random(10_000)
    assert np.array_equal(quiet["service"].random(4), busy["service"].random(4))


def test_duplicate_stream_names_are_refused() -> None:
    """Two sources sharing a name would silently share numbers."""
    with pytest.raises(ValueError, match="unique"):
        RandomStreams(1, ["a", "a"])


@pytest.mark.parametrize("draw", [standard_exponentials, uniforms])
def test_buffered_draws_reproduce_the_generator_sequence(
        draw: Callable[[np.random.Generator, int], np.ndarray[Any, Any]]) -> None:
    """Batches of 4 popped one by one give the same numbers as one big array, in order."""
    buffered = BufferedDraws(np.random.default_rng(11), draw, batch=4)
    direct = draw(np.random.default_rng(11), 10)
    assert [buffered.next() for _ in range(10)] == pytest.approx(direct.tolist(), rel=0)


def test_popping_the_buffer_directly_serves_the_same_sequence() -> None:
    """`buffer.pop()` while it is not empty, `next()` when it is: next()'s own numbers."""
    plain = BufferedDraws(np.random.default_rng(7), uniforms, batch=5)
    direct = BufferedDraws(np.random.default_rng(7), uniforms, batch=5)
    expected = [plain.next() for _ in range(23)]
    served = [direct.buffer.pop() if direct.buffer else direct.next() for _ in range(23)]
    assert served == expected
