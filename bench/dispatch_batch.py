"""Batch matching: the decision latency of one batch of 1,000 waiting orders and 500 free cars.

One batch is one `Tick` in batch mode: the engine collects the waiting orders
and the free cars, computes every pair's distance, solves the assignment
(`scipy.optimize.linear_sum_assignment`) and emits the decisions. The city is
30 x 30 km with the default 5 km pickup radius, so an order sees about 40 free
cars. Latency is this thread's CPU time (CLOCK_THREAD_CPUTIME_ID), best and
median of several fresh batches, so neighbours on a shared machine do not
inflate it.

The baseline, in the same run and on the same positions, is greedy matching
making the same number of assignments: the 500 cars come free one after the
other and each takes the best waiting order within reach. Also printed: the
total pickup distance each gives, which is what the batch is for.
"""

from __future__ import annotations

import random
import statistics
import time
from typing import Any

from dispatch.commands import DriverOnline, PlaceOrder, Tick
from dispatch.config import DispatchConfig
from dispatch.decisions import OrderAssigned
from dispatch.engine import Dispatcher
from dispatch.model import Order, Position
from dispatch.policies import make_policy

LAT0, LON0 = 55.60, 37.40
KM_LAT, KM_LON = 1 / 111.195, 1 / (111.195 * 0.5630)  # degrees per km near 55.7 N
WINDOW_S = 5.0


def _points(count: int, rng: random.Random) -> list[Position]:
    return [Position(LAT0 + rng.uniform(0, 30) * KM_LAT, LON0 + rng.uniform(0, 30) * KM_LON)
            for _ in range(count)]


def _orders_waiting(config: DispatchConfig, pickups: list[Position]) -> Dispatcher:
    d = Dispatcher(make_policy("retention"), config=config)
    for i, pickup in enumerate(pickups):
        d.handle(PlaceOrder(Order(f"w{i}", None, pickup, float(i))), float(i))
    return d


def _one_batch(pickups: list[Position], cars: list[Position]) -> tuple[float, list[OrderAssigned]]:
    """CPU ms of the one Tick that runs the batch, and what it assigned."""
    config = DispatchConfig(max_wait_s=None, batch_window_s=WINDOW_S)
    d = _orders_waiting(config, pickups)
    now = float(len(pickups))
    for i, where in enumerate(cars):
        d.handle(DriverOnline(f"c{i}", where), now)
    assert d.queue_length == len(pickups) and d.free_driver_count == len(cars)
    due_at = d.batch_due_at
    assert due_at is not None
    started = time.thread_time_ns()
    decisions = d.handle(Tick(), due_at)
    elapsed_ms = (time.thread_time_ns() - started) / 1e6
    return elapsed_ms, [x for x in decisions if isinstance(x, OrderAssigned)]


def _greedy(pickups: list[Position], cars: list[Position]) -> tuple[float, list[OrderAssigned]]:
    """CPU ms of the cars coming free one by one, each taking its best order, and what they took."""
    d = _orders_waiting(DispatchConfig(max_wait_s=None), pickups)
    now = float(len(pickups))
    assigned: list[OrderAssigned] = []
    elapsed_ns = 0
    for i, where in enumerate(cars):
        started = time.thread_time_ns()
        decisions = d.handle(DriverOnline(f"c{i}", where), now)
        elapsed_ns += time.thread_time_ns() - started
        assigned.extend(x for x in decisions if isinstance(x, OrderAssigned))
    return elapsed_ns / 1e6, assigned


def bench_batch(quick: bool = False) -> dict[str, Any]:
    orders, cars, repeats = (1_000, 500, 3) if quick else (1_000, 500, 7)
    batch_ms: list[float] = []
    greedy_ms: list[float] = []
    for repeat in range(repeats):
        rng = random.Random(20261201 + repeat)
        pickups, positions = _points(orders, rng), _points(cars, rng)
        elapsed, batch = _one_batch(pickups, positions)
        batch_ms.append(elapsed)
        elapsed, greedy = _greedy(pickups, positions)
        greedy_ms.append(elapsed)
    batch_km = sum(a.dist_m for a in batch) / 1000
    greedy_km = sum(a.dist_m for a in greedy) / 1000
    best, median = min(batch_ms), statistics.median(batch_ms)
    print(f"one batch ({orders:,} waiting, {cars:,} free, 5 km radius): best {best:.1f} ms, "
          f"median {median:.1f} ms CPU; {len(batch)} assigned, {batch_km:,.0f} km to the pickups")
    print(f"greedy, same cars freed one by one: {min(greedy_ms):.1f} ms CPU in total; "
          f"{len(greedy)} assigned, {greedy_km:,.0f} km to the pickups "
          f"(batch/greedy time {best / min(greedy_ms):.2f}x, distance {batch_km / greedy_km:.3f}x)")
    return {
        "batch_orders": orders,
        "batch_cars": cars,
        "batch_best_ms": round(best, 2),
        "batch_median_ms": round(median, 2),
        "batch_greedy_same_assignments_ms": round(min(greedy_ms), 2),
        "batch_over_greedy_time": round(best / min(greedy_ms), 3),
        "batch_pickup_km": round(batch_km, 1),
        "greedy_pickup_km": round(greedy_km, 1),
        "batch_over_greedy_pickup_distance": round(batch_km / greedy_km, 4),
    }
