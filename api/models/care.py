"""The audit of the "confirm before serving" flag: who set or cleared it, when, and why.

The flag itself lives on the customer row (`Customer.confirm_required`, with
the reason currently in force); each change appends one row here and none is
ever changed, except that erasure blanks the reason (the operator's words about
a person), keeping who and when.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from api.models.columns import UtcDateTime

MAX_FLAG_REASON_CHARS = 300


class CustomerFlagEventBase(SQLModel):
    customer_id: str = Field(foreign_key="customers.id", index=True, max_length=32)
    at: datetime = Field(sa_type=UtcDateTime)
    actor: str = Field(max_length=100, description="operator:<login> or admin")
    confirm_required: bool = Field(description="the flag after this change")
    reason: str | None = Field(
        default=None, max_length=MAX_FLAG_REASON_CHARS, description="blank after erasure"
    )


class CustomerFlagEvent(CustomerFlagEventBase, table=True):
    __tablename__ = "customer_flag_events"

    id: int | None = Field(default=None, primary_key=True)


class CustomerFlagEventPublic(CustomerFlagEventBase):
    id: int
