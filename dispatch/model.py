"""Core values shared by every layer: orders, drivers, scores and decisions.

Everything here is a record (`dispatch.values.record`: a slotted dataclass that
mypy --strict keeps immutable) or a string enum, so that the same values travel
unchanged from the dispatcher to the simulator, the database and the websocket
console. Times are seconds on whatever clock the
shell chooses (unix time live, simulated seconds in the simulator): the core
never reads a clock itself.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from dispatch.values import record


class OrderStatus(StrEnum):
    """Lifecycle of an order; the last four are terminal."""

    SCHEDULED = "scheduled"  # pre-booked, waiting for its release time
    QUEUED = "queued"
    ASSIGNED = "assigned"
    PICKED_UP = "picked_up"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    ABANDONED = "abandoned"
    REJECTED = "rejected"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_ORDER_STATUSES


TERMINAL_ORDER_STATUSES = frozenset(
    {OrderStatus.COMPLETED, OrderStatus.CANCELLED, OrderStatus.ABANDONED, OrderStatus.REJECTED}
)


class DriverStatus(StrEnum):
    OFFLINE = "offline"
    FREE = "free"
    EN_ROUTE = "en_route"
    ON_TRIP = "on_trip"


class FailureCause(StrEnum):
    """Why an order failed the customer. A customer's own cancellation is not a failure."""

    NO_CAR = "no_car"
    ABANDONED = "abandoned"
    REJECTED_BY_POLICY = "rejected_by_policy"
    DISPATCHER_CANCELLED = "dispatcher_cancelled"
    DRIVER_NO_SHOW = "driver_no_show"

    @property
    def terminal_status(self) -> OrderStatus:
        """The status an order ends in when it fails for this cause."""
        return _STATUS_BY_CAUSE[self]


_STATUS_BY_CAUSE = {
    FailureCause.NO_CAR: OrderStatus.REJECTED,
    FailureCause.ABANDONED: OrderStatus.ABANDONED,
    FailureCause.REJECTED_BY_POLICY: OrderStatus.REJECTED,
    FailureCause.DISPATCHER_CANCELLED: OrderStatus.CANCELLED,
    FailureCause.DRIVER_NO_SHOW: OrderStatus.CANCELLED,
}


class Tier(StrEnum):
    """Neutral words an operator may see. None of them ranks a customer as worth less."""

    NEW = "new"
    OCCASIONAL = "occasional"
    REGULAR = "regular"
    AT_RISK = "at risk"
    VIP = "VIP"


@record
class Position:
    lat: float
    lon: float


@record
class Order:
    """A request for a car.

    `requested_at` is when the customer asked; `pickup_at` is set only for a
    pre-booked order and is the time the customer wants the car. The queue
    ages a pre-booked order from `pickup_at`, so booking days ahead buys no
    priority over people calling now.
    """

    order_id: str
    customer_id: str | None
    pickup: Position
    requested_at: float
    pickup_at: float | None = None
    dropoff: Position | None = None

    @property
    def due_at(self) -> float:
        return self.requested_at if self.pickup_at is None else self.pickup_at


@record
class PriorityScore:
    """What a scorer says about a caller at the moment of the call.

    `head_start_s` is the scorer's recommended head start (retention-aware,
    already capped); `value` and `value_at_risk` are in the firm's currency so
    that value-only and reservation policies can use them; `tier` and `reason`
    are for the operator's screen only. `leave_rise` is how much failing this
    order raises the chance that the caller leaves (a probability, what the
    `heads` policy ranks by: customers rather than revenue), and `first_order`
    says the caller has no completed trip yet (the first-order floor's test).
    """

    head_start_s: float
    tier: Tier
    reason: str
    value: float = 0.0
    value_at_risk: float = 0.0
    leave_rise: float = 0.0
    first_order: bool = False


NEUTRAL_SCORE = PriorityScore(head_start_s=0.0, tier=Tier.NEW, reason="no history")

Scorer = Callable[[str | None, float], PriorityScore]
"""(customer_id, now) -> score; customer_id is None for a withheld number.

It must answer for ids it has never seen (the new-customer score), never
raise. `now` is passed in because the core owns no clock and scores decay.
"""


def neutral_scorer(customer_id: str | None, now: float) -> PriorityScore:
    """A scorer that gives everyone the same zero head start (plain FIFO)."""
    return NEUTRAL_SCORE


@record
class DriverView:
    """A read-only snapshot of a driver for shells and consoles."""

    driver_id: str
    status: DriverStatus
    position: Position
    order_id: str | None
    leaving: bool = False  # goes offline when the current job ends
    next_order_id: str | None = None  # promised to this car when its job ends (dispatch.holds)


@record
class QueuedOrderView:
    """A waiting order as the console shows it, in service order."""

    order: Order
    effective_at: float
    head_start_s: float
    tier: Tier
    reason: str


@record
class OrderView:
    """An order's current state, including the score it was queued with."""

    order: Order
    status: OrderStatus
    driver_id: str | None
    failure_cause: FailureCause | None
    score: PriorityScore
    head_start_s: float
    held_for: str | None = None  # a QUEUED order promised to this busy driver (dispatch.holds)
