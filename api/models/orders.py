"""Orders and their append-only event log.

An order row carries every field of `dispatch.model.Order` plus what the
dispatcher decided about it (status, driver, failure cause, the score it was
queued with and the head start it got), so that the live dispatcher can be
rebuilt from the table after a restart (`order_view`). The full story of how
it got there is in `order_events`: one row per state change, with time, actor,
cause and a payload, never updated or deleted (the mapper refuses both).
Personal data (names, numbers, address text) stays out of event payloads, so
forgetting a customer never has to rewrite the log.

`idempotency_key` is unique: a redial or a retried webhook carrying the same
key finds the first order instead of creating a second one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapper
from sqlmodel import Field, SQLModel

from api.models.columns import UtcDateTime, epoch_s, new_id, utc_now
from api.models.customers import MAX_ADDRESS_CHARS
from dispatch import model as core


class OrderBase(SQLModel):
    pickup_lat: float = Field(ge=-90, le=90)
    pickup_lon: float = Field(ge=-180, le=180)
    pickup_address: str | None = Field(default=None, max_length=MAX_ADDRESS_CHARS)
    dropoff_lat: float | None = Field(default=None, ge=-90, le=90)
    dropoff_lon: float | None = Field(default=None, ge=-180, le=180)
    dropoff_address: str | None = Field(default=None, max_length=MAX_ADDRESS_CHARS)
    pickup_at: datetime | None = Field(
        default=None, sa_type=UtcDateTime, description="set only for a pre-booked order"
    )


class OrderCreate(OrderBase):
    phone: str | None = Field(
        default=None, max_length=64, description="caller's number in any format; none: anonymous"
    )
    customer_id: str | None = Field(default=None, max_length=32)


class Order(OrderBase, table=True):
    __tablename__ = "orders"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    customer_id: str | None = Field(default=None, foreign_key="customers.id", index=True, max_length=32)
    caller_e164: str | None = Field(default=None, max_length=16)
    requested_at: datetime = Field(sa_type=UtcDateTime, index=True)
    status: str = Field(max_length=16, index=True)
    driver_id: str | None = Field(default=None, foreign_key="drivers.id", index=True, max_length=64)
    # A waiting order promised to this busy car, handed over when its job ends (dispatch.holds).
    next_driver_id: str | None = Field(default=None, foreign_key="drivers.id", index=True, max_length=64)
    failure_cause: str | None = Field(default=None, max_length=32)
    head_start_s: float = 0.0
    score_head_start_s: float = 0.0
    tier: str | None = Field(default=None, max_length=16)
    reason: str | None = Field(default=None, max_length=300)
    value: float = 0.0
    value_at_risk: float = 0.0
    fare: float | None = Field(default=None, ge=0)
    fare_estimate: float | None = Field(default=None, ge=0, description="the tariff's quote (KEEPCAB_FARE_*)")
    eta_s: float | None = None
    dist_m: float | None = None
    source: str = Field(default="api", max_length=16)
    idempotency_key: str | None = Field(default=None, max_length=200, unique=True)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    assigned_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    picked_up_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class OrderPublic(OrderBase):
    id: str
    customer_id: str | None
    requested_at: datetime
    status: core.OrderStatus
    driver_id: str | None
    next_driver_id: str | None = None
    failure_cause: core.FailureCause | None
    head_start_s: float
    tier: core.Tier | None
    reason: str | None
    fare: float | None
    fare_estimate: float | None = None
    eta_s: float | None
    source: str
    created_at: datetime
    assigned_at: datetime | None
    picked_up_at: datetime | None
    ended_at: datetime | None


def to_core_order(row: Order) -> core.Order:
    """The dispatch core's view of a stored order (times as epoch seconds)."""
    dropoff = None
    if row.dropoff_lat is not None and row.dropoff_lon is not None:
        dropoff = core.Position(row.dropoff_lat, row.dropoff_lon)
    return core.Order(
        order_id=row.id,
        customer_id=row.customer_id,
        pickup=core.Position(row.pickup_lat, row.pickup_lon),
        requested_at=epoch_s(row.requested_at),
        pickup_at=None if row.pickup_at is None else epoch_s(row.pickup_at),
        dropoff=dropoff,
    )


def order_view(row: Order) -> core.OrderView:
    """What `Dispatcher.restore` needs to rebuild a live order after a restart."""
    score = core.PriorityScore(
        head_start_s=row.score_head_start_s,
        tier=core.Tier(row.tier) if row.tier else core.Tier.NEW,
        reason=row.reason or "",
        value=row.value,
        value_at_risk=row.value_at_risk,
    )
    return core.OrderView(
        order=to_core_order(row),
        status=core.OrderStatus(row.status),
        driver_id=row.driver_id,
        failure_cause=core.FailureCause(row.failure_cause) if row.failure_cause else None,
        score=score,
        head_start_s=row.head_start_s,
        held_for=row.next_driver_id,
    )


class OrderEventBase(SQLModel):
    order_id: str | None = Field(default=None, foreign_key="orders.id", index=True, max_length=32)
    driver_id: str | None = Field(default=None, max_length=64, index=True)
    at: datetime = Field(sa_type=UtcDateTime, index=True)
    kind: str = Field(max_length=32, description="what happened, e.g. queued, assigned")
    status: str | None = Field(default=None, max_length=16, description="order status after it")
    actor: str = Field(max_length=100, description="dispatcher, operator:<login>, phone, import…")
    cause: str | None = Field(default=None, max_length=300)
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class OrderEventCreate(OrderEventBase):
    pass


class OrderEvent(OrderEventBase, table=True):
    __tablename__ = "order_events"

    id: int | None = Field(default=None, primary_key=True)


class OrderEventPublic(OrderEventBase):
    id: int


class AppendOnlyError(RuntimeError):
    """The order event log is evidence: its rows are never changed or removed."""


def _refuse_change(mapper: Mapper[Any], connection: Connection, target: OrderEvent) -> None:
    raise AppendOnlyError(f"order event {target.id} is append-only")


event.listen(OrderEvent, "before_update", _refuse_change)
event.listen(OrderEvent, "before_delete", _refuse_change)
