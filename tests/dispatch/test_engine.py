from __future__ import annotations

import math
from dataclasses import replace

import pytest

from dispatch.commands import (
    AssignManually,
    CancelOrder,
    DriverArrived,
    DriverMoved,
    DriverOffline,
    DriverOnline,
    OverridePriority,
    Tick,
    TripCompleted,
)
from dispatch.decisions import (
    DriverLeaving,
    DriverStatusChanged,
    OrderAssigned,
    OrderCancelled,
    OrderCompleted,
    OrderExpired,
    OrderPickedUp,
    OrderQueued,
    OrderRejected,
    OrderScheduled,
    PriorityOverridden,
)
from dispatch.engine import DispatchConfig, Dispatcher
from dispatch.errors import (
    DomainError,
    DriverBusy,
    DuplicateOrder,
    InvalidCommand,
    InvalidTransition,
    UnknownDriver,
    UnknownOrder,
)
from dispatch.model import DriverStatus, FailureCause, OrderStatus, Position
from dispatch.policies import make_policy
from tests.dispatch.helpers import CENTRE, at_km, order, table_scorer

CONFIG = DispatchConfig(pickup_radius_m=3000, max_wait_s=600, prebook_lead_s=600)


def fifo(**overrides: float) -> Dispatcher:
    return Dispatcher(make_policy("fifo"), config=replace(CONFIG, **overrides))


def snapshot(d: Dispatcher) -> tuple[object, ...]:
    return (d.queue_view(), sorted(d.live_orders(), key=str), d.drivers(), d.next_timer_at())


def test_new_order_takes_the_nearest_free_car_with_an_eta() -> None:
    """A new order is assigned to the nearest free car within reach, with distance and ETA."""
    d = fifo()
    d.handle(DriverOnline("far", at_km(2, 0)), 0)
    d.handle(DriverOnline("near", at_km(1, 0)), 0)
    decisions = d.handle(order("o1"), 10)
    assigned = decisions[0]
    assert isinstance(assigned, OrderAssigned)
    assert assigned.driver_id == "near"
    assert assigned.dist_m == pytest.approx(1000, rel=0.01)
    assert assigned.eta_s == pytest.approx(1000 * 1.3 / 8.3, rel=0.01)
    assert decisions[1] == DriverStatusChanged("near", DriverStatus.EN_ROUTE, at_km(1, 0), 10)
    assert d.free_driver_count == 1


def test_order_waits_when_no_car_can_reach_and_a_freed_car_takes_it() -> None:
    """An order out of every free car's reach queues; a car coming online nearby takes it."""
    d = fifo()
    d.handle(DriverOnline("far", at_km(10, 0)), 0)
    (queued,) = d.handle(order("o1"), 5)
    assert isinstance(queued, OrderQueued) and d.queue_length == 1
    decisions = d.handle(DriverOnline("near", at_km(0, 1)), 30)
    assert isinstance(decisions[0], OrderAssigned) and decisions[0].driver_id == "near"
    assert d.queue_length == 0


def test_freed_car_takes_the_highest_priority_order_it_can_reach() -> None:
    """A freed car skips an unreachable order and, among reachable ones, takes the biggest head start."""
    scorer = table_scorer({"loyal": 200.0})
    d = Dispatcher(make_policy("retention"), scorer, CONFIG)
    d.handle(order("unreachable", 0, at_km(20, 0)), 0)
    d.handle(order("early", 10, CENTRE, "newbie"), 10)
    d.handle(order("loyal", 100, at_km(0.5, 0), "loyal"), 100)
    assert [v.order.order_id for v in d.queue_view()] == ["loyal", "unreachable", "early"]
    decisions = d.handle(DriverOnline("car", CENTRE), 120)
    assert isinstance(decisions[0], OrderAssigned) and decisions[0].order_id == "loyal"
    d.handle(DriverOnline("car2", CENTRE), 130)
    assert [v.order.order_id for v in d.queue_view()] == ["unreachable"]


def test_reject_policy_refuses_when_no_car_is_free() -> None:
    """Under the status quo a caller with no reachable free car is refused at once and forgotten."""
    d = Dispatcher(make_policy("reject"), config=CONFIG)
    (rejected,) = d.handle(order("o1", customer_id="c1"), 0)
    assert isinstance(rejected, OrderRejected) and rejected.cause is FailureCause.NO_CAR
    assert d.live_orders() == [] and d.queue_length == 0


