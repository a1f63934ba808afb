"""Customers: look up by phone (any common format), read with history and score, forget.

The score shown is computed now from the stored aggregates, exactly as the
dispatcher would score a call at this moment. Forgetting erases name, numbers
and addresses but keeps the anonymous aggregates and order outcomes, so the
firm's figures do not change when a customer exercises their right to erasure.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import bindparam
from sqlmodel import Session, col, select

from api.aggregates import load_history
from api.deps import (
    AdminOnly,
    CallLogDep,
    ClockDep,
    OrderTaking,
    Reading,
    ServiceDep,
    SessionDep,
)
from api.live.commands import ForgetCustomer, NotFound, RequestProblem
from api.live.writer import WriterSetup
from api.models import (
    Customer,
    CustomerPublic,
    Order,
    OrderPublic,
    Phone,
    PhonePublic,
    PickupAddress,
    PickupAddressPublic,
    from_epoch_s,
)
from api.phones import NumberKind, normalise_phone
from api.routers.fields import CleanStr
from dispatch.model import TERMINAL_ORDER_STATUSES, Tier
from valuation.score import score

router = APIRouter(prefix="/customers", tags=["customers"])
_TERMINAL = sorted(s.value for s in TERMINAL_ORDER_STATUSES)
FORGET_CONSOLE_WAIT_S = 2.0  # the console hub scrubs its copies within milliseconds


class ScorePublic(BaseModel):
    head_start_s: float
    tier: Tier
    reason: str
    value: float
    value_at_risk: float
    p_leave_if_failed: float


class CustomerCard(BaseModel):
    """What an operator sees for a caller: who, where they go from, what is live now."""

    customer: CustomerPublic
    phones: list[PhonePublic]
    addresses: list[PickupAddressPublic]
    score: ScorePublic
    active_order: OrderPublic | None


class CustomerDetail(CustomerCard):
    history: dict[str, Any]
    recent_orders: list[OrderPublic]


def current_score(customer: Customer | None, now_s: float, setup: WriterSetup) -> ScorePublic:
    history = None if customer is None or not customer.history else load_history(customer)
    vip = customer is not None and customer.id in setup.vip_ids
    result = score(history, now_s, setup.params, vip=vip)
    return ScorePublic(
        head_start_s=result.head_start_s,
        tier=result.tier,
        reason=result.reason,
        value=result.value,
        value_at_risk=result.value_at_risk,
        p_leave_if_failed=result.p_leave_if_failed,
    )


# Built once: the ringing lookup runs these on every call, and building a statement costs
# about as much as running it on SQLite.
_ADDRESSES = (
    select(PickupAddress)
    .where(col(PickupAddress.customer_id) == bindparam("customer_id"))
    .order_by(col(PickupAddress.last_used_at).desc(), col(PickupAddress.use_count).desc())
    .limit(bindparam("limit"))
)
_ACTIVE_ORDER = (
    select(Order)
    .where(col(Order.customer_id) == bindparam("customer_id"), col(Order.status).not_in(_TERMINAL))
    .order_by(col(Order.requested_at).desc())
    .limit(1)
)
_BY_PHONE = (
    select(Customer)
    .join(Phone, col(Phone.customer_id) == col(Customer.id))
    .where(col(Phone.e164) == bindparam("e164"))
)


def recent_addresses(session: Session, customer_id: str, limit: int = 3) -> list[PickupAddress]:
    return list(session.exec(_ADDRESSES, params={"customer_id": customer_id, "limit": limit}))


def active_order(session: Session, customer_id: str) -> Order | None:
    return session.exec(_ACTIVE_ORDER, params={"customer_id": customer_id}).first()


def customer_by_phone(session: Session, e164: str) -> Customer | None:
    return session.exec(_BY_PHONE, params={"e164": e164}).first()


def card(
    session: Session, customer: Customer, setup: WriterSetup, now_s: float, addresses: int = 3
) -> CustomerCard:
    phones = session.exec(
        select(Phone).where(Phone.customer_id == customer.id).order_by(col(Phone.id))
    )
    order = active_order(session, customer.id)
    return CustomerCard(
        customer=CustomerPublic.model_validate(customer),
        phones=[PhonePublic.model_validate(p) for p in phones],
        addresses=[
            PickupAddressPublic.model_validate(a)
            for a in recent_addresses(session, customer.id, addresses)
        ],
        score=current_score(customer, now_s, setup),
        active_order=None if order is None else OrderPublic.model_validate(order),
    )


@router.get("/lookup", response_model=CustomerCard)
def lookup(
    phone: Annotated[CleanStr, Query(min_length=1, max_length=64, description="any common format")],
    principal: OrderTaking,
    session: SessionDep,
    service: ServiceDep,
    clock: ClockDep,
) -> CustomerCard:
    """`8 (912) 345-67-89`, `+7 912 345 67 89` and `79123456789` find the same customer."""
    number = normalise_phone(phone, service.setup.phone_region)
    if number.kind is not NumberKind.KNOWN:
        raise RequestProblem(
            ("query", "phone"),
            f"not a usable phone number ({number.kind.value})"
            + (f": {number.problem}" if number.problem else ""),
        )
    customer = customer_by_phone(session, str(number.e164))
    if customer is None:
        raise NotFound(f"no customer with number {number.e164}")
    return card(session, customer, service.setup, clock())


@router.get("/{customer_id}", response_model=CustomerDetail)
def get_customer(
    customer_id: str, principal: Reading, session: SessionDep, service: ServiceDep, clock: ClockDep
) -> CustomerDetail:
    """The customer with their aggregates, current score and last 20 orders."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"unknown customer {customer_id!r}")
    orders = session.exec(
        select(Order)
        .where(Order.customer_id == customer_id)
        .order_by(col(Order.requested_at).desc())
        .limit(20)
    )
    base = card(session, customer, service.setup, clock(), addresses=20)
    return CustomerDetail(
        **base.model_dump(),
        history=dict(customer.history),
        recent_orders=[OrderPublic.model_validate(o) for o in orders],
    )


class Forgotten(BaseModel):
    customer_id: str
    forgotten_at: datetime | None
    erased: dict[str, int]


@router.delete("/{customer_id}/personal-data", response_model=Forgotten)
async def forget(
    request: Request,
    customer_id: str,
    principal: AdminOnly,
    service: ServiceDep,
    clock: ClockDep,
    call_log: CallLogDep,
) -> Forgotten:
    """Erase name, phone numbers and addresses; keep anonymous aggregates (audited).

    Answers once the console hub has scrubbed its own copies too, so no console
    that connects after this answer receives them (docs/api.md, Erasure).
    """
    # Ringing rows are written in the background: write them first, or a number rung in
    # just before this request would land in the call log after the erasure.
    await call_log.flush()
    erased: dict[str, int] = await service.submit(ForgetCustomer(customer_id, principal.actor))
    hub = getattr(request.app.state, "console_hub", None)  # the console's copies (api.console.erasure)
    if hub is not None:
        await hub.wait_forgotten(customer_id, FORGET_CONSOLE_WAIT_S)
    return Forgotten(customer_id=customer_id, forgotten_at=from_epoch_s(clock()), erased=erased)
