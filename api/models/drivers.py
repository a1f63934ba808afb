"""Drivers as the fleet knows them, with their last reported status and position.

The id is chosen by the fleet (a callsign or the fleet system's id), because
drivers exist before keepcab sees them. `order_id` is the order the driver is
on, kept without a foreign key so that orders and drivers can reference each
other without a cycle. `leaving` marks a busy driver who asked to end the shift
after the job in hand; it is stored because a restart must not hand them another.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import false
from sqlmodel import Field, SQLModel

from api.models.columns import UtcDateTime, utc_now
from dispatch.model import DriverStatus


class DriverBase(SQLModel):
    name: str | None = Field(default=None, max_length=200)


class DriverCreate(DriverBase):
    id: str = Field(min_length=1, max_length=64, regex=r"^[A-Za-z0-9._:-]+$")


class Driver(DriverBase, table=True):
    __tablename__ = "drivers"

    id: str = Field(primary_key=True, max_length=64)
    status: str = Field(default=DriverStatus.OFFLINE.value, max_length=16, index=True)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    order_id: str | None = Field(default=None, max_length=32)
    leaving: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    updated_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)


class DriverPublic(DriverBase):
    id: str
    status: DriverStatus
    lat: float | None
    lon: float | None
    order_id: str | None
    leaving: bool = False
    updated_at: datetime
