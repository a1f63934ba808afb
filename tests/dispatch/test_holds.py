"""Orders promised to a car about to become free (AssignNext), in the core the simulator also runs."""

from __future__ import annotations

import pytest

from dispatch.commands import (
    AssignManually,
    AssignNext,
    CancelHold,
    CancelOrder,
    DriverArrived,
    DriverOffline,
    DriverOnline,
    OverridePriority,
    Tick,
    TripCompleted,
)
from dispatch.config import DispatchConfig
from dispatch.decisions import OrderAssigned, OrderExpired, OrderHeld, OrderHoldReleased
from dispatch.engine import Dispatcher
from dispatch.errors import DomainError, InvalidTransition
from dispatch.model import DriverStatus, OrderStatus
from dispatch.policies import make_policy
from tests.dispatch.helpers import CENTRE, at_km, order


def on_a_trip() -> Dispatcher:
    """Car `busy` carries a passenger near CENTRE; `waiting` and `other` are queued (no free car)."""
    d = Dispatcher(make_policy("fifo"), config=DispatchConfig(pickup_radius_m=3000, max_wait_s=1200))
    d.handle(DriverOnline("busy", CENTRE), 0)
    d.handle(order("trip", 0), 0)
    d.handle(DriverArrived("busy"), 60)
    d.handle(order("waiting", 100, at_km(0.5, 0)), 100)
    d.handle(order("other", 110, at_km(0.6, 0)), 110)
    return d


def test_a_promised_order_leaves_the_queue_and_goes_to_its_car_when_the_trip_ends() -> None:
    """No other car takes it meanwhile; the trip's end hands it over as a manual assignment."""
    d = on_a_trip()
    (held,) = d.handle(AssignNext("waiting", "busy"), 120)
    assert isinstance(held, OrderHeld) and held.driver_id == "busy"
    assert [v.order.order_id for v in d.queue_view()] == ["other"]
    view = d.order_view("waiting")
    assert view.status is OrderStatus.QUEUED and view.held_for == "busy"
    assert d.driver_view("busy").next_order_id == "waiting"
    taken = d.handle(DriverOnline("near", at_km(0.5, 0)), 130)  # a free car next to it takes "other"
    assert [x.order_id for x in taken if isinstance(x, OrderAssigned)] == ["other"]
    done = d.handle(TripCompleted("busy", at_km(0.4, 0), 9.0), 400)
    (assigned,) = [x for x in done if isinstance(x, OrderAssigned)]
    assert (assigned.order_id, assigned.driver_id, assigned.manual) == ("waiting", "busy", True)
    assert (
        d.driver_view("busy").status is DriverStatus.EN_ROUTE and d.driver_view("busy").next_order_id is None
    )


def test_a_car_en_route_whose_job_is_cancelled_takes_its_promised_order_at_once() -> None:
    """The car's current order is cancelled: it is free now, so the promise is kept now."""
    d = on_a_trip()
    d.handle(DriverOnline("enroute", at_km(20, 0)), 100)  # out of reach of the waiting orders
    d.handle(order("far", 101, at_km(20.5, 0)), 101)
    assert d.driver_view("enroute").status is DriverStatus.EN_ROUTE
    d.handle(AssignNext("other", "enroute"), 120)
    decisions = d.handle(CancelOrder("far"), 130)
    assert [(x.order_id, x.driver_id) for x in decisions if isinstance(x, OrderAssigned)] == [
        ("other", "enroute")
    ]


def test_taking_the_promise_back_or_the_driver_leaving_returns_the_order_to_its_place() -> None:
    """CancelHold, or the driver asking to go offline after the job: back in the queue with its key,
    ahead of the later caller, and a free car in reach takes it at once."""
    d = on_a_trip()
    key_before = [v.effective_at for v in d.queue_view() if v.order.order_id == "waiting"]
    d.handle(AssignNext("waiting", "busy"), 120)
    (released,) = d.handle(CancelHold("waiting"), 130)
    assert isinstance(released, OrderHoldReleased) and released.driver_id == "busy"
    assert [v.order.order_id for v in d.queue_view()] == ["waiting", "other"]
    assert [v.effective_at for v in d.queue_view()][:1] == key_before
    d.handle(AssignNext("waiting", "busy"), 140)
    leaving = d.handle(DriverOffline("busy", when_free=True), 150)
    assert [type(x).__name__ for x in leaving] == ["DriverLeaving", "OrderHoldReleased"]
    assert d.order_view("waiting").held_for is None and d.queue_length == 2
    with pytest.raises(InvalidTransition):  # a leaving driver takes no promise
        d.handle(AssignNext("other", "busy"), 151)
    d.handle(DriverOnline("busy", CENTRE), 152)  # stays on after all
    d.handle(AssignNext("waiting", "busy"), 153)
    d.handle(DriverOnline("free", at_km(0.5, 0.1)), 154)  # takes "other" (waiting is promised)
    assert d.driver_view("free").order_id == "other"
    d.handle(DriverOnline("spare", at_km(0.5, 0.2)), 156)  # free, in reach, but "waiting" is promised
    assert d.driver_view("spare").status is DriverStatus.FREE
    decisions = d.handle(CancelHold("waiting"), 160)  # back: the free car in reach takes it now
    assert [type(x).__name__ for x in decisions][:2] == ["OrderHoldReleased", "OrderAssigned"]
    assert d.order_view("waiting").driver_id == "spare"


