"""Orders: create (idempotent, redial-guarded), read, list, cancel, assign, override priority.

Every change goes through the dispatcher service and is on disk before the
answer. A create that maps to an earlier order (same `Idempotency-Key`, or the
same customer from the same pickup within the duplicate window) answers 200
with that order and says why in `Keepcab-Existing-Order`; only a new order is
a 201.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response, status
from pydantic import BaseModel, Field, model_validator
from pydantic.config import JsonDict
from sqlmodel import col, select

from api.deps import (
    CallLogDep,
    Dispatching,
    OrderTaking,
    Reading,
    ServiceDep,
    SessionDep,
    SettingsDep,
)
from api.live.commands import Apply, NotFound, OrderIntake, RequestProblem, SubmitOrder
from api.live.intake import IntakeResult
from api.live.writer import Applied
from api.models import Order, OrderEvent, OrderEventPublic, OrderPublic
from api.routers.fields import (
    CleanStr,
    Latitude,
    Longitude,
    Moment,
    NonBlankStr,
    OmittableLatitude,
    OmittableLongitude,
    StrictBool,
)
from api.service_area import check_in_area
from dispatch import commands as c
from dispatch.model import FailureCause, OrderStatus, Position

router = APIRouter(prefix="/orders", tags=["orders"])

_EXAMPLE: JsonDict = {
    "pickup_lat": 55.7558,
    "pickup_lon": 37.6173,
    "pickup_address": "Tverskaya 1",
    "phone": "8 (912) 345-67-89",
}


class OrderRequest(BaseModel):
    """What an operator or the phone system sends to order a car."""

    model_config = {
        "json_schema_extra": {
            "examples": [_EXAMPLE],
            "dependentRequired": {"dropoff_lat": ["dropoff_lon"], "dropoff_lon": ["dropoff_lat"]},
        },
        "extra": "forbid",
    }

    pickup_lat: Latitude
    pickup_lon: Longitude
    pickup_address: CleanStr | None = Field(default=None, min_length=1, max_length=300)
    dropoff_lat: OmittableLatitude = Field(default=None, description="with `dropoff_lon`, or neither")
    dropoff_lon: OmittableLongitude = Field(default=None, description="with `dropoff_lat`, or neither")
    dropoff_address: CleanStr | None = Field(
        default=None, min_length=1, max_length=300, description="the destination as said"
    )
    pickup_at: Moment | None = Field(default=None, description="only for a pre-booking")
    phone: CleanStr | None = Field(default=None, max_length=64, description="any common format")
    customer_id: CleanStr | None = Field(default=None, min_length=1, max_length=32)
    customer_name: CleanStr | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="names a customer who has no name yet",
    )
    call_id: CleanStr | None = Field(
        default=None,
        min_length=1,
        max_length=160,
        description="the call-log id this order came from",
    )
    allow_duplicate: StrictBool = Field(default=False, description="skip the redial guard")
    confirmed: StrictBool = Field(
        default=False, description="the operator confirmed a caller flagged confirm before serving"
    )

    @model_validator(mode="after")
    def _whole_dropoff(self) -> OrderRequest:
        """Half a coordinate pair is a mistake, not a dropoff to drop silently."""
        if (self.dropoff_lat is None) != (self.dropoff_lon is None):
            missing = "dropoff_lon" if self.dropoff_lon is None else "dropoff_lat"
            raise RequestProblem(("body", missing), "dropoff_lat and dropoff_lon go together")
        return self

    def to_intake(self) -> OrderIntake:
        dropoff = None
        if self.dropoff_lat is not None and self.dropoff_lon is not None:
            dropoff = Position(self.dropoff_lat, self.dropoff_lon)
        return OrderIntake(
            pickup=Position(self.pickup_lat, self.pickup_lon),
            pickup_address=self.pickup_address,
            dropoff=dropoff,
            dropoff_address=self.dropoff_address,
            pickup_at=None if self.pickup_at is None else self.pickup_at.timestamp(),
            phone=self.phone,
            customer_id=self.customer_id,
            customer_name=self.customer_name,
            call_id=self.call_id,
            allow_duplicate=self.allow_duplicate,
            confirmed=self.confirmed,
        )


class CancelRequest(BaseModel):
    model_config = {"extra": "forbid"}

    cause: FailureCause | Literal["customer"] = Field(
        default="customer", description="`customer`: the customer's own choice, not a failure"
    )
    reason: CleanStr | None = Field(default=None, max_length=300)


class AssignRequest(BaseModel):
    model_config = {"extra": "forbid"}

    driver_id: CleanStr = Field(min_length=1, max_length=64)
    when_free: StrictBool = Field(
        default=False, description="a car on a job: the order waits for it, handed over when the job ends"
    )


class PriorityRequest(BaseModel):
    model_config = {"extra": "forbid"}

    head_start_s: float = Field(
        ge=0, strict=True, allow_inf_nan=False, description="within [0, max_head_start_s]"
    )
    reason: NonBlankStr = Field(min_length=1, max_length=300, description="mandatory, audited")


@router.post(
    "",
    response_model=OrderPublic,
    status_code=status.HTTP_201_CREATED,
    responses={200: {"description": "an earlier order (idempotency key or redial)"}},
)
async def create_order(
    body: OrderRequest,
    response: Response,
    principal: OrderTaking,
    service: ServiceDep,
    call_log: CallLogDep,
    settings: SettingsDep,
    idempotency_key: Annotated[CleanStr | None, Header(min_length=1, max_length=200)] = None,
) -> Order:
    intake = body.to_intake()
    check_in_area(settings, intake.pickup, ("body", "pickup_lat"))
    source = "phone" if principal.role == "phone" else "api"
    if body.call_id is not None:
        await call_log.flush()  # a ring of a moment ago is in the log before we link to it
    request = SubmitOrder(intake, principal.actor, source, idempotency_key)
    result: IntakeResult = await service.submit(request)
    if not result.created:
        response.status_code = status.HTTP_200_OK
        response.headers["Keepcab-Existing-Order"] = str(result.why_existing)
    return result.order


@router.get("", response_model=list[OrderPublic])
def list_orders(
    principal: Reading,
    session: SessionDep,
    status_in: Annotated[list[OrderStatus] | None, Query(alias="status")] = None,
    customer_id: Annotated[CleanStr | None, Query(max_length=32)] = None,
    driver_id: Annotated[CleanStr | None, Query(max_length=64)] = None,
    since: Moment | None = None,
    until: Moment | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[Order]:
    """Newest first."""
    query = select(Order)
    if status_in:
        query = query.where(col(Order.status).in_([s.value for s in status_in]))
    if customer_id is not None:
        query = query.where(Order.customer_id == customer_id)
    if driver_id is not None:
        query = query.where(Order.driver_id == driver_id)
    if since is not None:
        query = query.where(col(Order.requested_at) >= since)
    if until is not None:
        query = query.where(col(Order.requested_at) < until)
    query = (
        query.order_by(col(Order.requested_at).desc(), col(Order.id)).offset(offset).limit(limit)
    )
    return list(session.exec(query))


def load_order(session: SessionDep, order_id: str) -> Order:
    row = session.get(Order, order_id)
    if row is None:
        raise NotFound(f"unknown order {order_id!r}")
    return row


@router.get("/{order_id}", response_model=OrderPublic)
def get_order(order_id: str, principal: Reading, session: SessionDep) -> Order:
    return load_order(session, order_id)


@router.get("/{order_id}/events", response_model=list[OrderEventPublic])
def order_events(order_id: str, principal: Reading, session: SessionDep) -> list[OrderEvent]:
    """The append-only audit trail of one order, oldest first."""
    load_order(session, order_id)
    query = select(OrderEvent).where(OrderEvent.order_id == order_id).order_by(col(OrderEvent.id))
    return list(session.exec(query))


async def _apply(service: ServiceDep, request: Apply) -> Order:
    applied: Applied = await service.submit(request)
    assert applied.order is not None
    return applied.order


@router.post("/{order_id}/cancel", response_model=OrderPublic)
async def cancel_order(
    order_id: str, body: CancelRequest, principal: OrderTaking, service: ServiceDep
) -> Order:
    cause = None if body.cause == "customer" else FailureCause(body.cause)
    command = c.CancelOrder(order_id, cause)
    return await _apply(service, Apply(command, principal.actor, body.reason))


@router.post("/{order_id}/assign", response_model=OrderPublic)
async def assign_order(
    order_id: str, body: AssignRequest, principal: Dispatching, service: ServiceDep
) -> Order:
    """Give a waiting order to a chosen free driver, bypassing the queue (audited); with `when_free`,
    promise it to a car on a job instead: it leaves the queue and goes to that car when the job ends."""
    if body.when_free:
        held = c.AssignNext(order_id, body.driver_id)
        return await _apply(service, Apply(held, principal.actor, "assigned when free"))
    command = c.AssignManually(order_id, body.driver_id)
    return await _apply(service, Apply(command, principal.actor, "manual assignment"))


@router.post("/{order_id}/requeue", response_model=OrderPublic)
async def requeue_order(order_id: str, principal: Dispatching, service: ServiceDep) -> Order:
    """Take back an order promised to a busy car: it returns to its place in the queue (audited)."""
    return await _apply(service, Apply(c.CancelHold(order_id), principal.actor, "back to the queue"))


@router.post("/{order_id}/priority", response_model=OrderPublic)
async def override_priority(
    order_id: str, body: PriorityRequest, principal: Dispatching, service: ServiceDep
) -> Order:
    """Set a waiting order's head start; the reason and the operator go to the audit log."""
    command = c.OverridePriority(order_id, body.head_start_s, body.reason)
    return await _apply(service, Apply(command, principal.actor, body.reason))
