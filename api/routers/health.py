"""Liveness, readiness and Prometheus metrics (public, like every scrape target).

`/healthz` says the process answers; `/readyz` says it can take orders: the
store answers a query, the schema is at the migrations' head, the
dispatcher is running with a state that matches the store, and no command
has held the single writer longer than `KEEPCAB_WRITER_STALL_S` (the check
names it; `api.live.watchdog`). Put these behind
the load balancer, not on the internet.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import BaseModel
from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool

from api.db import current_revision, head_revision
from api.deps import MetricsDep, Public, ServiceDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


@router.get("/healthz", response_model=Health)
async def healthz(principal: Public) -> Health:
    return Health(status="ok")


def _store_check(engine: Engine) -> str:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        revision = current_revision(engine)
    except Exception as error:
        return f"unreachable: {type(error).__name__}"
    head = head_revision()
    return (
        "ok"
        if revision == head
        else f"schema at {revision}, head is {head}: run keepcab db upgrade"
    )


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(
    request: Request, response: Response, principal: Public, service: ServiceDep
) -> Health:
    stall = service.stalled()
    checks = {
        "store": await run_in_threadpool(_store_check, request.app.state.engine),
        "dispatcher": "ok" if service.healthy else "not running or rebuilding from the store",
        "writer": "ok"
        if stall is None
        else f"{stall.command} has held the single writer for {stall.held_s:.1f} s",
    }
    ready = all(value == "ok" for value in checks.values())
    if not ready:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(status="ready" if ready else "not ready", checks=checks)


@router.get("/metrics", response_class=Response)
async def metrics(principal: Public, metrics: MetricsDep) -> Response:
    """Prometheus text format: queue length, waits, refusals, lost orders, decisions/s."""
    return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)
