"""Random operation sequences keep the engine, the store and the aggregates in agreement."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import select

from api.app import create_app
from api.db import make_session_factory
from api.models import Customer, Driver, Order, Role
from dispatch.model import OrderStatus
from tests.api.app_fixtures import CENTRE, FakeClock, issue_keys, live_settings

DRIVERS = [f"car{i}" for i in range(4)]
PHONES = [f"+7912000{i:04d}" for i in range(6)]


class Harness:
    def __init__(
        self,
        portal: BlockingPortal,
        client: httpx.AsyncClient,
        keys: dict[Role, str],
        clock: FakeClock,
        app: Any,
        engine: Engine,
    ) -> None:
        self.portal, self.client, self.keys, self.clock, self.app, self.engine = (
            portal,
            client,
            keys,
            clock,
            app,
            engine,
        )

    def call(self, method: str, path: str, json: Any = None) -> httpx.Response:
        async def go() -> httpx.Response:
            return await self.client.request(
                method, path, json=json, headers={"X-API-Key": self.keys[Role.ADMIN]}
            )

        return self.portal.call(go)


@pytest.fixture
def harness(database_url: str, engine: Engine) -> Iterator[Harness]:
    keys = issue_keys(engine)
    clock = FakeClock()
    app = create_app(live_settings(database_url, tick_interval_s=0.01), clock=clock)
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(app.router.lifespan_context(app)),
    ):
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        running = Harness(portal, client, keys, clock, app, engine)
        for driver_id in DRIVERS:
            assert running.call("POST", "/drivers", {"id": driver_id}).status_code == 201
        yield running
        portal.call(client.aclose)


def random_step(h: Harness, rng: random.Random, order_ids: list[str]) -> None:
    """One operation a real shift could contain; refusals (4xx) are fine, 5xx never."""
    kind = rng.choice(
        [
            "order",
            "order",
            "online",
            "offline",
            "move",
            "arrive",
            "complete",
            "cancel",
            "override",
            "wait",
        ]
    )
    driver = rng.choice(DRIVERS)
    spot = {
        "lat": CENTRE[0] + rng.uniform(-0.05, 0.05),
        "lon": CENTRE[1] + rng.uniform(-0.05, 0.05),
    }
    if kind == "order":
        body = {
            "pickup_lat": spot["lat"],
            "pickup_lon": spot["lon"],
            "allow_duplicate": True,
            "phone": rng.choice([*PHONES, "anonymous"]),
        }
        response = h.call("POST", "/orders", body)
        if response.status_code == 201:
            order_ids.append(response.json()["id"])
    elif kind in ("online", "move"):
        response = h.call(
            "POST", f"/drivers/{driver}/{'online' if kind == 'online' else 'position'}", spot
        )
    elif kind == "offline":
        when_free = rng.choice(["", "?when_free=true"])
        response = h.call("POST", f"/drivers/{driver}/offline{when_free}")
    elif kind == "arrive":
        response = h.call("POST", f"/drivers/{driver}/arrived")
    elif kind == "complete":
        response = h.call("POST", f"/drivers/{driver}/trip-completed", {**spot, "fare": 12.0})
    elif kind == "wait":
        h.clock.advance(rng.choice([10, 400, 1300]))
        return
    elif order_ids:
        target = rng.choice(order_ids)
        if kind == "cancel":
            cause = rng.choice(["customer", "no_car", "abandoned", "driver_no_show"])
            response = h.call("POST", f"/orders/{target}/cancel", {"cause": cause})
        else:
            response = h.call(
                "POST",
                f"/orders/{target}/priority",
                {"head_start_s": rng.uniform(0, 300), "reason": "test"},
            )
    else:
        return
    assert response.status_code < 500, (kind, response.text)


def stored_state(
    h: Harness,
) -> tuple[dict[str, tuple[str, str | None]], dict[str, tuple[str, bool]], list[str]]:
    """Non-terminal orders, driver statuses (and pending leaves), and customers whose counters
    disagree with outcomes."""
    with make_session_factory(h.engine)() as session:
        rows = list(session.exec(select(Order)))
        live = {
            r.id: (r.status, r.driver_id) for r in rows if not OrderStatus(r.status).is_terminal
        }
        drivers = {
            r.id: (r.status, r.leaving) for r in session.exec(select(Driver)) if r.lat is not None
        }
        outcomes: Counter[tuple[str | None, str]] = Counter()
        for r in rows:
            if OrderStatus(r.status).is_terminal:
                failed = r.status != "completed" and (r.status != "cancelled" or r.failure_cause)
                outcomes[(r.customer_id, "failed" if failed else r.status)] += 1
        wrong = [
            c.id
            for c in session.exec(select(Customer))
            if (c.completed_count, c.cancelled_count, c.failed_count)
            != tuple(outcomes[(c.id, kind)] for kind in ("completed", "cancelled", "failed"))
        ]
    return live, drivers, wrong


def check_agreement(h: Harness) -> None:
    """Engine and store read together on the writer (no tick in between) must agree."""
    service = h.app.state.service

    def both(dispatcher: Any) -> Any:
        engine_orders = {
            v.order.order_id: (v.status.value, v.driver_id) for v in dispatcher.live_orders()
        }
        engine_drivers = {v.driver_id: (v.status.value, v.leaving) for v in dispatcher.drivers()}
        return engine_orders, engine_drivers, stored_state(h)

    async def read() -> Any:
        return await service.read(both)

    engine_orders, engine_drivers, (stored, stored_drivers, wrong) = h.portal.call(read)
    assert engine_orders == stored
    assert engine_drivers == stored_drivers
    assert wrong == []


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(5, 30))
def test_random_shifts_keep_engine_store_and_aggregates_in_agreement(
    harness: Harness, seed: int, steps: int
) -> None:
    """After any sequence of orders, driver reports, cancels, overrides and waits, all three agree."""
    rng = random.Random(seed)
    order_ids: list[str] = []
    for _ in range(steps):
        random_step(harness, rng, order_ids)
    check_agreement(harness)
