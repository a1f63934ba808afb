"""Customers, their phone numbers and the pickup addresses they use.

A customer is who pays for rides; a phone number is how we recognise them
(several per customer, each E.164 number belongs to one customer); a known
address is where they were picked up before, counted so the console and the
phone reply can offer the most used ones first.

`history` holds `valuation.history.CustomerHistory.to_dict()`: the decayed
aggregates the scorer needs, updated in the same transaction as the order
outcome that changes them. Assign a new dict to change it (SQLAlchemy does not
see in-place mutation of a JSON column). The three counters beside it are
plain totals for lists, reports and the forget operation, which keeps
anonymous aggregates after erasing name, phones and addresses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlmodel import Field, SQLModel

from api.models.columns import UtcDateTime, new_id, utc_now

MAX_ADDRESS_CHARS = 300
MAX_NOTES_CHARS = 2000


class CustomerBase(SQLModel):
    display_name: str | None = Field(default=None, max_length=200)


class CustomerCreate(CustomerBase):
    phone: str = Field(min_length=1, max_length=64, description="caller's number, any format")


class Customer(CustomerBase, table=True):
    __tablename__ = "customers"

    id: str = Field(default_factory=new_id, primary_key=True, max_length=32)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    history: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    completed_count: int = Field(default=0, ge=0)
    failed_count: int = Field(default=0, ge=0)
    cancelled_count: int = Field(default=0, ge=0)
    last_order_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    forgotten_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    # The operators' own words about the customer ("deaf: text, don't call"); erased on forget.
    notes: str | None = Field(default=None, max_length=MAX_NOTES_CHARS)
    notes_updated_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    notes_updated_by: str | None = Field(default=None, max_length=100)
    # "Confirm before serving" (Autocab and TaxiCaller call it a blacklist): an order for this
    # customer needs the operator's explicit confirmation; audited in customer_flag_events.
    confirm_required: bool = False
    confirm_reason: str | None = Field(default=None, max_length=300)


class CustomerPublic(CustomerBase):
    id: str
    created_at: datetime
    completed_count: int
    failed_count: int
    cancelled_count: int
    last_order_at: datetime | None
    forgotten_at: datetime | None
    notes: str | None = None
    notes_updated_at: datetime | None = None
    notes_updated_by: str | None = None
    confirm_required: bool = False
    confirm_reason: str | None = None


class PhoneBase(SQLModel):
    e164: str = Field(max_length=16, unique=True, index=True)
    raw: str = Field(max_length=64, description="the number as it first arrived")


class PhoneCreate(PhoneBase):
    customer_id: str


class Phone(PhoneBase, table=True):
    __tablename__ = "phones"

    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(foreign_key="customers.id", index=True, max_length=32)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    last_seen_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class PhonePublic(PhoneBase):
    id: int
    customer_id: str
    created_at: datetime
    last_seen_at: datetime | None


def address_key(text: str) -> str:
    """Addresses typed twice with different case or spacing are one address."""
    return " ".join(text.casefold().split())


class PickupAddressBase(SQLModel):
    text: str = Field(min_length=1, max_length=MAX_ADDRESS_CHARS)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class PickupAddressCreate(PickupAddressBase):
    customer_id: str


class PickupAddress(PickupAddressBase, table=True):
    __tablename__ = "pickup_addresses"
    __table_args__ = (UniqueConstraint("customer_id", "address_key"),)

    id: int | None = Field(default=None, primary_key=True)
    customer_id: str = Field(foreign_key="customers.id", index=True, max_length=32)
    address_key: str = Field(max_length=MAX_ADDRESS_CHARS)
    use_count: int = Field(default=0, ge=0)
    last_used_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class PickupAddressPublic(PickupAddressBase):
    id: int
    customer_id: str
    use_count: int
    last_used_at: datetime | None