def test_refused_promises_change_nothing() -> None:
    """A free or offline driver, a second promise to one car, an order already promised or assigned:
    each an InvalidTransition naming why, refused without a trace."""
    d = on_a_trip()
    d.handle(DriverOnline("idle", at_km(9, 9)), 115)
    d.handle(DriverOnline("gone", at_km(9, 9)), 115)
    d.handle(DriverOffline("gone"), 116)
    d.handle(AssignNext("waiting", "busy"), 120)
    before = (d.queue_view(), sorted(map(repr, d.live_orders())), d.drivers())
    for command, why in (
        (AssignNext("other", "idle"), "is free"),
        (AssignNext("other", "gone"), "is offline"),
    ):
        with pytest.raises(InvalidTransition, match=why):
            d.handle(command, 121)
    for command in (AssignNext("other", "busy"), AssignNext("waiting", "busy"), AssignNext("trip", "busy"),
                    CancelHold("other")):  # fmt: skip
        with pytest.raises(InvalidTransition):
            d.handle(command, 121)
    assert (d.queue_view(), sorted(map(repr, d.live_orders())), d.drivers()) == before


def test_a_promised_order_can_still_be_cancelled_expire_be_reprioritised_or_go_to_a_free_car() -> None:
    """Each clears the car's promise: the car then goes free as usual at the end of its trip."""
    d = on_a_trip()
    d.handle(AssignNext("waiting", "busy"), 120)
    d.handle(OverridePriority("waiting", 60, "regular, cold night"), 121)
    assert d.order_view("waiting").head_start_s == 60
    d.handle(DriverOnline("free", at_km(8, 0)), 122)
    (assigned, _) = d.handle(AssignManually("waiting", "free"), 123)
    assert isinstance(assigned, OrderAssigned) and d.driver_view("busy").next_order_id is None
    d.handle(AssignNext("other", "busy"), 124)
    expired = d.handle(Tick(), 110 + 1200)
    assert any(isinstance(x, OrderExpired) and x.order_id == "other" for x in expired)
    assert d.driver_view("busy").next_order_id is None
    d.handle(order("late", 1400, at_km(0.5, 0)), 1400)
    d.handle(AssignNext("late", "busy"), 1401)
    d.handle(CancelOrder("late"), 1402)
    done = d.handle(TripCompleted("busy", CENTRE, 5.0), 1500)
    assert d.driver_view("busy").status is DriverStatus.FREE and not any(
        isinstance(x, OrderAssigned) for x in done
    )


def test_a_promise_survives_a_restart() -> None:
    """Restored from the views a shell persisted, the order is still promised to the same car."""
    d = on_a_trip()
    d.handle(AssignNext("waiting", "busy"), 120)
    fresh = Dispatcher(make_policy("fifo"), config=d.config)
    fresh.restore(d.drivers(), d.live_orders(), 130)
    assert fresh.order_view("waiting").held_for == "busy" and fresh.queue_length == 1
    done = fresh.handle(TripCompleted("busy", CENTRE, 5.0), 200)
    assert [(x.order_id, x.driver_id) for x in done if isinstance(x, OrderAssigned)] == [("waiting", "busy")]


def test_every_refusal_is_a_domain_error() -> None:
    """The shell maps DomainError to 4xx: an unknown order or driver is one too."""
    d = on_a_trip()
    for command in (AssignNext("nope", "busy"), AssignNext("waiting", "nobody"), CancelHold("nope")):
        with pytest.raises(DomainError):
            d.handle(command, 121)
