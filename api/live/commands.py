"""What HTTP handlers ask the live dispatcher service to do, as plain data.

These are the writer's whole input: frozen values with no sessions, requests or
callbacks inside, so that the scale-out set-up can put the same values on a
Redis stream and have the leader's consumer feed them to the same service.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatch.commands import Command
from dispatch.model import Position


class RequestProblem(Exception):
    """Bad input the writer found (it needs the store to see it): a 422 naming the field."""

    def __init__(self, loc: tuple[str, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message


class NotFound(Exception):
    """The request names a row that does not exist: a 404."""


class Conflict(Exception):
    """The request contradicts the stored state: a 409."""


@dataclass(frozen=True, slots=True)
class OrderIntake:
    """A validated order request; `phone` is the raw caller number as typed or sent."""

    pickup: Position
    pickup_address: str | None = None
    dropoff: Position | None = None
    dropoff_address: str | None = None
    pickup_at: float | None = None
    phone: str | None = None
    customer_id: str | None = None
    customer_name: str | None = None
    call_id: str | None = None
    allow_duplicate: bool = False
    confirmed: bool = False  # the operator confirmed a flagged caller (api.live.customer_care)


@dataclass(frozen=True, slots=True)
class SubmitOrder:
    intake: OrderIntake
    actor: str
    source: str = "api"
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class Apply:
    """A dispatch command from outside (an operator, a driver app); `cause` goes to the audit log."""

    command: Command
    actor: str
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class ForgetCustomer:
    customer_id: str
    actor: str


@dataclass(frozen=True, slots=True)
class TickIfDue:
    """Send the engine a Tick if a max-wait expiry or a pre-booking release is due."""


@dataclass(frozen=True, slots=True)
class PurgeCalls:
    retention_days: int


LiveCommand = SubmitOrder | Apply | ForgetCustomer | TickIfDue | PurgeCalls
