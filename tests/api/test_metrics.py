"""Prometheus figures from committed events."""

from __future__ import annotations

from dataclasses import dataclass

from api.events import Event
from api.metrics import RATE_WINDOW_S, LiveMetrics


@dataclass
class Gauges:
    queue_length: int = 3
    free_drivers: int = 2


def value(metrics: LiveMetrics, name: str, **labels: str) -> float:
    found = metrics.registry.get_sample_value(name, labels or None)
    return 0.0 if found is None else found


def test_decisions_refusals_and_losses_are_counted_by_kind_and_cause() -> None:
    """Rejected and expired are refusals; customer cancels are not lost, no-shows are."""
    metrics = LiveMetrics()
    metrics.observe(
        [
            Event("queued", 1.0),
            Event("rejected", 1.0, {"cause": "no_car"}),
            Event("expired", 2.0, {"cause": "no_car"}),
            Event("cancelled", 3.0, {"cause": None}),
            Event("cancelled", 3.0, {"cause": "driver_no_show"}),
            Event("order_created", 1.0),
        ],
        Gauges(),
    )
    assert value(metrics, "keepcab_decisions_total", kind="queued") == 1
    assert value(metrics, "keepcab_decisions_total", kind="order_created") == 0
    assert value(metrics, "keepcab_refusals_total", cause="no_car") == 2
    assert value(metrics, "keepcab_lost_orders_total", reason="no_car") == 2
    assert value(metrics, "keepcab_lost_orders_total", reason="driver_no_show") == 1
    assert value(metrics, "keepcab_lost_orders_total", reason="None") == 0


def test_gauges_and_waits_follow_the_latest_batch() -> None:
    """Queue length and free drivers are set; assignment waits land in the histogram."""
    metrics = LiveMetrics()
    metrics.observe([Event("assigned", 1.0, {"waited_s": 75.0})], Gauges(), batch_s=0.002)
    assert (
        value(metrics, "keepcab_queue_length") == 3 and value(metrics, "keepcab_free_drivers") == 2
    )
    assert value(metrics, "keepcab_order_wait_seconds_count") == 1
    assert value(metrics, "keepcab_order_wait_seconds_bucket", le="60.0") == 0
    assert value(metrics, "keepcab_order_wait_seconds_bucket", le="120.0") == 1
    assert value(metrics, "keepcab_writer_batch_seconds_count") == 1


def test_an_abandoned_call_is_a_lost_order() -> None:
    """Hanging up before an answer counts as lost; other call events only as calls."""
    metrics = LiveMetrics()
    metrics.observe_call("call.ringing", lost_before_answer=False)
    metrics.observe_call("call.abandoned", lost_before_answer=True)
    assert value(metrics, "keepcab_calls_total", event="call.ringing") == 1
    assert value(metrics, "keepcab_lost_orders_total", reason="call_abandoned") == 1


def test_decisions_per_second_is_a_sliding_window() -> None:
    """N decisions within the window read as N / window; older ones drop out."""
    metrics = LiveMetrics()
    metrics._update_rate(30, now_s=1000.0)
    assert value(metrics, "keepcab_decisions_per_second") == 30 / RATE_WINDOW_S
    metrics._update_rate(0, now_s=1000.0 + RATE_WINDOW_S + 1)
    assert value(metrics, "keepcab_decisions_per_second") == 0


def test_two_apps_never_share_counters() -> None:
    """Each LiveMetrics has its own registry."""
    a, b = LiveMetrics(), LiveMetrics()
    a.observe_call("call.ringing", lost_before_answer=False)
    assert value(b, "keepcab_calls_total", event="call.ringing") == 0
    assert b"keepcab_queue_length" in b.render()
