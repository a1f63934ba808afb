"""Operators' notes on a customer, and the "confirm before serving" flag with its audit.

Written through the writer (`api.live.customer_care`) so that erasure and a
note typed at the same moment cannot interleave; read back with the customer
(`GET /customers/{id}`, the lookup card and the ringing card).
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlmodel import col, select

from api.deps import Dispatching, Reading, ServiceDep, SessionDep
from api.live.commands import NotFound
from api.live.customer_care import SetConfirmFlag, SetCustomerNotes
from api.models import Customer, CustomerFlagEvent, CustomerFlagEventPublic, CustomerPublic
from api.models.care import MAX_FLAG_REASON_CHARS
from api.models.customers import MAX_NOTES_CHARS
from api.routers.fields import CleanStr, NonBlankStr, StrictBool

router = APIRouter(prefix="/customers", tags=["customers"])


class NotesRequest(BaseModel):
    model_config = {"extra": "forbid"}

    notes: CleanStr = Field(max_length=MAX_NOTES_CHARS, description="blank clears them")


@router.put("/{customer_id}/notes", response_model=CustomerPublic)
async def set_notes(
    customer_id: str, body: NotesRequest, principal: Dispatching, service: ServiceDep
) -> Customer:
    """Replace the operators' notes on a customer (who and when are kept beside them)."""
    customer: Customer = await service.submit(SetCustomerNotes(customer_id, body.notes, principal.actor))
    return customer


class FlagRequest(BaseModel):
    model_config = {"extra": "forbid"}

    confirm_required: StrictBool = Field(description="true: orders need `confirmed: true`")
    reason: NonBlankStr = Field(max_length=MAX_FLAG_REASON_CHARS, description="mandatory, audited")


@router.put("/{customer_id}/flag", response_model=CustomerPublic)
async def set_flag(
    customer_id: str, body: FlagRequest, principal: Dispatching, service: ServiceDep
) -> Customer:
    """Set or clear "confirm before serving" (a reason either way; who, when and why are audited)."""
    command = SetConfirmFlag(customer_id, body.confirm_required, body.reason, principal.actor)
    customer: Customer = await service.submit(command)
    return customer


@router.get("/{customer_id}/flag-events", response_model=list[CustomerFlagEventPublic])
def flag_events(customer_id: str, principal: Reading, session: SessionDep) -> list[CustomerFlagEvent]:
    """The flag's audit, newest first."""
    if session.get(Customer, customer_id) is None:
        raise NotFound(f"unknown customer {customer_id!r}")
    query = (
        select(CustomerFlagEvent)
        .where(CustomerFlagEvent.customer_id == customer_id)
        .order_by(col(CustomerFlagEvent.id).desc())
    )
    return list(session.exec(query))
