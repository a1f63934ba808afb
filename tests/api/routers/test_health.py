"""Health, readiness and Prometheus metrics."""

from __future__ import annotations

from api.models import Role
from tests.api.app_fixtures import Live


async def test_healthz_and_readyz_are_up_when_the_store_is(live: Live) -> None:
    """Both 200; readiness checks the store and the dispatcher."""
    assert (await live.client.get("/healthz")).json()["status"] == "ok"
    ready = await live.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {
        "store": "ok",
        "dispatcher": "ok",
        "writer": "ok",
    }


async def test_metrics_report_queue_refusals_lost_calls_and_decisions(live: Live) -> None:
    """Queue length, refusals by cause, lost orders (incl. abandoned calls), decisions/s."""
    await live.order()
    order = await live.order(lat=55.9)
    await live.post(f"/orders/{order['id']}/cancel", json={"cause": "no_car"})
    await live.post(
        "/phone/events", role=Role.PHONE, json={"event": "call.ringing", "call_id": "1"}
    )
    await live.post(
        "/phone/events", role=Role.PHONE, json={"event": "call.abandoned", "call_id": "1"}
    )
    text = (await live.client.get("/metrics")).text
    assert "keepcab_queue_length 1.0" in text
    assert 'keepcab_lost_orders_total{reason="no_car"} 1.0' in text
    assert 'keepcab_lost_orders_total{reason="call_abandoned"} 1.0' in text
    assert 'keepcab_decisions_total{kind="queued"} 2.0' in text
    assert "keepcab_decisions_per_second" in text and "keepcab_order_wait_seconds_bucket" in text
