from __future__ import annotations

import pytest

from dispatch.commands import DriverMoved, DriverOnline
from dispatch.decisions import OrderAssigned
from dispatch.engine import DispatchConfig, Dispatcher
from dispatch.policies import make_policy
from dispatch.zone import IdleCarQueue, ZoneWaitingOrders
from tests.dispatch.helpers import CENTRE, at_km, order


def test_idle_car_queue_serves_the_car_free_longest() -> None:
    """Cars leave the zone queue in the order they became free; a move keeps a car's place."""
    cars = IdleCarQueue()
    cars.upsert("first", at_km(5, 0))
    cars.upsert("second", CENTRE)
    cars.upsert("first", at_km(6, 0))
    assert [d for _, d in cars.nearest(CENTRE, k=2)] == ["first", "second"]
    assert cars.nearest(CENTRE, k=2)[1] == (0.0, "second")
    cars.remove("first")
    assert [d for _, d in cars.nearest(CENTRE)] == ["second"] and len(cars) == 1
    with pytest.raises(KeyError):
        cars.remove("first")


def test_zone_waiting_orders_skip_what_the_policy_refuses() -> None:
    """The zone queue answers with its head unless the policy refuses it, then the next admissible."""
    waiting = ZoneWaitingOrders(300.0)
    waiting.push("a", CENTRE, 10.0, 0.0, 1)
    waiting.push("b", at_km(50, 0), 20.0, 0.0, 2)
    assert waiting.best_for(CENTRE, 1.0, lambda _: True) == "a"
    assert waiting.best_for(CENTRE, 1.0, lambda oid: oid == "b") == "b"
    assert waiting.best_for(CENTRE, 1.0, lambda _: False) is None
    waiting.remove("a")
    waiting.remove("b")
    assert waiting.best_for(CENTRE, 1.0, lambda _: True) is None


def test_zone_dispatcher_gives_the_longest_idle_car_regardless_of_distance() -> None:
    """In zone mode any free car takes any order, longest idle first, and the ETA still uses distance."""
    d = Dispatcher(make_policy("fifo"), config=DispatchConfig(spatial=False, pickup_radius_m=10))
    d.handle(DriverOnline("far-and-idle", at_km(40, 0)), 0)
    d.handle(DriverOnline("near", CENTRE), 5)
    assigned = d.handle(order("o1", 10), 10)[0]
    assert isinstance(assigned, OrderAssigned) and assigned.driver_id == "far-and-idle"
    assert assigned.dist_m == pytest.approx(40_000, rel=0.01)
    d.handle(order("o2", 11, at_km(-30, 0)), 11)
    d.handle(order("o3", 12), 12)
    assert [v.order.order_id for v in d.queue_view()] == ["o3"]
    assert d.handle(DriverMoved("far-and-idle", CENTRE), 13) == []
    assert d.handle(DriverOnline("late", at_km(99, 0)), 14)[0].order_id == "o3"
