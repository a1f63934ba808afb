"""The OpenAPI as the truth: every status a route can answer is declared, with its error body.

Routes declare their own success answers; the errors come from a few shared
mechanisms (the role gate, request validation, the body limit, the store, the
writer's domain errors), so they are declared here once, from what each route
is made of, instead of by hand on thirty routes where one would be forgotten.
A 405 lists every method the path serves in `Allow` (Starlette names only the
first route it tried). `tests/api/test_openapi_fuzz.py` holds the server to
it with schemathesis.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from api.deps import RoleGate


class ErrorItem(BaseModel):
    loc: list[str | int]
    msg: str
    type: str
    input: Any = None


class ErrorBody(BaseModel):
    """Every 4xx and 5xx: a sentence, or FastAPI's list naming each bad field."""

    detail: str | list[ErrorItem]


_REF = "#/components/schemas/ErrorBody"
RETRY_AFTER = {"Retry-After": {"description": "seconds to wait", "schema": {"type": "string"}}}
ERRORS: dict[int, str] = {
    400: "the body is not decodable (not UTF-8, not a form)",
    401: "no valid key (or a wrong login)",
    403: "the key's role may not do this, or a webhook signature does not match",
    404: "an id in the path (or a body id such as `driver_id`) names nothing",
    409: "conflicts with the stored state (busy driver, finished order, duplicate id)",
    413: "body over KEEPCAB_MAX_BODY_BYTES",
    422: "a value is refused; `detail` names the field",
    503: "the store is unavailable; retry after `Retry-After` seconds",
}


def _response(status_code: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": ERRORS[status_code],
        "content": {"application/json": {"schema": {"$ref": _REF}}},
    }
    if status_code == 503:
        answer["headers"] = RETRY_AFTER
    return answer


def form_body(schema: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads a form itself (a webhook whose signature needs every field)."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/x-www-form-urlencoded": {"schema": schema}},
        }
    }


def _statuses(method: str, operation: dict[str, Any], public: bool) -> set[int]:
    places = {parameter["in"] for parameter in operation.get("parameters", [])}
    has_body = "requestBody" in operation
    statuses = {422} if places or has_body else set()
    if has_body:
        statuses |= {400, 413}
    if "path" in places:
        statuses.add(404)
    if not public:
        statuses |= {401, 403, 503}
        if method in ("post", "put", "patch", "delete"):
            statuses |= {404, 409}
    return statuses


def _public_routes(routers: Iterable[APIRouter]) -> set[tuple[str, str]]:
    public: set[tuple[str, str]] = set()
    for router in routers:
        for route in router.routes:
            if not isinstance(route, APIRoute):
                continue
            gates = [dep.call for dep in route.dependant.dependencies if isinstance(dep.call, RoleGate)]
            if any(gate.public for gate in gates):
                public |= {(method.lower(), route.path) for method in route.methods or ()}
    return public


def declare_error_responses(app: FastAPI, routers: Iterable[APIRouter]) -> None:
    """Declare the shared error answers of every API operation (an operation's own entries win)."""
    public = _public_routes(routers)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes
            )
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
            components.update(body.pop("$defs"))
            components["ErrorBody"] = body
            for path, item in schema["paths"].items():
                for method, operation in item.items():
                    responses = operation.setdefault("responses", {})
                    for status_code in sorted(_statuses(method, operation, (method, path) in public)):
                        responses.setdefault(str(status_code), _response(status_code))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_exception_handler(StarletteHTTPException, _with_full_allow)


async def _with_full_allow(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 405:
        methods = sorted(
            {
                method
                for route in request.app.router.routes
                if route.matches(request.scope)[0] is not Match.NONE
                for method in getattr(route, "methods", None) or ()
                if method != "HEAD"
            }
        )
        error = StarletteHTTPException(405, error.detail, {"Allow": ", ".join(methods)})
    return await http_exception_handler(request, error)
