"""The call log: every call the phone system reports, whether or not it became an order.

A caller who hung up while waiting in the phone queue is as lost as one refused
a car, so calls abandoned before an operator answered count in the lost-order
figures. `external_id` is the provider's call id prefixed with the provider
(`twilio:CA12…`, `zadarma:…`), so ringing, answer and hang-up events of one
call land on one row and ids of two providers cannot collide. Rows older than
`KEEPCAB_CALL_LOG_RETENTION_DAYS` are purged (`purge_calls_before`) because
caller numbers are personal data.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete
from sqlmodel import Field, Session, SQLModel, col

from api.models.columns import UtcDateTime


class CallOutcome(StrEnum):
    ORDER_CREATED = "order_created"
    STATUS_ENQUIRY = "status_enquiry"
    ABANDONED = "abandoned"  # hung up before an operator answered
    OTHER = "other"


class CallBase(SQLModel):
    external_id: str = Field(max_length=160, unique=True)
    caller_raw: str | None = Field(default=None, max_length=64)
    line: str | None = Field(default=None, max_length=64, description="the number that was called")
    operator_extension: str | None = Field(default=None, max_length=32)


class CallCreate(CallBase):
    ringing_at: datetime


class Call(CallBase, table=True):
    __tablename__ = "calls"

    id: int | None = Field(default=None, primary_key=True)
    caller_e164: str | None = Field(default=None, max_length=16, index=True)
    customer_id: str | None = Field(default=None, foreign_key="customers.id", index=True, max_length=32)
    ringing_at: datetime = Field(sa_type=UtcDateTime, index=True)
    answered_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    outcome: str | None = Field(default=None, max_length=16, description="None while in progress")
    order_id: str | None = Field(default=None, foreign_key="orders.id", max_length=32)


class CallPublic(CallBase):
    id: int
    caller_e164: str | None
    customer_id: str | None
    ringing_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    outcome: CallOutcome | None
    order_id: str | None


def purge_calls_before(session: Session, cutoff: datetime) -> int:
    """Delete call-log rows that started ringing before `cutoff`; returns how many.

    The caller commits, so a purge can share a transaction with other work.
    """
    result = session.execute(delete(Call).where(col(Call.ringing_at) < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