def test_reserve_keeps_the_last_car_for_a_caller_at_risk() -> None:
    """With k=1 the last free car waits for a high value-at-risk caller; others queue."""
    scorer = table_scorer({}, value_at_risk={"loyal": 100.0})
    d = Dispatcher(make_policy("reserve", k=1, min_value_at_risk=50.0), scorer, CONFIG)
    d.handle(DriverOnline("last", CENTRE), 0)
    (queued,) = d.handle(order("casual", 1, customer_id="casual"), 1)
    assert isinstance(queued, OrderQueued)
    decisions = d.handle(order("loyal", 2, customer_id="loyal"), 2)
    assert isinstance(decisions[0], OrderAssigned) and decisions[0].order_id == "loyal"
    d.handle(DriverOnline("second", CENTRE), 3)
    assert d.queue_length == 1, "one free car is still the reserve"
    decisions = d.handle(DriverOnline("third", CENTRE), 4)
    assert isinstance(decisions[0], OrderAssigned) and decisions[0].order_id == "casual"


def test_reserve_gives_a_waiting_order_the_free_car_beside_it_once_a_car_frees_elsewhere() -> None:
    """A low-value order held back by k=1 takes the car beside it when a second car frees far away."""
    d = Dispatcher(make_policy("reserve", k=1, min_value_at_risk=50.0), config=CONFIG)
    d.handle(DriverOnline("near", at_km(0, 1)), 0)
    d.handle(DriverOnline("far", at_km(20, 0)), 0)
    d.handle(order("busy-trip", 0, at_km(20, 0)), 0)
    d.handle(DriverArrived("far"), 60)
    (queued,) = d.handle(order("casual", 100, CENTRE, "casual"), 100)
    assert isinstance(queued, OrderQueued), "the only free car is the reserve"
    decisions = d.handle(TripCompleted("far", at_km(20, 5), fare=10.0), 200)
    assert decisions[:2] == [
        OrderCompleted("busy-trip", "far", 10.0, 200),
        DriverStatusChanged("far", DriverStatus.FREE, at_km(20, 5), 200),
    ]
    assert isinstance(decisions[2], OrderAssigned)
    assert (decisions[2].order_id, decisions[2].driver_id) == ("casual", "near")
    assert decisions[3] == DriverStatusChanged("near", DriverStatus.EN_ROUTE, at_km(0, 1), 200)
    assert d.queue_length == 0 and d.free_driver_count == 1


def test_reserve_serves_the_highest_priority_order_when_supply_recovers_with_the_nearest_car() -> None:
    """When supply rises past k the queue's best admissible order goes first, to its nearest car."""
    scorer = table_scorer({"loyal": 200.0})
    d = Dispatcher(make_policy("reserve", k=2, min_value_at_risk=50.0), scorer, CONFIG)
    d.handle(DriverOnline("west", at_km(0, -2)), 0)
    d.handle(DriverOnline("east", at_km(0, 1)), 0)
    d.handle(order("early", 10, at_km(0, 0.5), "newbie"), 10)
    d.handle(order("loyal", 20, CENTRE, "loyal"), 20)
    assert d.queue_length == 2, "two free cars are the reserve"
    decisions = d.handle(DriverOnline("north", at_km(30, 0)), 30)
    assert decisions[0] == DriverStatusChanged("north", DriverStatus.FREE, at_km(30, 0), 30)
    assert isinstance(decisions[1], OrderAssigned)
    assert (decisions[1].order_id, decisions[1].driver_id) == ("loyal", "east")
    assert len(decisions) == 3, "one assignment brings the free count back to k"
    assert [v.order.order_id for v in d.queue_view()] == ["early"]


def test_reserve_without_waiting_refuses_by_policy_while_cars_are_free() -> None:
    """A guard-channel refusal while a car is free is recorded as rejected_by_policy, not no_car."""
    d = Dispatcher(make_policy("reserve", k=1, min_value_at_risk=1.0, waits=False), config=CONFIG)
    d.handle(DriverOnline("last", CENTRE), 0)
    (rejected,) = d.handle(order("o1", customer_id="x"), 1)
    assert isinstance(rejected, OrderRejected)
    assert rejected.cause is FailureCause.REJECTED_BY_POLICY


