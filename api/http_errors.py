"""How failures become HTTP answers: never a silent drop, never a 500 on bad input.

Domain errors from the engine keep their meaning (an unknown id is a 404, a
busy driver or a finished order a 409, a bad value a 422 in FastAPI's own
`detail` format, naming the field); an unreachable store is a 503 with
`Retry-After`, so a phone system retries instead of giving up. Bodies over
`max_body_bytes` are refused with 413 before they are read into memory,
whether or not the client sent a Content-Length.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from fastapi import FastAPI, HTTPException, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError, SQLAlchemyError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.live.commands import Conflict, NotFound, RequestProblem
from api.live.service import StoreUnavailable
from dispatch.errors import (
    DomainError,
    DuplicateOrder,
    InvalidCommand,
    InvalidTransition,
    UnknownDriver,
    UnknownOrder,
)

log = logging.getLogger(__name__)
RETRY_AFTER_S = "2"


def problem(status_code: int, message: str, loc: tuple[str, ...] | None = None) -> JSONResponse:
    if loc is not None:
        body: dict[str, Any] = {
            "detail": [{"loc": list(loc), "msg": message, "type": "value_error"}]
        }
    else:
        body = {"detail": message}
    return JSONResponse(body, status_code=status_code)


def domain_status(error: DomainError) -> int:
    if isinstance(error, UnknownOrder | UnknownDriver):
        return status.HTTP_404_NOT_FOUND
    if isinstance(error, InvalidTransition | DuplicateOrder):
        return status.HTTP_409_CONFLICT
    if isinstance(error, InvalidCommand):
        return status.HTTP_422_UNPROCESSABLE_CONTENT
    return status.HTTP_409_CONFLICT


async def _domain(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    return problem(domain_status(error), str(error))


async def _request_problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestProblem)
    return problem(status.HTTP_422_UNPROCESSABLE_CONTENT, error.message, error.loc)


async def _not_found(request: Request, error: Exception) -> JSONResponse:
    return problem(status.HTTP_404_NOT_FOUND, str(error))


async def _conflict(request: Request, error: Exception) -> JSONResponse:
    if isinstance(error, IntegrityError):  # a concurrent write of the same unique key won
        return problem(
            status.HTTP_409_CONFLICT, "conflicts with a stored row (a concurrent duplicate)"
        )
    return problem(status.HTTP_409_CONFLICT, str(error))


async def _bad_value(request: Request, error: Exception) -> JSONResponse:
    """The store refused a value (a NUL in a path id on PostgreSQL): bad input, not an outage."""
    return problem(
        status.HTTP_422_UNPROCESSABLE_CONTENT, "a value in the request cannot be stored or searched"
    )


async def _unavailable(request: Request, error: Exception) -> JSONResponse:
    log.warning("503 for %s %s: %s", request.method, request.url.path, error)
    response = problem(
        status.HTTP_503_SERVICE_UNAVAILABLE, "the store is unavailable; retry shortly"
    )
    response.headers["Retry-After"] = RETRY_AFTER_S
    return response


def _json_safe(value: Any) -> Any:
    """An input echoed back in a 422 must itself be valid JSON in UTF-8 (no NaN, no lone surrogate)."""
    try:
        encoded = jsonable_encoder(value)
        json.dumps(encoded, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError):
        return ascii(value)[:200]
    return encoded


def _loc_part(part: Any) -> Any:
    """A body key named in `loc` may be any text the client sent, a lone surrogate included."""
    return part if isinstance(part, int) else _json_safe(str(part))


async def _invalid(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    detail = []
    for entry in error.errors():
        item = {
            "loc": [_loc_part(part) for part in entry["loc"]],
            "msg": _json_safe(entry["msg"]),
            "type": entry["type"],
        }
        if "input" in entry:
            item["input"] = _json_safe(entry["input"])
        detail.append(item)
    return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(DomainError, _domain)
    app.add_exception_handler(RequestProblem, _request_problem)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(Conflict, _conflict)
    app.add_exception_handler(StoreUnavailable, _unavailable)
    app.add_exception_handler(SQLAlchemyError, _unavailable)
    app.add_exception_handler(IntegrityError, _conflict)
    app.add_exception_handler(DataError, _bad_value)


class BodyTooLarge(HTTPException):
    """An HTTPException, so FastAPI's body parsing passes it on as a 413, not a 400."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE, f"request body over {max_bytes} bytes")


class BodyLimitMiddleware:
    """Pure ASGI: 413 for a declared or streamed body over `max_bytes`."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _too_large(scope, receive, send, self.max_bytes)
            return
        seen = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await _too_large(scope, receive, send, self.max_bytes)


async def _too_large(scope: Scope, receive: Receive, send: Send, max_bytes: int) -> None:
    response = problem(status.HTTP_413_CONTENT_TOO_LARGE, f"request body over {max_bytes} bytes")
    await response(scope, receive, send)
