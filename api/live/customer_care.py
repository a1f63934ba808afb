"""What operators keep about a customer beyond their orders: notes, and "confirm before serving".

These run on the writer like every other change, for one reason: erasure
(`ForgetCustomer`) runs there too, so a note typed while the customer is
being forgotten is either erased with the rest or refused afterwards, never
written back onto a forgotten customer. Notes are personal data: they never go
into the order event log or a bus event, and forgetting a customer blanks them.

The flag is the firm's "blacklist" (Autocab, TaxiCaller) made softer: the firm
still serves the caller, but only after the operator has confirmed with them
(a deposit, the fare in advance, a word about last time). Every change is
audited with who, when and why; an order for a flagged caller without
`confirmed: true` is refused with a 422 naming that field, so neither an
operator in a hurry nor the phone system's automatic order can skip it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col

from api.caller_index import CUSTOMER_UPDATED
from api.events import Event
from api.models import Customer, CustomerFlagEvent, Order, OrderEvent, from_epoch_s

from .commands import Conflict, NotFound, RequestProblem, SubmitOrder


@dataclass(frozen=True, slots=True)
class SetCustomerNotes:
    """Replace a customer's notes; blank text clears them."""

    customer_id: str
    notes: str
    actor: str


@dataclass(frozen=True, slots=True)
class SetConfirmFlag:
    """Set or clear "confirm before serving"; the reason is mandatory either way (audited)."""

    customer_id: str
    confirm_required: bool
    reason: str
    actor: str


def living_customer(session: Session, customer_id: str) -> Customer:
    """The customer, if they exist and have not been forgotten (a 404 or a 409 otherwise)."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"unknown customer {customer_id!r}")
    if customer.forgotten_at is not None:
        raise Conflict(f"customer {customer_id!r} was forgotten: nothing may be written about them")
    return customer


def set_notes(session: Session, request: SetCustomerNotes, now: float) -> tuple[Customer, list[Event]]:
    customer = living_customer(session, request.customer_id)
    customer.notes = request.notes.strip() or None
    customer.notes_updated_at = from_epoch_s(now)
    customer.notes_updated_by = request.actor
    session.add(customer)
    session.flush()
    return customer, [_updated(customer, now)]


def set_flag(session: Session, request: SetConfirmFlag, now: float) -> tuple[Customer, list[Event]]:
    customer = living_customer(session, request.customer_id)
    reason = request.reason.strip()
    customer.confirm_required = request.confirm_required
    customer.confirm_reason = reason if request.confirm_required else None
    session.add(customer)
    session.add(
        CustomerFlagEvent(
            customer_id=customer.id,
            at=from_epoch_s(now),
            actor=request.actor,
            confirm_required=request.confirm_required,
            reason=reason,
        )
    )
    session.flush()
    return customer, [_updated(customer, now)]


def _updated(customer: Customer, now: float) -> Event:
    """Tells the caller index to read the customer again, so the next ring's card shows the change."""
    return Event(CUSTOMER_UPDATED, now, {"customer_id": customer.id})


def check_confirmed(session: Session, customer_id: str | None, confirmed: bool) -> None:
    """A flagged caller's order needs `confirmed: true` (runs before the writer writes anything)."""
    if customer_id is None or confirmed:
        return
    customer = session.get(Customer, customer_id)
    if customer is not None and customer.confirm_required:
        raise RequestProblem(
            ("body", "confirmed"),
            f"this customer is flagged confirm before serving ({customer.confirm_reason}): "
            "confirm with the caller and send confirmed: true",
        )


def note_confirmed(session: Session, row: Order, request: SubmitOrder, now: float) -> None:
    """The order of a flagged caller records who confirmed it (an event, no personal data)."""
    customer = None if row.customer_id is None else session.get(Customer, row.customer_id)
    if customer is None or not customer.confirm_required:
        return
    session.add(
        OrderEvent(order_id=row.id, at=from_epoch_s(now), kind="confirmed", actor=request.actor, payload={})
    )


def erase_care(session: Session, customer: Customer) -> None:
    """Forgetting a customer blanks what operators wrote about them (`intake.forget_customer`):
    the notes, the flag's reason, and the reasons in the flag's audit (who and when stay)."""
    customer.notes = None
    customer.notes_updated_by = None
    customer.confirm_required = False
    customer.confirm_reason = None
    session.execute(
        update(CustomerFlagEvent).where(col(CustomerFlagEvent.customer_id) == customer.id).values(reason=None)
    )


HANDLERS: dict[type[Any], Callable[[Session, Any, float], tuple[Any, list[Event]]]] = {
    SetCustomerNotes: set_notes,
    SetConfirmFlag: set_flag,
}