def test_full_trip_lifecycle_frees_the_car_for_the_next_order() -> None:
    """assigned -> picked up -> completed; the car then takes the waiting order from where it dropped off."""
    d = fifo()
    d.handle(DriverOnline("car", CENTRE), 0)
    d.handle(order("first"), 0)
    d.handle(order("second", 1, at_km(5, 0)), 1)
    picked = d.handle(DriverArrived("car"), 100)
    assert isinstance(picked[0], OrderPickedUp)
    assert d.order_view("first").status is OrderStatus.PICKED_UP
    done = d.handle(TripCompleted("car", at_km(4, 0), fare=12.5), 400)
    assert done[0] == OrderCompleted("first", "car", 12.5, 400)
    assert isinstance(done[1], OrderAssigned) and done[1].order_id == "second"
    with pytest.raises(UnknownOrder):
        d.order_view("first")


def test_max_wait_expires_orders_on_tick_and_timer_is_announced() -> None:
    """An order waiting past max_wait_s expires with cause no_car at the first tick after its deadline."""
    d = fifo()
    d.handle(order("o1", 100), 100)
    assert d.next_timer_at() == 700
    assert d.handle(Tick(), 699) == []
    (expired,) = d.handle(Tick(), 705)
    assert expired == OrderExpired("o1", FailureCause.NO_CAR, 605, 705)
    assert d.queue_length == 0 and d.next_timer_at() is None


def test_prebooked_order_is_released_lead_time_before_pickup() -> None:
    """A pre-booking waits in the timer heap and competes for cars from pickup_at - lead on."""
    d = fifo()
    d.handle(DriverOnline("car", CENTRE), 0)
    (scheduled,) = d.handle(order("pre", 0, pickup_at=3600), 0)
    assert isinstance(scheduled, OrderScheduled) and scheduled.release_at == 3000
    assert d.free_driver_count == 1 and d.next_timer_at() == 3000
    assert d.handle(Tick(), 2999) == []
    decisions = d.handle(Tick(), 3000)
    assert isinstance(decisions[0], OrderAssigned) and decisions[0].order_id == "pre"


def test_prebooking_buys_no_priority_over_callers_due_earlier() -> None:
    """Once released, a pre-booked order ages from its pickup time, behind callers due before it."""
    d = fifo()
    d.handle(order("pre", 0, pickup_at=1000), 0)
    d.handle(Tick(), 400)
    d.handle(order("now", 900), 900)
    assert [v.order.order_id for v in d.queue_view()] == ["now", "pre"]


def test_customer_cancel_and_failure_causes_end_in_the_right_state() -> None:
    """cancel(None) is the customer's choice; abandoned and dispatcher causes are failures."""
    d = fifo()
    d.handle(order("a"), 0)
    d.handle(order("b"), 0)
    d.handle(order("c"), 0)
    assert d.handle(CancelOrder("a"), 1) == [OrderCancelled("a", None, None, 1)]
    (abandoned,) = d.handle(CancelOrder("b", FailureCause.ABANDONED), 2)
    assert abandoned.cause is FailureCause.ABANDONED
    assert FailureCause.ABANDONED.terminal_status is OrderStatus.ABANDONED
    assert FailureCause.DISPATCHER_CANCELLED.terminal_status is OrderStatus.CANCELLED
    assert [v.order.order_id for v in d.queue_view()] == ["c"]


def test_cancelling_an_assigned_order_frees_its_car_for_the_next() -> None:
    """A driver no-show or a cancellation of an assigned order frees the car, which takes the next order."""
    d = fifo()
    d.handle(DriverOnline("car", CENTRE), 0)
    d.handle(order("a"), 0)
    d.handle(order("b"), 1)
    decisions = d.handle(CancelOrder("a", FailureCause.DRIVER_NO_SHOW), 5)
    assert decisions[0] == OrderCancelled("a", FailureCause.DRIVER_NO_SHOW, "car", 5)
    assert isinstance(decisions[1], OrderAssigned) and decisions[1].order_id == "b"


