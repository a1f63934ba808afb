"""The console hub: one subscription to the event bus, fanned out to every operator's websocket.

The hub numbers every console event (`seq`) as it takes it off the bus and
keeps the last `replay_events` of them, so a console that lost its connection
reconnects with the last `seq` it saw and gets exactly what it missed; one
that was away longer than the buffer covers gets a fresh snapshot instead.

Nothing here may slow the dispatcher: the bus hands events to the hub without
waiting, and the hub hands them to each client's own bounded queue without
waiting. A client whose queue is full (a slow link, a frozen tab) is
disconnected rather than allowed to hold anyone back; it reconnects and
catches up from the buffer. If the hub itself ever fell behind the bus (the
bus counts what it had to drop), its numbering would have a hole, so it
forgets its buffer and disconnects every client: they come back to snapshots.

The hub sees the bus only through `EventBus.subscribe` and `Subscription.next`,
so a Redis Streams bus replaces the in-process one without changes here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from api.events import Event, EventBus, Subscription

from .erasure import scrub
from .figures import ShiftFigures

log = logging.getLogger(__name__)

# Close codes a console understands (4000-4999 are for applications).
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_TOO_SLOW = 4408
CLOSE_RESYNC = 4409

RECENT_DECISIONS = 40
FORGOTTEN_WAITS = 1000  # erasures whose scrub a request may still be waiting for
BATCH_EVENTS = 64
BATCH_WAIT_S = 0.0005  # how long the hub waits for more events to enrich in one go
_PREFIXES = ("order.", "driver.", "call.")
_ORDER_KINDS = {
    "order_created": "order.created",
    "scheduled": "order.scheduled",
    "rescheduled": "order.rescheduled",
    "queued": "order.queued",
    "assigned": "order.assigned",
    "rejected": "order.rejected",
    "expired": "order.expired",
    "cancelled": "order.cancelled",
    "picked_up": "order.picked_up",
    "completed": "order.completed",
    "priority_overridden": "order.priority_overridden",
    "held": "order.held",
    "hold_released": "order.unheld",
    "driver_status": "driver.status",
    "driver_leaving": "driver.leaving",
}


def console_kind(kind: str) -> str | None:
    """The console's dotted name for a bus event, or None for events consoles do not get."""
    dotted = _ORDER_KINDS.get(kind, kind)
    return dotted if dotted.startswith(_PREFIXES) else None


