"""Who may call the API: API keys and the operator accounts that log in to the console.

One mechanism authenticates every request: an API key in a header. Machines
(the phone system, driver apps, scripts) get long-lived keys from
`keepcab keys create`; people (operators, analysts, admins) have an account
with a login name and a password and, on login, receive a short-lived key of
their account's role (`expires_at` set, `operator_id` pointing at them). Keys
are stored as salted hashes; only `key_id`, the public half, is stored plainly
so a presented key is found without scanning. See `api.auth`.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from api.models.columns import UtcDateTime, utc_now


class Role(StrEnum):
    OPERATOR = "operator"
    ANALYST = "analyst"
    PHONE = "phone"
    DRIVER = "driver"
    ADMIN = "admin"


HUMAN_ROLES = frozenset({Role.OPERATOR, Role.ANALYST, Role.ADMIN})


class ApiKeyBase(SQLModel):
    name: str = Field(default="", max_length=100)
    role: str = Field(max_length=16)


class ApiKeyCreate(ApiKeyBase):
    role: Role
    driver_id: str | None = Field(default=None, max_length=64)
    expires_at: datetime | None = None


class ApiKey(ApiKeyBase, table=True):
    __tablename__ = "api_keys"

    id: int | None = Field(default=None, primary_key=True)
    key_id: str = Field(max_length=32, unique=True, index=True)
    secret_hash: str = Field(max_length=256)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    expires_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UtcDateTime)
    driver_id: str | None = Field(default=None, foreign_key="drivers.id", max_length=64)
    operator_id: int | None = Field(default=None, foreign_key="operator_accounts.id")


class ApiKeyPublic(ApiKeyBase):
    id: int
    key_id: str
    role: Role
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    driver_id: str | None
    operator_id: int | None


class OperatorAccountBase(SQLModel):
    username: str = Field(min_length=1, max_length=64, unique=True, index=True, regex=r"^[A-Za-z0-9._@-]+$")
    display_name: str | None = Field(default=None, max_length=200)
    role: str = Field(default=Role.OPERATOR.value, max_length=16)
    extension: str | None = Field(
        default=None, max_length=32, description="the operator's PBX extension, for the call log"
    )


class OperatorAccountCreate(OperatorAccountBase):
    role: Role = Role.OPERATOR
    password: str = Field(min_length=8, max_length=200)


class OperatorAccount(OperatorAccountBase, table=True):
    __tablename__ = "operator_accounts"

    id: int | None = Field(default=None, primary_key=True)
    password_hash: str = Field(max_length=256)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UtcDateTime)
    disabled_at: datetime | None = Field(default=None, sa_type=UtcDateTime)


class OperatorAccountPublic(OperatorAccountBase):
    id: int
    role: Role
    created_at: datetime
    disabled_at: datetime | None
