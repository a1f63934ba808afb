"""Commands, views and errors cross the wire between replicas unchanged, as JSON only."""

from __future__ import annotations

import json

import pytest

from api.cluster import codec
from api.console.state import EngineView
from api.live.commands import (
    Apply,
    Conflict,
    ForgetCustomer,
    OrderIntake,
    PurgeCalls,
    RequestProblem,
    SubmitOrder,
    TickIfDue,
)
from api.live.service import StoreUnavailable
from dispatch import commands as c
from dispatch.errors import DriverBusy, UnknownOrder
from dispatch.model import (
    DriverStatus,
    DriverView,
    FailureCause,
    Order,
    OrderStatus,
    OrderView,
    Position,
    PriorityScore,
    QueuedOrderView,
    Tier,
)

HERE = Position(50.06, 19.94)
COMMANDS = [
    SubmitOrder(
        OrderIntake(HERE, "Rynek 1", Position(50.0, 19.9), 1.7e9, "+48 600 100 200"), "op", "phone", "k"
    ),
    Apply(c.CancelOrder("o1", FailureCause.NO_CAR), "op", "why"),
    Apply(c.CancelOrder("o1"), "op"),
    Apply(c.DriverOnline("d1", HERE), "driver:d1"),
    Apply(c.DriverOffline("d1", when_free=True), "driver:d1"),
    Apply(c.TripCompleted("d1", HERE, 12.5), "driver:d1"),
    Apply(c.OverridePriority("o1", 60.0, "VIP"), "op", "VIP"),
    Apply(c.AssignManually("o1", "d1"), "op"),
    ForgetCustomer("c1", "admin"),
    TickIfDue(),
    PurgeCalls(90),
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: type(command).__name__)
def test_every_command_round_trips_equal(command: object) -> None:
    """What the accepting replica sends is what the leader's writer gets."""
    assert codec.loads(codec.dumps(command)) == command


def test_an_engine_view_round_trips_with_its_enums() -> None:
    """The console snapshot read from the leader's engine arrives as the same values."""
    order = Order("o1", None, HERE, 1.0, None, None)
    score = PriorityScore(120.0, Tier.REGULAR, "a regular", 3.0, 1.0)
    view = EngineView(
        [QueuedOrderView(order, -119.0, 120.0, Tier.REGULAR, "a regular")],
        [DriverView("d1", DriverStatus.FREE, HERE, None)],
        [OrderView(order, OrderStatus.ASSIGNED, "d1", None, score, 120.0)],
    )
    back = codec.loads(codec.dumps(view))
    assert back == view and isinstance(back.drivers[0].status, DriverStatus)


def test_errors_come_back_as_the_same_class_and_message() -> None:
    """A 404, 409 or 422 on the leader is the same answer on the replica that took the request."""
    for error in (UnknownOrder("o9"), DriverBusy("d1", "assigned"), Conflict("done"), StoreUnavailable("db")):
        back = codec.error_from_wire(codec.error_to_wire(error))
        assert type(back) is type(error) and str(back) == str(error)
    problem = codec.error_from_wire(codec.error_to_wire(RequestProblem(("body", "phone"), "bad")))
    assert isinstance(problem, RequestProblem) and problem.loc == ("body", "phone")
    assert type(codec.error_from_wire(codec.error_to_wire(ZeroDivisionError("x")))) is StoreUnavailable


def test_only_registered_types_cross_the_wire() -> None:
    """A message naming any other class is refused, so Redis cannot make a replica build arbitrary objects."""
    with pytest.raises(codec.CodecError):
        codec.loads(json.dumps({"$t": "Popen", "args": ["sh"]}))
    with pytest.raises(codec.CodecError):
        codec.dumps(object())
