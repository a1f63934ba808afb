"""An `Idempotency-Key` seen before: the same request again gets the first order, another is a 422.

A retried webhook or a double click must not create a second order, and a key
reused by a buggy client for another caller must not hand them the first
caller's car, so the whole request is compared with what the stored order
recorded, not only its pickup.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from api.models import Call, Customer, Order, epoch_s
from api.phones import normalise_phone
from dispatch.model import Position

from .commands import OrderIntake, RequestProblem, SubmitOrder
from .intake import IntakeResult

_BY_KEY = select(Order).where(col(Order.idempotency_key) == bindparam("key"))


def find_replay(session: Session, request: SubmitOrder, region: str) -> IntakeResult | None:
    """The order an `Idempotency-Key` already produced, if the request is the same one again."""
    key = request.idempotency_key
    if key is None:
        return None
    row = session.exec(_BY_KEY, params={"key": key}).first()
    if row is None:
        return None
    differs = replay_difference(session, row, request.intake, region)
    if differs is not None:
        raise RequestProblem(
            ("header", "Idempotency-Key"), f"key already used for an order with another {differs}"
        )
    return IntakeResult(row, created=False, why_existing="idempotency_key")


def _same_place(lat: float | None, lon: float | None, point: Position | None) -> bool:
    if point is None:
        return lat is None and lon is None
    return (lat, lon) == (point.lat, point.lon)


def replay_difference(session: Session, row: Order, intake: OrderIntake, region: str) -> str | None:
    """The first field in which `intake` differs from what the stored order recorded, or None.

    A retried request is the same request: a key reused for another caller,
    place or time is a client bug that must not hand one customer another's car.
    The name is compared with the customer's stored name (orders keep none).
    """
    e164 = None if intake.phone is None else normalise_phone(intake.phone, region).e164
    checks = (
        ("pickup", _same_place(row.pickup_lat, row.pickup_lon, intake.pickup)),
        ("dropoff", _same_place(row.dropoff_lat, row.dropoff_lon, intake.dropoff)),
        ("pickup_address", row.pickup_address == intake.pickup_address),
        ("dropoff_address", row.dropoff_address == intake.dropoff_address),
        ("pickup_at", _same_time(row.pickup_at, intake.pickup_at)),
        ("phone", intake.phone is None or e164 == row.caller_e164),
        ("customer_id", intake.customer_id is None or intake.customer_id == row.customer_id),
        ("customer_name", _same_name(session, row, intake.customer_name)),
        ("call_id", _same_call(session, row, intake.call_id)),
    )
    return next((name for name, same in checks if not same), None)


def _same_name(session: Session, row: Order, name: str | None) -> bool:
    if name is None or row.customer_id is None:
        return True
    customer = session.get(Customer, row.customer_id)
    return customer is None or customer.display_name in (None, name)


def _same_call(session: Session, row: Order, call_id: str | None) -> bool:
    if call_id is None:
        return True
    call = session.exec(select(Call).where(Call.external_id == call_id)).first()
    return call is not None and call.order_id == row.id


def _same_time(stored: datetime | None, asked: float | None) -> bool:
    if stored is None or asked is None:
        return stored is None and asked is None
    return abs(epoch_s(stored) - asked) < 1e-3  # the store keeps microseconds
