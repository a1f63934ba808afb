"""FastAPI dependencies as `Annotated` aliases (full-stack-fastapi-template style).

Every route declares who may call it with one `RoleGate` (`allow(...)`, or
`PUBLIC` for health and metrics); the role-matrix test reads these gates off
the app's routes, so a route without one is a test failure, not a silent hole.

Keys are verified against their hash on first use and then remembered for
`KEY_CACHE_TTL_S` seconds, so the phone webhook does not pay a hash and a
query on every ring; a revoked key therefore stops working within that time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.auth import authenticate
from api.events import EventBus
from api.live.call_log import CallLogWriter
from api.live.service import DispatcherService
from api.metrics import LiveMetrics
from api.models import Role
from api.settings import Settings

KEY_CACHE_TTL_S = 10.0
KEY_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the role of their key, and whom it speaks for."""

    role: Role | None  # None: an anonymous caller of a public route
    key_id: str = ""
    name: str = ""
    driver_id: str | None = None
    operator_id: int | None = None
    expires_at: datetime | None = None

    @property
    def actor(self) -> str:
        """How the audit log names this caller."""
        if self.role is None:
            return "anonymous"
        return f"{self.role.value}:{self.name or self.key_id}"


ANONYMOUS = Principal(role=None)


# The getters of app state are `async` on purpose: FastAPI runs a plain `def` dependency on the
# thread pool, and a hop there per dependency is what a ringing lookup under load queues behind.
async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        yield session


async def get_clock(request: Request) -> Callable[[], float]:
    """The app's clock (unix seconds): wall time live, a hand-moved clock in tests."""
    clock: Callable[[], float] = request.app.state.clock
    return clock


async def get_service(request: Request) -> DispatcherService:
    service: DispatcherService = request.app.state.service
    return service


async def get_call_log(request: Request) -> CallLogWriter:
    call_log: CallLogWriter = request.app.state.call_log
    return call_log


async def get_metrics(request: Request) -> LiveMetrics:
    metrics: LiveMetrics = request.app.state.metrics
    return metrics


async def get_bus(request: Request) -> EventBus:
    bus: EventBus = request.app.state.bus
    return bus


class KeyCache:
    """Presented key -> principal, for a few seconds."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Principal]] = {}

    def get(self, presented: str, now_s: float) -> Principal | None:
        entry = self._entries.get(presented)
        if entry is None or entry[0] < now_s:
            return None
        return entry[1]

    def put(self, presented: str, principal: Principal, now_s: float) -> None:
        if len(self._entries) >= KEY_CACHE_SIZE:
            self._entries.clear()
        self._entries[presented] = (now_s + KEY_CACHE_TTL_S, principal)


def _authenticate(request: Request, presented: str, now: datetime) -> Principal | None:
    factory: sessionmaker[Session] = request.app.state.session_factory
    with factory() as session:
        row = authenticate(session, presented, now)
    if row is None:
        return None
    return Principal(
        Role(row.role), row.key_id, row.name, row.driver_id, row.operator_id, row.expires_at
    )


async def _principal(request: Request, presented: str) -> Principal | None:
    """A cache hit costs no thread hop and no query; a miss verifies the hash off the event loop."""
    cache: KeyCache = request.app.state.key_cache
    now_s, now = time.monotonic(), datetime.now(UTC)
    principal = cache.get(presented, now_s)
    if principal is None:
        principal = await run_in_threadpool(_authenticate, request, presented, now)
        if principal is None:
            return None
        cache.put(presented, principal, now_s)
    if principal.expires_at is not None and principal.expires_at <= now:
        return None
    return principal


class RoleGate:
    """A dependency that authenticates the API key and admits only `roles`."""

    def __init__(self, *roles: Role, public: bool = False, query_key: bool = False) -> None:
        self.roles = frozenset(roles)
        self.public = public
        self.query_key = query_key  # webhooks of providers that cannot set headers pass ?key=

    def __repr__(self) -> str:
        return "PUBLIC" if self.public else f"allow({', '.join(sorted(self.roles))})"

    async def __call__(self, request: Request) -> Principal:
        if self.public:
            return ANONYMOUS
        settings: Settings = request.app.state.settings
        presented = request.headers.get(settings.api_key_header)
        if presented is None and self.query_key:
            presented = request.query_params.get("key")
        principal = await _principal(request, presented) if presented else None
        if principal is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                f"a valid API key is required in the {settings.api_key_header} header",
                headers={"WWW-Authenticate": "ApiKey"},
            )
        if principal.role not in self.roles:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"role {principal.role} may not do this; allowed: {', '.join(sorted(self.roles))}",
            )
        return principal


def allow(*roles: Role) -> RoleGate:
    return RoleGate(*roles)


PUBLIC = RoleGate(public=True)

SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[Session, Depends(get_session)]
ServiceDep = Annotated[DispatcherService, Depends(get_service)]
ClockDep = Annotated[Callable[[], float], Depends(get_clock)]
CallLogDep = Annotated[CallLogWriter, Depends(get_call_log)]
MetricsDep = Annotated[LiveMetrics, Depends(get_metrics)]
BusDep = Annotated[EventBus, Depends(get_bus)]

# The role sets routes use, named for who they serve.
Dispatching = Annotated[Principal, Depends(allow(Role.OPERATOR, Role.ADMIN))]
Reading = Annotated[Principal, Depends(allow(Role.OPERATOR, Role.ANALYST, Role.ADMIN))]
OrderTaking = Annotated[Principal, Depends(allow(Role.OPERATOR, Role.PHONE, Role.ADMIN))]
Driving = Annotated[Principal, Depends(allow(Role.DRIVER, Role.OPERATOR, Role.ADMIN))]
PhoneSystem = Annotated[Principal, Depends(allow(Role.PHONE, Role.ADMIN))]
PhoneWebhook = Annotated[Principal, Depends(RoleGate(Role.PHONE, Role.ADMIN, query_key=True))]
AdminOnly = Annotated[Principal, Depends(allow(Role.ADMIN))]
Public = Annotated[Principal, Depends(PUBLIC)]
