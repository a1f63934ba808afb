"""Batch matching: the assignment against brute force, its limits, and the engine in batch mode."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.batch import Candidate, distances_m, plan_batch, solve
from dispatch.commands import DriverArrived, DriverOnline, Tick, TripCompleted
from dispatch.config import DispatchConfig, matching_fields
from dispatch.decisions import OrderAssigned, OrderQueued, OrderRejected
from dispatch.engine import Dispatcher
from dispatch.geo import haversine_m
from dispatch.model import (
    DriverStatus,
    DriverView,
    FailureCause,
    Order,
    OrderStatus,
    OrderView,
    PriorityScore,
    Tier,
)
from dispatch.policies import make_policy
from tests.dispatch.helpers import CENTRE, at_km, order, table_scorer

WINDOW_S = 5.0
BATCH = DispatchConfig(pickup_radius_m=3000, cell_m=700, batch_window_s=WINDOW_S)


def score(value_at_risk: float = 0.0) -> PriorityScore:
    return PriorityScore(0.0, Tier.REGULAR, "test", 0.0, value_at_risk)


# ---- the assignment itself -------------------------------------------------------------------

def brute_force_best(weight: np.ndarray, feasible: np.ndarray, restricted: np.ndarray,
                     cap: int | None) -> float:
    """The largest total weight over every partial matching of feasible pairs within the cap."""
    rows, cols = feasible.shape
    best = 0.0
    for chosen in itertools.product(range(-1, cols), repeat=rows):  # -1: the row is not served
        used = [c for c in chosen if c >= 0]
        if len(used) != len(set(used)):
            continue
        if any(c >= 0 and not feasible[r, c] for r, c in enumerate(chosen)):
            continue
        if cap is not None and sum(restricted[r] for r, c in enumerate(chosen) if c >= 0) > cap:
            continue
        best = max(best, sum(weight[r, c] for r, c in enumerate(chosen) if c >= 0))
    return best


instances = st.integers(1, 4).flatmap(lambda rows: st.integers(1, 4).flatmap(lambda cols: st.tuples(
    st.lists(st.lists(st.floats(0, 900), min_size=cols, max_size=cols), min_size=rows, max_size=rows),
    st.lists(st.floats(-300, 1500), min_size=rows, max_size=rows),
    st.lists(st.lists(st.booleans(), min_size=cols, max_size=cols), min_size=rows, max_size=rows),
    st.lists(st.booleans(), min_size=rows, max_size=rows),
    st.none() | st.integers(0, 4),
)))


@settings(max_examples=300, deadline=None)
@given(instances)
def test_the_batch_is_the_best_maximal_assignment_within_the_cap(instance: tuple) -> None:
    """The solver's total weight equals brute force's, no feasible pair is left unused, and
    restricted orders take at most `cap` cars."""
    eta, age, mask, restricted_list, cap = instance
    eta_s, age_s = np.array(eta), np.array(age)
    feasible, restricted = np.array(mask, dtype=bool), np.array(restricted_list, dtype=bool)
    pairs = solve(eta_s, age_s, feasible, restricted, cap)
    assert all(feasible[r, c] for r, c in pairs)
    assert len({r for r, _ in pairs}) == len({c for _, c in pairs}) == len(pairs)
    held = sum(bool(restricted[r]) for r, _ in pairs)
    assert cap is None or held <= cap
    if not feasible.any():
        assert pairs == []
        return
    cost = eta_s - age_s[:, None]
    weight = float(cost[feasible].max()) + 1.0 - cost
    total = sum(weight[r, c] for r, c in pairs)
    assert total == pytest.approx(brute_force_best(weight, feasible, restricted, cap), abs=1e-6)
    served = {r for r, _ in pairs}
    taken = {c for _, c in pairs}
    for r, c in zip(*np.nonzero(feasible), strict=True):
        if r not in served and c not in taken:
            assert restricted[r] and cap is not None and held == cap, f"row {r} could take {c}"


@settings(max_examples=200, deadline=None)
@given(instances)
def test_a_batch_passes_an_order_only_for_the_pickup_it_saves(instance: tuple) -> None:
    """j takes car c while i, who could take c, is not served: then i's extra age is at most
    the extra pickup time i would need, age_i - age_j <= eta_ic - eta_jc (within one class)."""
    eta, age, mask, restricted_list, cap = instance
    eta_s, age_s = np.array(eta), np.array(age)
    feasible, restricted = np.array(mask, dtype=bool), np.array(restricted_list, dtype=bool)
    pairs = solve(eta_s, age_s, feasible, restricted, cap)
    served = {r for r, _ in pairs}
    for j, c in pairs:
        for i in range(len(age)):
            if i in served or not feasible[i, c] or (restricted[i] and not restricted[j]):
                continue
            assert age_s[i] - age_s[j] <= eta_s[i, c] - eta_s[j, c] + 1e-6


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.floats(-6, 6), st.floats(-6, 6)), min_size=1, max_size=8),
       st.lists(st.tuples(st.floats(-6, 6), st.floats(-6, 6)), min_size=1, max_size=8),
       st.floats(100, 8000))
def test_batch_distances_and_reach_agree_with_the_engine(
    pickups: list[tuple[float, float]], cars: list[tuple[float, float]], radius_m: float
) -> None:
    """Vectorised distances match `haversine_m`, and reach is decided exactly as the engine
    decides it, including pairs exactly on the radius."""
    a = [at_km(*p) for p in pickups]
    b = [at_km(*p) for p in cars]
    edge = haversine_m(a[0], b[0])
    for radius in (radius_m, edge):
        dist, feasible = distances_m(a, b, radius)
        for i, j in itertools.product(range(len(a)), range(len(b))):
            scalar = haversine_m(a[i], b[j])
            assert dist[i, j] == pytest.approx(scalar, rel=1e-12, abs=1e-6)
            assert feasible[i, j] == (scalar <= radius)


def test_reserved_cars_go_to_callers_at_risk_only() -> None:
    """Under reserve (k = 1) with three free cars, callers below the threshold share two of
    them; a caller at risk takes the third, and with one car free only callers at risk take it."""
    policy = make_policy("reserve", k=1, min_value_at_risk=50.0)
    orders = [Candidate(f"low{i}", at_km(0, 0.1 * i), 0.0, score(0.0)) for i in range(3)]
    orders.append(Candidate("high", at_km(0, 2), 10.0, score(80.0)))
    cars = [(f"c{i}", at_km(0, 0.1 * i)) for i in range(3)]
    pairs = dict(plan_batch(orders, cars, policy, BATCH, now=100.0))
    assert sorted(pairs) == ["high", "low0", "low1"]
    alone = dict(plan_batch(orders, cars[:1], policy, BATCH, now=100.0))
    assert alone == {"high": "c0"}


def test_orders_out_of_reach_take_no_car() -> None:
    """A pair beyond the pickup radius is never assigned, however long the order waited."""
    orders = [Candidate("far", at_km(0, 5), -5000.0, score())]
    assert plan_batch(orders, [("c0", CENTRE)], make_policy("fifo"), BATCH, now=0.0) == []


# ---- the engine in batch mode --------------------------------------------------------------

def crosswise(config: DispatchConfig) -> tuple[Dispatcher, list[OrderAssigned]]:
    """Two cars 3 km apart, two calls next to the southern car: greedy sends the near car to
    the first call and the far car 3.5 km to the second; a batch does better in total."""
    d = Dispatcher(make_policy("fifo"), config=config)
    d.handle(DriverOnline("south", at_km(0, 0)), 0.0)
    d.handle(DriverOnline("north", at_km(2.9, 0)), 0.0)
    decisions = d.handle(order("o1", 1.0, at_km(0.5, 0)), 1.0)
    decisions += d.handle(order("o2", 2.0, at_km(-0.5, 0)), 2.0)
    decisions += d.handle(Tick(), 1.0 + WINDOW_S)
    return d, [x for x in decisions if isinstance(x, OrderAssigned)]


def test_a_batch_lowers_the_total_pickup_distance_below_greedy() -> None:
    """Same calls, same cars: the batch's total pickup distance is 1 km shorter than greedy's."""
    _, greedy = crosswise(DispatchConfig(pickup_radius_m=3600, cell_m=700))
    _, batch = crosswise(DispatchConfig(pickup_radius_m=3600, cell_m=700, batch_window_s=WINDOW_S))
    assert {a.order_id: a.driver_id for a in greedy} == {"o1": "south", "o2": "north"}
    assert {a.order_id: a.driver_id for a in batch} == {"o1": "north", "o2": "south"}
    assert sum(a.dist_m for a in greedy) - sum(a.dist_m for a in batch) == pytest.approx(1000, rel=0.01)


def test_orders_and_cars_wait_for_the_batch_that_the_first_change_opened() -> None:
    """A call beside a free car is queued, not served; the batch falls due one window after the
    first call and a second call does not push it back; a tick before then decides nothing."""
    d = Dispatcher(make_policy("fifo"), config=BATCH)
    d.handle(DriverOnline("c0", CENTRE), 0.0)
    assert d.batch_due_at is None
    first = d.handle(order("o1", 10.0, at_km(0.2, 0)), 10.0)
    assert [type(x) for x in first] == [OrderQueued]
    d.handle(order("o2", 12.0, at_km(0.4, 0)), 12.0)
    assert d.batch_due_at == d.next_timer_at() == 10.0 + WINDOW_S
    assert d.handle(Tick(), 14.0) == []
    assigned = [x for x in d.handle(Tick(), 15.0) if isinstance(x, OrderAssigned)]
    assert [(a.order_id, a.driver_id) for a in assigned] == [("o1", "c0")]
    assert d.batch_due_at is None and d.queue_length == 1


def test_a_freed_car_joins_the_next_batch() -> None:
    """A car finishing a trip with an order waiting becomes free and opens a batch."""
    d = Dispatcher(make_policy("fifo"), config=BATCH)
    d.handle(DriverOnline("c0", CENTRE), 0.0)
    d.handle(order("o1", 0.0), 0.0)
    d.handle(Tick(), WINDOW_S)
    d.handle(DriverArrived("c0"), 60.0)
    d.handle(order("o2", 61.0), 61.0)
    assert d.batch_due_at is None  # no free car: nothing to batch
    freed = d.handle(TripCompleted("c0", CENTRE), 300.0)
    assert d.driver_view("c0").status is DriverStatus.FREE and len(freed) == 2
    assert d.batch_due_at == 300.0 + WINDOW_S
    assert [x.order_id for x in d.handle(Tick(), 305.0) if isinstance(x, OrderAssigned)] == ["o2"]


def test_the_status_quo_refuses_at_the_end_of_the_batch() -> None:
    """With `reject`, a call no car in the batch can reach is refused when the batch ends:
    `no_car` when no car is left free, `rejected_by_policy` when free cars are out of reach."""
    d = Dispatcher(make_policy("reject"), config=BATCH)
    d.handle(order("o1", 0.0), 0.0)
    assert d.batch_due_at == WINDOW_S
    d.handle(DriverOnline("c0", CENTRE), 1.0)
    d.handle(order("o2", 2.0), 2.0)
    d.handle(order("far", 3.0, at_km(0, 9)), 3.0)
    decided = d.handle(Tick(), WINDOW_S)
    assert [x.order_id for x in decided if isinstance(x, OrderAssigned)] == ["o1"]
    causes = {x.order.order_id: x.cause for x in decided if isinstance(x, OrderRejected)}
    assert causes == {"o2": FailureCause.NO_CAR, "far": FailureCause.NO_CAR}
    d.handle(DriverOnline("c1", CENTRE), 10.0)
    d.handle(order("far2", 10.0, at_km(0, 9)), 10.0)
    late = d.handle(Tick(), 10.0 + WINDOW_S)
    assert [(x.order.order_id, x.cause) for x in late if isinstance(x, OrderRejected)] == [
        ("far2", FailureCause.REJECTED_BY_POLICY)]
    assert d.queue_length == 0 and d.live_orders()[0].status is OrderStatus.ASSIGNED


def test_restore_in_batch_mode_matches_at_once() -> None:
    """After a restart the rebuilt queue and free cars are matched in one batch at `now`."""
    d = Dispatcher(make_policy("fifo"), config=BATCH)
    waiting = OrderView(Order("o1", None, at_km(0.3, 0), 0.0), OrderStatus.QUEUED, None, None,
                        score(), 0.0)
    car = DriverView("c0", DriverStatus.FREE, CENTRE, None)
    decided = d.restore([car], [waiting], now=100.0)
    assert [(x.order_id, x.driver_id) for x in decided if isinstance(x, OrderAssigned)] == [
        ("o1", "c0")]


def test_matching_modes_are_built_by_one_function() -> None:
    """`matching_fields` turns a mode name into config fields; bad values fail naming the field."""
    assert DispatchConfig(**matching_fields("batch", 3.0)).batch_window_s == 3.0
    assert DispatchConfig(**matching_fields("batch", 3.0)).matching == "batch"
    assert DispatchConfig(**matching_fields("zone")).matching == "zone"
    assert DispatchConfig(**matching_fields("nearest", 3.0)).batch_window_s is None
    with pytest.raises(ValueError, match="unknown matching 'hungarian'"):
        matching_fields("hungarian")
    for bad in (0.0, -1.0, math.inf):
        with pytest.raises(ValueError, match="batch_window_s"):
            DispatchConfig(batch_window_s=bad)
    with pytest.raises(ValueError, match="batch_window_s"):
        DispatchConfig(spatial=False, batch_window_s=5.0)


def test_scores_from_the_policy_order_a_short_batch() -> None:
    """With one car and two equally near calls in one batch, the caller with the head start wins."""
    d = Dispatcher(make_policy("retention"), table_scorer({"a": 120.0}), BATCH)
    d.handle(DriverOnline("c0", CENTRE), 0.0)
    d.handle(order("plain", 0.0, at_km(0.5, 0)), 0.0)
    d.handle(order("loyal", 1.0, at_km(-0.5, 0), "a"), 1.0)
    decided = d.handle(Tick(), WINDOW_S)
    assert [x.order_id for x in decided if isinstance(x, OrderAssigned)] == ["loyal"]