def test_bad_commands_raise_domain_errors_and_change_nothing() -> None:
    """Unknown ids, busy drivers, wrong states and duplicates raise and leave the state untouched."""
    d = fifo()
    d.handle(DriverOnline("busy", CENTRE), 0)
    d.handle(DriverOnline("idle", at_km(10, 10)), 0)
    d.handle(order("taken"), 0)
    d.handle(order("waiting", 1, at_km(-20, 0)), 1)
    before = snapshot(d)
    bad = [
        (CancelOrder("nope"), UnknownOrder),
        (DriverArrived("ghost"), UnknownDriver),
        (AssignManually("waiting", "busy"), DriverBusy),
        (TripCompleted("idle", CENTRE), InvalidTransition),
        (DriverArrived("idle"), InvalidTransition),
        (DriverOffline("busy"), DriverBusy),
        (DriverOnline("busy", CENTRE), InvalidTransition),
        (order("taken"), DuplicateOrder),
        (OverridePriority("waiting", 999, "too much"), InvalidCommand),
        (OverridePriority("waiting", 10, "  "), InvalidCommand),
        (OverridePriority("taken", 10, "assigned already"), InvalidTransition),
        (object(), InvalidCommand),
    ]
    for command, error in bad:
        with pytest.raises(error):
            d.handle(command, 50)  # type: ignore[arg-type]
        assert snapshot(d) == before, f"{command} changed state"
    assert issubclass(DriverBusy, DomainError)


def test_cancelling_a_picked_up_order_is_refused() -> None:
    """Once the customer is in the car the trip must be completed, not cancelled."""
    d = fifo()
    d.handle(DriverOnline("car", CENTRE), 0)
    d.handle(order("o"), 0)
    d.handle(DriverArrived("car"), 60)
    with pytest.raises(InvalidTransition, match="picked up"):
        d.handle(CancelOrder("o"), 61)


def test_priority_override_moves_an_order_and_is_reported() -> None:
    """An operator override reprioritises a waiting order at once and reports old and new head start."""
    d = fifo()
    d.handle(order("a", 0), 0)
    d.handle(order("b", 100), 100)
    (overridden,) = d.handle(OverridePriority("b", 150, "regular, refused yesterday"), 101)
    assert overridden == PriorityOverridden("b", 0.0, 150, -50, "regular, refused yesterday", 101)
    assert [v.order.order_id for v in d.queue_view()] == ["b", "a"]
    assert d.order_view("b").head_start_s == 150


def test_manual_assignment_bypasses_queue_order() -> None:
    """An operator may give a later order to a free car chosen by hand, even out of radius."""
    d = fifo()
    d.handle(order("a", 0), 0)
    d.handle(order("b", 1), 1)
    d.handle(DriverOnline("car", at_km(30, 0)), 2)
    decisions = d.handle(AssignManually("b", "car"), 3)
    assert isinstance(decisions[0], OrderAssigned) and decisions[0].manual
    assert [v.order.order_id for v in d.queue_view()] == ["a"]


def test_free_car_that_moves_into_reach_takes_a_waiting_order() -> None:
    """A free car reporting a new position within reach of a waiting order takes it."""
    d = fifo()
    d.handle(DriverOnline("car", at_km(10, 0)), 0)
    d.handle(order("o"), 0)
    assert d.handle(DriverMoved("car", at_km(8, 0)), 10) == []
    decisions = d.handle(DriverMoved("car", at_km(2, 0)), 20)
    assert isinstance(decisions[0], OrderAssigned)


def test_restore_rebuilds_the_same_queue_and_fleet() -> None:
    """A dispatcher restored from another's views has the same queue, drivers and timers."""
    scorer = table_scorer({"loyal": 120.0})
    d = Dispatcher(make_policy("retention"), scorer, CONFIG)
    d.handle(DriverOnline("busy", CENTRE), 0)
    d.handle(DriverOnline("far", at_km(15, 0)), 0)
    d.handle(order("riding", 0), 0)
    d.handle(DriverArrived("busy"), 30)
    d.handle(order("x", 40, at_km(0, 1)), 40)
    d.handle(order("y", 50, at_km(0, 1), "loyal"), 50)
    d.handle(order("pre", 50, pickup_at=5000), 50)
    restored = Dispatcher(make_policy("retention"), scorer, CONFIG)
    assert restored.restore(d.drivers(), d.live_orders(), 60) == []
    assert snapshot(restored) == snapshot(d)
    assert restored.handle(TripCompleted("busy", CENTRE), 70) == d.handle(
        TripCompleted("busy", CENTRE), 70
    )


def test_restore_decides_what_fell_due_while_down() -> None:
    """Orders whose max wait passed during downtime expire on restore."""
    d = fifo()
    d.handle(order("old", 0), 0)
    restored = fifo()
    (expired,) = restored.restore([], d.live_orders(), 10_000)
    assert isinstance(expired, OrderExpired) and expired.order_id == "old"


