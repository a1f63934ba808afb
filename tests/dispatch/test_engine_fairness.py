"""FIFO and starvation guarantees of the head-start queue, in a one-zone setting.

One zone: every pickup and every car at one point, an infinite pickup radius,
`c` cars and a constant trip length, so the only thing that decides who waits
is the queue discipline.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.commands import DriverArrived, DriverOnline, Tick, TripCompleted
from dispatch.decisions import OrderAssigned
from dispatch.engine import DispatchConfig, Dispatcher
from dispatch.model import PriorityScore, Tier
from dispatch.policies import make_policy
from tests.dispatch.helpers import CENTRE, order

CAP_S = 300.0
TRIP_S = 600.0
WINDOW_S = 5.0
ONE_ZONE = DispatchConfig(pickup_radius_m=math.inf, max_wait_s=None, max_head_start_s=CAP_S)
ONE_ZONE_BATCH = replace(ONE_ZONE, batch_window_s=WINDOW_S)
MODES = [pytest.param(ONE_ZONE, id="greedy"), pytest.param(ONE_ZONE_BATCH, id="batch")]

Arrival = tuple[float, float]  # (requested_at, head_start_s)


def serve(arrivals: list[Arrival], cars: int, policy: str = "retention",
          config: DispatchConfig = ONE_ZONE) -> dict[str, float]:
    """Service start time of every order ("o<index>") under the real dispatcher, ticking it
    whenever it has a timer due (in batch mode: whenever a batch falls due)."""
    heads = {f"c{i}": head for i, (_, head) in enumerate(arrivals)}

    def scorer(customer_id: str | None, now: float) -> PriorityScore:
        return PriorityScore(heads[customer_id or ""], Tier.REGULAR, "test")

    d = Dispatcher(make_policy(policy, max_head_start_s=CAP_S), scorer, config)
    for car in range(cars):
        d.handle(DriverOnline(f"car{car}", CENTRE), 0.0)
    events: list[tuple[float, int, int, str]] = []  # (time, kind, seq, id); kind 0 = trip end
    for i, (requested_at, _) in enumerate(arrivals):
        heapq.heappush(events, (requested_at, 1, i, f"o{i}"))
    started: dict[str, float] = {}
    seq = len(arrivals)
    while events or d.next_timer_at() is not None:
        due_at = d.next_timer_at()
        if due_at is not None and (not events or due_at <= events[0][0]):
            now, decisions = due_at, d.handle(Tick(), due_at)
        else:
            now, kind, _, ident = heapq.heappop(events)
            decisions = d.handle(TripCompleted(ident, CENTRE), now) if kind == 0 else d.handle(
                order(ident, now, customer_id=f"c{ident[1:]}"), now)
        for decision in decisions:
            if isinstance(decision, OrderAssigned):
                started[decision.order_id] = now
                d.handle(DriverArrived(decision.driver_id), now)
                seq += 1
                heapq.heappush(events, (now + TRIP_S, 0, seq, decision.driver_id))
    return started


arrival_lists = st.lists(
    st.tuples(st.floats(0, 3600).map(round), st.sampled_from([0.0, 30.0, 120.0, 300.0])),
    min_size=1,
    max_size=40,
).map(sorted)


@pytest.mark.parametrize("config", MODES)
@settings(max_examples=60, deadline=None)
@given(arrival_lists, st.integers(1, 4))
def test_zero_head_starts_serve_in_arrival_order(
    config: DispatchConfig, arrivals: list[Arrival], cars: int
) -> None:
    """With every head start 0 the retention policy serves exactly as fifo does, in arrival order,
    greedy or in batches."""
    flat = [(t, 0.0) for t, _ in arrivals]
    retention = serve(flat, cars, "retention", config)
    assert retention == serve(flat, cars, "fifo", config)
    order_served = sorted(retention, key=lambda oid: (retention[oid], int(oid[1:])))
    assert order_served == sorted(retention, key=lambda oid: int(oid[1:]))


@pytest.mark.parametrize("config", MODES)
@settings(max_examples=80, deadline=None)
@given(arrival_lists, st.integers(1, 3))
def test_an_order_is_overtaken_only_by_calls_made_within_the_cap(
    config: DispatchConfig, arrivals: list[Arrival], cars: int
) -> None:
    """If j is served before i although i called first, j called at most max_head_start_s after i
    (in batches too: with every pickup equally far, a batch decides by the queue's keys alone)."""
    started = serve(arrivals, cars, config=config)
    assert len(started) == len(arrivals)
    for i, (called_i, _) in enumerate(arrivals):
        for j, (called_j, _) in enumerate(arrivals):
            if called_j > called_i and started[f"o{j}"] < started[f"o{i}"]:
                assert called_j - called_i <= CAP_S


@settings(max_examples=150, deadline=None)
@given(arrival_lists, st.integers(1, 3), st.data())
def test_no_order_is_served_later_than_fifo_would_serve_a_call_made_cap_later(
    arrivals: list[Arrival], cars: int, data: st.DataObject
) -> None:
    """The starvation bound: with head starts, order i starts no later than plain FIFO would start it
    had i called max_head_start_s later (so its wait exceeds FIFO's by at most the cap plus the
    service of calls made within the cap after it)."""
    started = serve(arrivals, cars)
    i = data.draw(st.integers(0, len(arrivals) - 1))
    delayed = [(t + CAP_S if k == i else t, 0.0) for k, (t, _) in enumerate(arrivals)]
    fifo_delayed = serve(delayed, cars, "fifo")
    assert started[f"o{i}"] <= fifo_delayed[f"o{i}"]


@settings(max_examples=40, deadline=None)
@given(arrival_lists.filter(lambda arrivals: len(arrivals) <= 4))
def test_in_batches_a_call_that_finds_a_car_free_waits_at_most_one_window(
    arrivals: list[Arrival]
) -> None:
    """With a car for every call, each call's car is assigned within one window of the call."""
    started = serve(arrivals, 4, config=ONE_ZONE_BATCH)
    assert all(0 < started[f"o{i}"] - t <= WINDOW_S for i, (t, _) in enumerate(arrivals))
