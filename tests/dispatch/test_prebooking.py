"""Moving a pre-booked order before its release (RescheduleOrder), in the core."""

from __future__ import annotations

import pytest

from dispatch.commands import CancelOrder, DriverOnline, RescheduleOrder, Tick
from dispatch.config import DispatchConfig
from dispatch.decisions import OrderAssigned, OrderCancelled, OrderQueued, OrderRescheduled
from dispatch.engine import Dispatcher
from dispatch.errors import InvalidCommand, InvalidTransition
from dispatch.model import OrderStatus
from dispatch.policies import make_policy
from tests.dispatch.helpers import CENTRE, at_km, order

LEAD_S = 600.0


def dispatcher() -> Dispatcher:
    return Dispatcher(make_policy("fifo"), config=DispatchConfig(pickup_radius_m=3000, prebook_lead_s=LEAD_S))


def test_a_later_pickup_moves_the_release_and_the_old_timer_does_nothing() -> None:
    """From 3600 to 7200: the release moves from 3000 to 6600; a tick at 3000 releases nothing."""
    d = dispatcher()
    d.handle(order("pre", 0, pickup_at=3600), 0)
    (moved,) = d.handle(RescheduleOrder("pre", 7200, CENTRE), 100)
    assert isinstance(moved, OrderRescheduled) and moved.release_at == 6600 and moved.order.pickup_at == 7200
    assert d.next_timer_at() == 6600
    assert d.handle(Tick(), 3000) == []
    assert d.order_view("pre").status is OrderStatus.SCHEDULED
    (queued,) = d.handle(Tick(), 6600)
    assert isinstance(queued, OrderQueued) and queued.order.pickup_at == 7200


def test_a_pickup_within_the_lead_releases_it_at_once_from_the_new_point() -> None:
    """Moved to 5 minutes from now and 2 km north: released now, and the car near the new point takes it."""
    d = dispatcher()
    d.handle(DriverOnline("north", at_km(2.2, 0)), 0)
    d.handle(order("pre", 0, pickup_at=3600, where=at_km(-2.5, 0)), 0)
    moved, assigned, _status = d.handle(RescheduleOrder("pre", 400, at_km(2, 0)), 100)
    assert isinstance(moved, OrderRescheduled) and moved.release_at <= 100
    assert isinstance(assigned, OrderAssigned) and assigned.driver_id == "north"
    assert d.order_view("pre").order.pickup == at_km(2, 0)


def test_a_rescheduled_order_is_restored_with_its_new_time() -> None:
    """After a restart the stored pickup time, not the first one, sets the release."""
    d = dispatcher()
    d.handle(order("pre", 0, pickup_at=3600), 0)
    d.handle(RescheduleOrder("pre", 9000, CENTRE), 10)
    fresh = dispatcher()
    fresh.restore([], d.live_orders(), 20)
    assert fresh.next_timer_at() == 9000 - LEAD_S


@pytest.mark.parametrize("pickup_at", [float("nan"), float("inf")])
def test_only_a_waiting_pre_booking_can_move_and_only_to_a_real_time(pickup_at: float) -> None:
    """A queued order is an InvalidTransition, a cancelled one unknown; a time that is not finite is an
    InvalidCommand; nothing changes on a refusal."""
    d = dispatcher()
    d.handle(order("now", 0), 0)
    with pytest.raises(InvalidTransition):
        d.handle(RescheduleOrder("now", 5000, CENTRE), 1)
    d.handle(order("pre", 0, pickup_at=3600), 0)
    with pytest.raises(InvalidCommand):
        d.handle(RescheduleOrder("pre", pickup_at, CENTRE), 1)
    assert d.order_view("pre").order.pickup_at == 3600
    (cancelled,) = d.handle(CancelOrder("pre"), 2)
    assert isinstance(cancelled, OrderCancelled)
    assert [decision.order_id for decision in d.handle(Tick(), 3000)] == ["now"]  # its expiry, no release
