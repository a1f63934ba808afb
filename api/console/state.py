"""What a console needs to draw: snapshots, and the details events leave out.

Bus events carry no personal data (the order event log is evidence, and
forgetting a customer must not rewrite it), so the console's pickup addresses
and names are read here, from the store, at the moment an event is sent to
the operators who need them. The queue's order, the drivers and the live
trips come from the dispatcher itself, read between two writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from api.caller_index import KnownCaller, LiveOrder, Place
from api.events import Event
from api.live.writer import WriterSetup
from api.models import Call, Customer, Order, epoch_s, from_epoch_s
from api.routers.customers import ScorePublic, active_order, current_score, recent_addresses
from dispatch.engine import Dispatcher
from dispatch.model import DriverView, OrderStatus, OrderView, QueuedOrderView

_DETAILED = {
    "order.queued", "order.scheduled", "order.rescheduled", "order.created", "order.assigned", "order.held",
    "order.unheld",
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class EngineView:
    queue: list[QueuedOrderView]
    drivers: list[DriverView]
    trips: list[OrderView]
    scheduled: list[OrderView] = field(default_factory=list)  # pre-bookings not yet released
    held: list[OrderView] = field(default_factory=list)  # waiting orders promised to a busy car


def read_engine(dispatcher: Dispatcher) -> EngineView:
    """Run on the writer between two commands: one consistent view of queue, cars and trips."""
    live = dispatcher.live_orders()
    trips = [view for view in live if view.status in (OrderStatus.ASSIGNED, OrderStatus.PICKED_UP)]
    scheduled = [view for view in live if view.status is OrderStatus.SCHEDULED]
    held = [view for view in live if view.held_for is not None]
    return EngineView(dispatcher.queue_view(), dispatcher.drivers(), trips, scheduled, held)


def driver_json(view: DriverView) -> dict[str, Any]:
    return {
        "driver_id": view.driver_id,
        "status": view.status.value,
        "lat": view.position.lat,
        "lon": view.position.lon,
        "order_id": view.order_id,
        "leaving": view.leaving,
        "next_order_id": view.next_order_id,
    }


def order_details(session: Session, order_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Address, customer and times of orders, for the queue and the map."""
    if not order_ids:
        return {}
    rows = session.exec(select(Order).where(col(Order.id).in_(order_ids))).all()
    names = _names(session, {row.customer_id for row in rows if row.customer_id})
    return {
        row.id: {
            "order_id": row.id,
            "customer_id": row.customer_id,
            "display_name": names.get(row.customer_id or ""),
            "caller": row.caller_e164,  # staff only: how to call back a caller with no name on file
            "pickup_address": row.pickup_address,
            "pickup_lat": row.pickup_lat,
            "pickup_lon": row.pickup_lon,
            "dropoff_address": row.dropoff_address,
            "dropoff_lat": row.dropoff_lat,
            "dropoff_lon": row.dropoff_lon,
            "fare_estimate": row.fare_estimate,
            "requested_at": epoch_s(row.requested_at),
            "pickup_at": None if row.pickup_at is None else epoch_s(row.pickup_at),
            "tier": row.tier,
            "reason": row.reason,
            "head_start_s": row.head_start_s,
            "source": row.source,
        }
        for row in rows
    }


def _names(session: Session, customer_ids: set[str]) -> dict[str, str | None]:
    if not customer_ids:
        return {}
    rows = session.exec(select(Customer).where(col(Customer.id).in_(sorted(customer_ids))))
    return {row.id: row.display_name for row in rows}


def queue_json(view: EngineView, details: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    entries = []
    for position, item in enumerate(view.queue, start=1):
        order = item.order
        entry = {
            **details.get(order.order_id, {}),
            "order_id": order.order_id,
            "position": position,
            "customer_id": order.customer_id,
            "pickup_lat": order.pickup.lat,
            "pickup_lon": order.pickup.lon,
            "requested_at": order.requested_at,
            "pickup_at": order.pickup_at,
            "effective_at": item.effective_at,
            "head_start_s": item.head_start_s,
            "tier": item.tier.value,
            "reason": item.reason,
            "status": "queued",
        }
        entries.append(entry)
    return entries


def trips_json(view: EngineView, details: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            **details.get(trip.order.order_id, {}),
            "order_id": trip.order.order_id,
            "status": trip.status.value,
            "driver_id": trip.driver_id,
            "pickup_lat": trip.order.pickup.lat,
            "pickup_lon": trip.order.pickup.lon,
        }
        for trip in view.trips
    ]