class Outbox(Protocol):
    """Where the hub puts a client's messages; the websocket endpoint drains it."""

    def offer(self, text: str, seq: int | None = None) -> bool: ...

    def reset(self) -> None: ...

    def close(self, code: int, reason: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Numbered:
    seq: int
    kind: str
    text: str  # the JSON message as sent, encoded once for every client


Enricher = Callable[[list[tuple[str, Event]]], Awaitable[list[dict[str, Any]]]]


class ConsoleHub:
    def __init__(
        self,
        bus: EventBus,
        enrich: Enricher,
        figures: ShiftFigures,
        *,
        replay_events: int = 5000,
        bus_buffer: int = 20_000,
    ) -> None:
        self._bus, self._enrich, self.figures = bus, enrich, figures
        self._bus_buffer = bus_buffer
        self._buffer: deque[Numbered] = deque(maxlen=replay_events)
        self._recent: deque[dict[str, Any]] = deque(maxlen=RECENT_DECISIONS)
        self._clients: set[Outbox] = set()
        self._forgotten: dict[str, asyncio.Event] = {}
        self._subscription: Subscription | None = None
        self._task: asyncio.Task[None] | None = None
        self._dropped_seen = 0
        self.seq = 0
        self.taken = 0  # bus events taken and fully handled (numbered or skipped)
        self.stream = secrets.token_hex(6)  # names this numbering: a restarted server starts anew
        # A shared bus (scale-out) numbers events itself: every replica's hub then uses its
        # numbers and its name, so a console resumes on whichever replica it reaches.
        self._bus_numbers = bool(getattr(bus, "numbers_events", False))
        self.disconnected_slow = 0

    # ---- life cycle -------------------------------------------------------------------

    def start(self) -> None:
        if self._bus_numbers:
            self.stream = str(getattr(self._bus, "stream_name", self.stream))
        self._subscription = self._bus.subscribe(self._bus_buffer)
        self._task = asyncio.create_task(self._pump(), name="keepcab-console-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._subscription is not None:
            self._subscription.close()
        for client in list(self._clients):
            client.close(1001, "server shutting down")
        self._clients.clear()

    # ---- clients ----------------------------------------------------------------------

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def attach(self, client: Outbox, last_seq: int | None) -> bool:
        """Register a client; True if it was resumed from the buffer (events already queued).

        False means the caller must send a snapshot first. Either way every
        event numbered after the resume point or the snapshot reaches the
        client, because the hub's task cannot run between this check and the
        registration (no await in between).
        """
        resumed = last_seq is not None and self._can_resume(last_seq)
        for numbered in self._buffer if resumed else ():
            if numbered.seq > (last_seq or 0) and not client.offer(numbered.text, numbered.seq):
                client.reset()  # more missed than the client may queue: a snapshot is cheaper
                resumed = False
                break
        self._clients.add(client)
        return resumed

    def detach(self, client: Outbox) -> None:
        self._clients.discard(client)

    def _can_resume(self, last_seq: int) -> bool:
        if last_seq > self.seq or last_seq < 0:
            return False  # from another life of the server: numbering restarted
        if last_seq == self.seq:
            return True
        return bool(self._buffer) and self._buffer[0].seq <= last_seq + 1

    def recent(self) -> list[dict[str, Any]]:
        return list(self._recent)

    def forget(self, customer_id: str, order_ids: list[str]) -> int:
        """Scrub an erased customer from the recent list and the replay buffer; messages changed.

        Runs in the hub's task without an await, so no console can attach
        (and be handed the old copies) halfway through.
        """
        for index, message in scrub(self._recent, customer_id, order_ids).items():
            self._recent[index] = message
        buffered = scrub((json.loads(n.text) for n in self._buffer), customer_id, order_ids)
        for index, message in buffered.items():
            old = self._buffer[index]
            self._buffer[index] = Numbered(old.seq, old.kind, json.dumps(message, separators=(",", ":")))
        self._scrubbed(customer_id).set()
        return len(buffered)

    def _scrubbed(self, customer_id: str) -> asyncio.Event:
        if customer_id not in self._forgotten and len(self._forgotten) >= FORGOTTEN_WAITS:
            del self._forgotten[next(iter(self._forgotten))]
        return self._forgotten.setdefault(customer_id, asyncio.Event())

    async def wait_forgotten(self, customer_id: str, timeout_s: float) -> bool:
        """Wait until this hub has scrubbed an erased customer (True) or `timeout_s` passed.

        The erasure request waits for it, so its answer means no console
        connecting afterwards can be handed the old copies.
        """
        scrubbed = self._scrubbed(customer_id)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(scrubbed.wait(), timeout_s)
        self._forgotten.pop(customer_id, None)
        return scrubbed.is_set()

    # ---- the pump ---------------------------------------------------------------------

    async def _pump(self) -> None:
        while True:
            batch = await self._take_batch()
            self._check_dropped()
            wanted = [(kind, event) for event in batch if (kind := console_kind(event.kind))]
            if wanted:
                await self._number(wanted)
            for event in batch:
                customer_id = event.data.get("customer_id")
                if event.kind == "customer_forgotten" and isinstance(customer_id, str):
                    self.forget(customer_id, list(event.data.get("order_ids") or []))
            self.taken += len(batch)

    async def _number(self, wanted: list[tuple[str, Event]]) -> None:
        try:
            enriched = await self._enrich(wanted)
        except Exception:  # a failed lookup must not stop the stream; send what we have
            log.exception("enriching %d events failed", len(wanted))
            enriched = [dict(event.data) for _, event in wanted]
        for (kind, event), data in zip(wanted, enriched, strict=True):
            self.publish(kind, event.at, data, event.id if self._bus_numbers else None)
        self._send_figures()

    def _send_figures(self) -> None:
        """The shift figures after a batch (not numbered: each one replaces the last)."""
        text = json.dumps({"type": "figures", "seq": self.seq, "figures": self.figures.to_json()})
        for client in list(self._clients):
            if not client.offer(text):
                self._clients.discard(client)
                self.disconnected_slow += 1
                client.close(CLOSE_TOO_SLOW, "too slow: reconnect with your last seq")

    async def _take_batch(self) -> list[Event]:
        """The next event and any that arrive right behind it (one store read for all of them)."""
        assert self._subscription is not None
        first = None
        while first is None:
            first = await self._subscription.next()
        batch = [first]
        while len(batch) < BATCH_EVENTS:
            more = await self._subscription.next(BATCH_WAIT_S)
            if more is None:
                break
            batch.append(more)
        return batch

    def publish(self, kind: str, at: float, data: dict[str, Any], seq: int | None = None) -> int:
        """Number an event (the next seq, or the shared bus's number) and hand it to every client."""
        self.seq = self.seq + 1 if seq is None else seq
        message = {"type": "event", "seq": self.seq, "kind": kind, "at": at, "data": data}
        numbered = Numbered(self.seq, kind, json.dumps(message, separators=(",", ":")))
        self._buffer.append(numbered)
        self.figures.count(kind, at, data)
        if kind not in {"driver.moved", "driver.status"}:
            self._recent.append(message)
        for client in list(self._clients):
            if not client.offer(numbered.text, numbered.seq):
                self._clients.discard(client)
                self.disconnected_slow += 1
                client.close(CLOSE_TOO_SLOW, "too slow: reconnect with your last seq")
        return self.seq

    def _check_dropped(self) -> None:
        assert self._subscription is not None
        dropped = self._subscription.dropped
        if dropped == self._dropped_seen:
            return
        log.warning("console hub fell behind the bus (%d dropped): resync", dropped)
        self._dropped_seen = dropped
        self._buffer.clear()
        if not self._bus_numbers:
            self.seq += 1  # a hole: no client's last seq can resume across it
        for client in list(self._clients):
            client.close(CLOSE_RESYNC, "events were lost: reconnect for a snapshot")
        self._clients.clear()
