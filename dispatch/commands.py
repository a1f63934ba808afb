"""Commands: everything that can happen to the dispatcher, as plain data.

The dispatcher is a single writer. Shells (the live server, the simulator,
later a Redis-stream consumer on the leader) turn the outside world into these
values and feed them to `Dispatcher.handle(command, now)` one at a time; that
is the whole interface, which is what lets the same engine run live, in the
simulator, and behind a leader lease.
"""

from __future__ import annotations

from dispatch.model import FailureCause, Order, Position
from dispatch.values import record


@record
class PlaceOrder:
    order: Order


@record
class CancelOrder:
    """`cause=None` is the customer's own cancellation, which is not a failure."""

    order_id: str
    cause: FailureCause | None = None


@record
class DriverOnline:
    driver_id: str
    position: Position


@record
class DriverOffline:
    """End of shift. A busy driver may ask to go offline `when_free`: they finish the
    current job and then leave instead of being handed another."""

    driver_id: str
    when_free: bool = False


@record
class DriverMoved:
    driver_id: str
    position: Position


@record
class DriverArrived:
    """The driver reached the pickup and the customer got in."""

    driver_id: str


@record
class TripCompleted:
    """The trip ended; the driver is free again at `position`."""

    driver_id: str
    position: Position
    fare: float | None = None


@record
class AssignManually:
    """An operator gives an order to a chosen driver, bypassing the queue order."""

    order_id: str
    driver_id: str


@record
class AssignNext:
    """An operator promises a waiting order to a busy car: it is handed over when the car's job ends."""

    order_id: str
    driver_id: str


@record
class CancelHold:
    """An operator takes a promised order back: it returns to its place in the queue."""

    order_id: str


@record
class OverridePriority:
    """An operator sets a waiting order's head start; the reason is mandatory and audited."""

    order_id: str
    head_start_s: float
    reason: str


@record
class RescheduleOrder:
    """An operator moves a pre-booked order (its pickup time, its pickup point) before it is released."""

    order_id: str
    pickup_at: float
    pickup: Position


@record
class Tick:
    """Time passed: expire orders past their max wait, release due pre-bookings."""


Command = (
    PlaceOrder
    | CancelOrder
    | DriverOnline
    | DriverOffline
    | DriverMoved
    | DriverArrived
    | TripCompleted
    | AssignManually
    | AssignNext
    | CancelHold
    | OverridePriority
    | RescheduleOrder
    | Tick
)