def test_infinite_radius_reaches_everyone() -> None:
    """With an infinite pickup radius (queue-only models) any free car takes any order."""
    d = fifo(pickup_radius_m=math.inf)
    d.handle(order("o", 0, at_km(300, 0)), 0)
    decisions = d.handle(DriverOnline("car", CENTRE), 1)
    assert isinstance(decisions[0], OrderAssigned)


def test_config_rejects_nonsense() -> None:
    """A negative radius or a zero speed fails with the field named."""
    with pytest.raises(ValueError, match="pickup_radius_m"):
        DispatchConfig(pickup_radius_m=-1)
    with pytest.raises(ValueError, match="speed_mps"):
        DispatchConfig(speed_mps=0)


def test_polar_first_position_still_builds_a_grid() -> None:
    """A polar first position is served like any other: the grid has no reference latitude."""
    d = fifo()
    decisions = d.handle(DriverOnline("svalbard", Position(89.0, 15.0)), 0)
    assert decisions[0].status is DriverStatus.FREE


def test_driver_ending_shift_finishes_the_job_and_takes_no_other() -> None:
    """A busy driver going offline when free completes the trip, then leaves although orders wait."""
    d = fifo()
    d.handle(DriverOnline("car", CENTRE), 0)
    d.handle(order("riding"), 0)
    d.handle(order("waiting", 1), 1)
    assert d.handle(DriverOffline("car", when_free=True), 2) == [DriverLeaving("car", True, 2)]
    assert d.driver_view("car").leaving
    d.handle(DriverArrived("car"), 60)
    decisions = d.handle(TripCompleted("car", at_km(1, 0)), 600)
    assert decisions[1] == DriverStatusChanged("car", DriverStatus.OFFLINE, at_km(1, 0), 600)
    assert [v.order.order_id for v in d.queue_view()] == ["waiting"]
    assert not d.driver_view("car").leaving and d.free_driver_count == 0


def test_coming_back_on_before_the_last_job_ends_cancels_leaving() -> None:
    """DriverOnline for a leaving driver keeps them on; restore keeps a pending leave."""
    d = fifo()
    d.handle(DriverOnline("car", CENTRE), 0)
    d.handle(order("riding"), 0)
    d.handle(DriverOffline("car", when_free=True), 1)
    restored = fifo()
    restored.restore(d.drivers(), d.live_orders(), 2)
    assert restored.driver_view("car").leaving
    assert d.handle(DriverOnline("car", CENTRE), 3) == [DriverLeaving("car", False, 3)]
    assert not d.driver_view("car").leaving
    with pytest.raises(DriverBusy):
        d.handle(DriverOffline("car"), 4)


def test_a_policy_cap_above_the_engines_is_clamped_and_the_order_really_queues() -> None:
    """A policy allowed 900 s under an engine capped at 300 s queues the order at 300 s, in the queue.

    Before the one clamp in the engine, the queue refused the head start after the
    order was registered: a QUEUED order that no car could ever be given.
    """
    d = Dispatcher(make_policy("retention", max_head_start_s=900.0),
                   table_scorer({"loyal": 600.0}), replace(CONFIG, max_head_start_s=300.0))
    (queued,) = d.handle(order("o1", 0, customer_id="loyal"), 0)
    assert isinstance(queued, OrderQueued) and queued.head_start_s == 300.0
    assert [v.order.order_id for v in d.queue_view()] == ["o1"] and d.queue_length == 1
    (assigned, *_) = d.handle(DriverOnline("car", CENTRE), 5)
    assert isinstance(assigned, OrderAssigned) and assigned.order_id == "o1"


def test_a_handler_taken_once_decides_as_handle_does() -> None:
    """`Dispatcher.handler` is what `handle` calls: the same decisions, the same state."""
    by_handle, by_handler = fifo(), fifo()
    steps = [(DriverOnline("car", at_km(1, 0)), 0.0), (order("o1", 5, CENTRE, "c1"), 5.0),
             (DriverArrived("car"), 60.0), (TripCompleted("car", at_km(2, 0), fare=9.0), 300.0)]
    for command, now in steps:
        assert by_handler.handler(type(command))(command, now) == by_handle.handle(command, now)
    assert snapshot(by_handler) == snapshot(by_handle)
    with pytest.raises(InvalidCommand):
        by_handle.handler(object)  # type: ignore[arg-type]
