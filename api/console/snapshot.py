"""A console's starting picture: queue in service order, cars, trips, ringing calls, figures."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from api.live.service import DispatcherService

from .side_lists import held_json, scheduled_json
from .state import EngineView, driver_json, order_details, queue_json, read_engine, ringing_calls, trips_json


def _store_part(
    factory: sessionmaker[Session], view: EngineView, now_s: float, service: DispatcherService, idle_s: float
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]]]:
    ids = [item.order.order_id for item in view.queue] + [t.order.order_id for t in view.trips]
    ids += [other.order.order_id for other in (*view.scheduled, *view.held)]
    with factory() as session:
        return order_details(session, ids), ringing_calls(session, now_s, service.setup, idle_s)


async def build_snapshot(
    app: FastAPI, seq: int, figures: dict[str, Any], recent: list[dict[str, Any]]
) -> dict[str, Any]:
    service: DispatcherService = app.state.service
    now_s: float = app.state.console_clock()
    call_log = getattr(app.state, "call_log", None)
    if call_log is not None:
        await call_log.flush()  # calls that rang a moment ago are in the snapshot too
    view = await service.read(read_engine)
    idle_s: float = app.state.settings.ringing_card_idle_s
    details, calls = await run_in_threadpool(
        _store_part, app.state.session_factory, view, now_s, service, idle_s
    )
    return {
        "type": "snapshot",
        "seq": seq,
        "now": now_s,
        "clock_speed": getattr(app.state, "clock_speed", 1.0),
        "state": {
            "queue": queue_json(view, details),
            "drivers": [driver_json(driver) for driver in view.drivers],
            "trips": trips_json(view, details),
            "scheduled": scheduled_json(view, details, service.setup.config.prebook_lead_s),
            "held": held_json(view, details),
            "calls": calls,
            "ringing_idle_s": idle_s,
            "currency": service.setup.currency,
            "recent": recent,
            "figures": figures,
        },
    }
