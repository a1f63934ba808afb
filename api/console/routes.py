"""The console's HTTP side: the page itself, operator login, and known-address suggestions.

Operators log in with a username and password and get a short-lived key of
their account's role (`api.auth.login_operator`); the page keeps it for the
tab's lifetime and uses it for the websocket hello and for every REST call,
so the console goes through exactly the same checks as any other client.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.resources import files
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field
from sqlmodel import col, select

from api.auth import login_operator
from api.cluster.login_throttle import RedisLoginThrottle
from api.deps import Dispatching, Public, SessionDep, SettingsDep
from api.login_throttle import LoginThrottle, retry_after_header
from api.models import PickupAddress, address_key
from api.openapi import ErrorBody
from api.routers.fields import CleanStr

router = APIRouter(tags=["console"])
PLACES_LIMIT = 8


class LoginRequest(BaseModel):
    model_config = {"extra": "forbid"}

    username: CleanStr = Field(min_length=1, max_length=100)
    password: CleanStr = Field(min_length=1, max_length=200)


class LoginReply(BaseModel):
    key: str
    role: str
    name: str
    expires_at: datetime | None


class Place(BaseModel):
    text: str
    lat: float
    lon: float
    uses: int


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def console_page(principal: Public) -> HTMLResponse:
    """The operator console (works offline: no CDN, no build step)."""
    page = files("api.console").joinpath("static/index.html").read_text(encoding="utf-8")
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


@router.post(
    "/console/login",
    response_model=LoginReply,
    responses={
        401: {"model": ErrorBody, "description": "wrong username or password"},
        429: {
            "model": ErrorBody,
            "description": "too many failed logins for this username or address (Retry-After)",
            "headers": {"Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}},
        },
        503: {"model": ErrorBody, "description": "the store is unavailable"},
    },
)
def console_login(
    request: Request, body: LoginRequest, principal: Public, settings: SettingsDep, session: SessionDep
) -> LoginReply:
    """Trade an operator's username and password for a key that lasts one shift.

    Throttled per username and per address (`api.login_throttle`): while
    locked, even the right password gets a 429 with Retry-After.
    """
    throttle: LoginThrottle | RedisLoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    wait_s = throttle.begin(body.username, address)
    if wait_s > 0:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many failed logins: try again in {retry_after_header(wait_s)} s",
            headers={"Retry-After": retry_after_header(wait_s)},
        )
    ttl_s = settings.operator_session_ttl_s
    issued = login_operator(session, body.username, body.password, datetime.now(UTC), ttl_s)
    if issued is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    session.commit()
    throttle.succeeded(body.username, address)
    return LoginReply(
        key=issued.plaintext, role=issued.row.role, name=body.username, expires_at=issued.row.expires_at
    )


@router.get("/console/places", response_model=list[Place])
def known_places(
    principal: Dispatching,
    session: SessionDep,
    q: Annotated[CleanStr, Query(max_length=100)] = "",
    customer_id: Annotated[CleanStr | None, Query(max_length=32)] = None,
) -> list[Place]:
    """Known pickup addresses matching `q`: the caller's own first, then everyone's most used."""
    key = address_key(q) if q.strip() else ""
    found: dict[str, Place] = {}
    for owner in (customer_id, None):
        if owner is None and customer_id is not None and len(found) >= PLACES_LIMIT:
            break
        query = select(PickupAddress)
        if owner is not None:
            query = query.where(PickupAddress.customer_id == owner)
        if key:
            query = query.where(col(PickupAddress.address_key).contains(key))
        query = query.order_by(col(PickupAddress.use_count).desc()).limit(PLACES_LIMIT)
        for row in session.exec(query):
            found.setdefault(
                row.address_key, Place(text=row.text, lat=row.lat, lon=row.lon, uses=row.use_count)
            )
    return list(found.values())[:PLACES_LIMIT]
