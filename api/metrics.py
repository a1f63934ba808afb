"""Prometheus figures of the live dispatcher, fed from committed events.

Every figure comes from events the writer has committed, so `/metrics` never
counts a decision the store does not hold. Lost orders are split by why they
were lost; a call abandoned before an operator answered counts as lost
(`reason="call_abandoned"`), because that caller is as gone as one refused a
car. Each app owns its registry, so several apps (tests, replicas in one
process) never share counters.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from api.events import Event

WAIT_BUCKETS_S = (15, 30, 60, 120, 180, 300, 450, 600, 900, 1200, 1800)
LATENCY_BUCKETS_S = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0)
RATE_WINDOW_S = 60.0
_LOST_CAUSES = {
    "no_car",
    "rejected_by_policy",
    "abandoned",
    "dispatcher_cancelled",
    "driver_no_show",
}


class GaugeSource(Protocol):
    @property
    def queue_length(self) -> int: ...

    @property
    def free_drivers(self) -> int: ...


class LiveMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.queue_length = Gauge("keepcab_queue_length", "Orders waiting for a car", registry=r)
        self.free_drivers = Gauge("keepcab_free_drivers", "Drivers online and free", registry=r)
        self.decisions = Counter("keepcab_decisions", "Dispatcher decisions", ["kind"], registry=r)
        self.decision_rate = Gauge(
            "keepcab_decisions_per_second",
            f"Decisions over the last {RATE_WINDOW_S:.0f} s",
            registry=r,
        )
        self.refusals = Counter(
            "keepcab_refusals", "Orders refused or expired without a car", ["cause"], registry=r
        )
        self.lost = Counter(
            "keepcab_lost_orders", "Orders and calls lost, by why", ["reason"], registry=r
        )
        self.waits = Histogram(
            "keepcab_order_wait_seconds",
            "Wait from request to car assigned",
            buckets=WAIT_BUCKETS_S,
            registry=r,
        )
        self.batch_latency = Histogram(
            "keepcab_writer_batch_seconds",
            "Writer batch time (decide, store, commit)",
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        self.calls = Counter("keepcab_calls", "Phone-system events", ["event"], registry=r)
        self.phone_lookup = Histogram(
            "keepcab_phone_lookup_seconds",
            "Ringing event handling time",
            buckets=LATENCY_BUCKETS_S,
            registry=r,
        )
        self._recent: deque[tuple[float, int]] = deque()

    def observe(
        self, events: Iterable[Event], gauges: GaugeSource, batch_s: float | None = None
    ) -> None:
        """Count committed events and refresh the gauges after a writer batch."""
        decided = 0
        for event in events:
            decided += self._count(event)
        self.queue_length.set(gauges.queue_length)
        self.free_drivers.set(gauges.free_drivers)
        if batch_s is not None:
            self.batch_latency.observe(batch_s)
        self._update_rate(decided, time.monotonic())

    def _count(self, event: Event) -> int:
        kind, data = event.kind, event.data
        if kind in {"order_created", "customer_forgotten"}:
            return 0
        self.decisions.labels(kind).inc()
        cause = data.get("cause")
        if kind in {"rejected", "expired"}:
            self.refusals.labels(str(cause)).inc()
        if kind in {"rejected", "expired", "cancelled"} and cause in _LOST_CAUSES:
            self.lost.labels(str(cause)).inc()
        if kind == "assigned" and data.get("waited_s") is not None:
            self.waits.observe(float(data["waited_s"]))
        return 1

    def _update_rate(self, decided: int, now_s: float) -> None:
        recent = self._recent
        if decided:
            recent.append((now_s, decided))
        while recent and recent[0][0] < now_s - RATE_WINDOW_S:
            recent.popleft()
        self.decision_rate.set(sum(count for _, count in recent) / RATE_WINDOW_S)

    def observe_call(self, event: str, lost_before_answer: bool) -> None:
        self.calls.labels(event).inc()
        if lost_before_answer:
            self.lost.labels("call_abandoned").inc()

    def render(self) -> bytes:
        self._update_rate(0, time.monotonic())
        return generate_latest(self.registry)
