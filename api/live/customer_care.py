"""What operators keep about a customer beyond their orders: free-text notes.

These run on the writer like every other change, for one reason: erasure
(`ForgetCustomer`) runs there too, so a note typed while the customer is
being forgotten is either erased with the rest or refused afterwards, never
written back onto a forgotten customer. Notes are personal data: they never go
into the order event log or a bus event, and forgetting a customer blanks them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from api.events import Event
from api.models import Customer, from_epoch_s

from .commands import Conflict, NotFound


@dataclass(frozen=True, slots=True)
class SetCustomerNotes:
    """Replace a customer's notes; blank text clears them."""

    customer_id: str
    notes: str
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
    return customer, []


def erase_care(customer: Customer) -> None:
    """Forgetting a customer blanks what operators wrote about them (`intake.forget_customer`)."""
    customer.notes = None
    customer.notes_updated_by = None


HANDLERS: dict[type[Any], Callable[[Session, Any, float], tuple[Any, list[Event]]]] = {
    SetCustomerNotes: set_notes,
}
