"""Operators' notes on a customer (and, below, the confirm-before-serving flag).

Written through the writer (`api.live.customer_care`) so that erasure and a
note typed at the same moment cannot interleave; read back with the customer
(`GET /customers/{id}`, the lookup card and the ringing card).
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.deps import Dispatching, ServiceDep
from api.live.customer_care import SetCustomerNotes
from api.models import Customer, CustomerPublic
from api.models.customers import MAX_NOTES_CHARS
from api.routers.fields import CleanStr

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
