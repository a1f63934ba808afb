"""Decisions: what the dispatcher did, as plain data, in the order it did it.

Every state change of an order or a driver is reported, so that a shell can
persist the list, publish it, and rebuild the same state later without
asking the engine anything else.
"""

from __future__ import annotations

from dispatch.model import DriverStatus, FailureCause, Order, Position, PriorityScore
from dispatch.values import record


@record
class OrderScheduled:
    """A pre-booked order waits for `release_at` before it competes for cars."""

    order: Order
    release_at: float
    at: float


@record
class OrderRescheduled:
    """A pre-booked order moved: `order` as it is now, released at `release_at` (at once if past)."""

    order: Order
    release_at: float
    at: float


@record
class OrderQueued:
    order: Order
    score: PriorityScore
    head_start_s: float
    effective_at: float
    at: float


@record
class OrderAssigned:
    order_id: str
    driver_id: str
    eta_s: float
    dist_m: float
    at: float
    manual: bool = False


@record
class OrderRejected:
    """Refused at the door (the status quo "sorry, no free cars", or a policy rule)."""

    order: Order
    cause: FailureCause
    score: PriorityScore
    at: float


@record
class OrderExpired:
    """Waited longer than the firm's maximum wait without a car."""

    order_id: str
    cause: FailureCause
    waited_s: float
    at: float


@record
class OrderCancelled:
    order_id: str
    cause: FailureCause | None
    driver_id: str | None
    at: float


@record
class OrderPickedUp:
    order_id: str
    driver_id: str
    at: float


@record
class OrderCompleted:
    order_id: str
    driver_id: str
    fare: float | None
    at: float


@record
class OrderHeld:
    """A waiting order is promised to a busy driver (out of the queue, still QUEUED)."""

    order_id: str
    driver_id: str
    at: float


@record
class OrderHoldReleased:
    """A promise undone: the order is back in the queue at `effective_at` (or taken by the next decision)."""

    order_id: str
    driver_id: str
    effective_at: float
    at: float


@record
class PriorityOverridden:
    order_id: str
    old_head_start_s: float
    new_head_start_s: float
    effective_at: float
    reason: str
    at: float


@record
class DriverStatusChanged:
    driver_id: str
    status: DriverStatus
    position: Position
    at: float


@record
class DriverLeaving:
    """A busy driver asked to go offline once the job in hand ends (or took it back)."""

    driver_id: str
    leaving: bool
    at: float


Decision = (
    OrderScheduled
    | OrderRescheduled
    | OrderQueued
    | OrderAssigned
    | OrderRejected
    | OrderExpired
    | OrderCancelled
    | OrderPickedUp
    | OrderCompleted
    | PriorityOverridden
    | OrderHeld
    | OrderHoldReleased
    | DriverStatusChanged
    | DriverLeaving
)
