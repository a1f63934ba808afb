"""Editing a pre-booked order before its release: a new pickup time, point or address text.

The time and the point are the dispatcher's (`dispatch.commands.RescheduleOrder`:
the release moves, or happens now if the new time is within the lead); the
address text is the store's alone. Both change in one writer transaction, with
the same checks a new pre-booking gets (`intake.check_pickup_time`), so an
edited booking is never one the intake would have refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from api.events import Event
from api.models import Order, epoch_s
from dispatch import commands as c
from dispatch.engine import Dispatcher
from dispatch.model import OrderStatus, Position

from .commands import Conflict, NotFound, OrderIntake
from .intake import check_pickup_time
from .store import DecisionStore


@dataclass(frozen=True, slots=True)
class EditPrebooking:
    """What changes (None: unchanged)."""

    order_id: str
    actor: str
    pickup_at: float | None = None
    pickup: Position | None = None
    pickup_address: str | None = None


def edit_prebooking(
    dispatcher: Dispatcher, store: DecisionStore, session: Session, request: EditPrebooking, now: float
) -> tuple[Order, list[Event]]:
    """Checks first (a 404, a 409, a 422 on `pickup_at`), then the engine, then the writes."""
    row = session.get(Order, request.order_id)
    if row is None:
        raise NotFound(f"unknown order {request.order_id!r}")
    if row.status != OrderStatus.SCHEDULED.value or row.pickup_at is None:
        raise Conflict(f"order {row.id!r} is {row.status}: only a pre-booking not yet released can be edited")
    pickup = request.pickup or Position(row.pickup_lat, row.pickup_lon)
    pickup_at = epoch_s(row.pickup_at) if request.pickup_at is None else request.pickup_at
    check_pickup_time(OrderIntake(pickup=pickup, pickup_at=pickup_at), now)
    decisions = dispatcher.handle(
        c.RescheduleOrder(row.id, pickup_at, pickup), now
    )  # nothing changed on a refusal
    if request.pickup_address is not None:
        row.pickup_address = request.pickup_address
        session.add(row)
    events = store.persist(session, decisions, dispatcher, request.actor, now)
    session.flush()
    return row, events


def handlers(writer: Any) -> dict[type[Any], Any]:
    """The writer's handler for `EditPrebooking`, bound to its engine and store."""
    return {
        EditPrebooking: lambda session, request, now: edit_prebooking(
            writer.dispatcher, writer.store, session, request, now
        )
    }