def caller_card(session: Session, customer: Customer, now_s: float, setup: WriterSetup) -> dict[str, Any]:
    """Who is calling, as the incoming-call card shows them (never shown to the caller), read
    from the store: for calls a console asks about after they rang (its snapshot)."""
    order = active_order(session, customer.id)
    live = None if order is None else LiveOrder(order.id, order.status, order.driver_id, order.eta_s)
    places = tuple(Place(p.text, p.lat, p.lon) for p in recent_addresses(session, customer.id))
    return indexed_card(KnownCaller(customer, places, live), current_score(customer, now_s, setup))


def indexed_card(known: KnownCaller, score: ScorePublic) -> dict[str, Any]:
    """The same card from the caller index: what a ring builds without touching the store, so
    the console's card for a new call costs no query (api.caller_index)."""
    order = known.active_order
    return {
        "customer_id": known.customer.id,
        "display_name": known.customer.display_name,
        "notes": known.customer.notes,
        "confirm_required": known.customer.confirm_required,
        "confirm_reason": known.customer.confirm_reason,
        "tier": score.tier.value,
        "reason": score.reason,
        "places": [{"text": place.text, "lat": place.lat, "lon": place.lon} for place in known.addresses],
        "active_order": None
        if order is None
        else {
            "order_id": order.order_id,
            "status": order.status,
            "driver_id": order.driver_id,
            "eta_s": order.eta_s,
        },
    }


def ringing_calls(session: Session, now_s: float, setup: WriterSetup, idle_s: float) -> list[dict[str, Any]]:
    """Calls ringing or on the line now, oldest first, with their caller cards.

    A call without any event for `idle_s` is left out: its PBX never said it ended.
    """
    since = from_epoch_s(now_s - idle_s)
    calls = session.exec(
        select(Call)
        .where(col(Call.ended_at).is_(None))
        .where((col(Call.ringing_at) >= since) | (col(Call.answered_at) >= since))
        .order_by(col(Call.ringing_at))
    ).all()
    cards = []
    for call in calls:
        last = call.ringing_at if call.answered_at is None else max(call.answered_at, call.ringing_at)
        card: dict[str, Any] = {
            "call_id": call.external_id,
            "caller": call.caller_raw,
            "ringing_at": epoch_s(call.ringing_at),
            "last_event_at": epoch_s(last),
            "answered": call.answered_at is not None,
            "known": call.customer_id is not None,
        }
        customer = None if call.customer_id is None else session.get(Customer, call.customer_id)
        if customer is not None:
            card.update(caller_card(session, customer, now_s, setup))
        cards.append(card)
    return cards


def needs_store(events: list[tuple[str, Event]]) -> bool:
    """Whether enriching these events reads the store (orders' details, or a ring that came
    without its card); when not, the hub enriches them on the loop, with no thread hop."""
    return any(
        (kind in _DETAILED and event.data.get("order_id"))
        or (kind == "call.ringing" and "places" not in event.data and event.data.get("customer_id"))
        for kind, event in events
    )


def plain_payloads(setup: WriterSetup, events: list[tuple[str, Event]]) -> list[dict[str, Any]]:
    """The payloads as they came, rings with their time: what a console gets with no store read."""
    return [
        _ringing(None, event, setup) if kind == "call.ringing" else dict(event.data) for kind, event in events
    ]


def enrich_events(
    session_factory: sessionmaker[Session], setup: WriterSetup, events: list[tuple[str, Event]]
) -> list[dict[str, Any]]:
    """Event payloads with the details a console shows, read from the store (on a worker
    thread); the hub calls `plain_payloads` instead when nothing `needs_store`."""
    wanted = [str(e.data["order_id"]) for kind, e in events if kind in _DETAILED and e.data.get("order_id")]
    with session_factory() as session:
        details = order_details(session, wanted)
        enriched = []
        for kind, event in events:
            data = dict(event.data)
            order_id = data.get("order_id")
            if kind in _DETAILED and order_id in details:
                data = {**details[str(order_id)], **data}
            elif kind == "call.ringing":
                data = _ringing(session, event, setup)
            enriched.append(data)
        return enriched


def _ringing(session: Session | None, event: Event, setup: WriterSetup) -> dict[str, Any]:
    data = {**event.data, "ringing_at": event.at}
    customer_id = data.get("customer_id")
    if "places" in data or session is None or customer_id is None:
        return data  # the ring carried its card, built from the caller index, or is a stranger
    customer = session.get(Customer, customer_id)
    if customer is not None:
        data.update(caller_card(session, customer, event.at, setup))
    return data
