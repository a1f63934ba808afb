"""Column types and defaults shared by every table.

Times are stored as timezone-aware UTC datetimes. SQLite has no time zone
type, so `UtcDateTime` writes naive UTC there and re-attaches UTC on the way
out; on PostgreSQL it is a plain `timestamptz`. Either way Python code only
ever sees aware UTC datetimes, and the engine's float seconds convert with
`epoch_s` / `from_epoch_s`.

The metadata naming convention gives every constraint a stable name, which
Alembic needs to alter SQLite tables in batch mode later.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC datetime on every backend; naive datetimes are refused, not guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: attach a time zone first")
        utc = value.astimezone(UTC)
        return utc if dialect.name == "postgresql" else utc.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = value
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def new_id() -> str:
    """A random 32-hex-digit id: unguessable, and safe to create on any replica."""
    return uuid.uuid4().hex


def utc_now() -> datetime:
    return datetime.now(UTC)


def epoch_s(moment: datetime) -> float:
    """Seconds since the epoch, the clock of the dispatch core."""
    return moment.timestamp()


def from_epoch_s(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
