"""The console's HTTP side: the page itself and operator login (addresses: api.places).

Operators log in with a username and password and get a short-lived key of
their account's role (`api.auth.login_operator`); the page keeps it for the
tab's lifetime and uses it for the websocket hello and for every REST call,
so the console goes through exactly the same checks as any other client.
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.resources import files

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from api.auth import login_operator
from api.cluster.login_throttle import RedisLoginThrottle
from api.deps import Public, SessionDep, SettingsDep
from api.login_throttle import LoginThrottle, retry_after_header
from api.openapi import ErrorBody
from api.routers.fields import CleanStr

router = APIRouter(tags=["console"])


class LoginRequest(BaseModel):
    model_config = {"extra": "forbid"}

    username: CleanStr = Field(min_length=1, max_length=100)
    password: CleanStr = Field(min_length=1, max_length=200)


class LoginReply(BaseModel):
    key: str
    role: str
    name: str
    expires_at: datetime | None


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
