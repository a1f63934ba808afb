"""Writing the dispatcher's decisions into the store, inside the writer's transaction.

Each decision updates the row it is about (orders, drivers), appends one row
to the order event log, and, for an order that just ended, folds the outcome
into the customer's valuation aggregates — all in the caller's transaction, so
an order's terminal status and the score the next call sees commit together or
not at all. Driver rows are copied from the engine's own view after the
decisions, so the table always holds exactly what `Dispatcher.restore` needs.

Personal data (address text, numbers, names) never goes into event payloads:
forgetting a customer must not mean rewriting the evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlmodel import Session

from api.aggregates import record_outcome
from api.events import Event
from api.models import Customer, Driver, Order, OrderEvent, from_epoch_s
from dispatch import decisions as d
from dispatch.engine import Dispatcher
from dispatch.errors import UnknownDriver
from dispatch.model import OrderStatus, PriorityScore
from valuation.params import ValuationParams


class DecisionStore:
    """Applies decisions to rows; one instance per writer, reused across transactions."""

    def __init__(self, params: ValuationParams) -> None:
        self.params = params
        self._appliers: dict[type[Any], Callable[[Session, Any, str], dict[str, Any]]] = {
            d.OrderScheduled: self._scheduled,
            d.OrderRescheduled: self._rescheduled,
            d.OrderQueued: self._queued,
            d.OrderAssigned: self._assigned,
            d.OrderRejected: self._rejected,
            d.OrderExpired: self._expired,
            d.OrderCancelled: self._cancelled,
            d.OrderPickedUp: self._picked_up,
            d.OrderCompleted: self._completed,
            d.PriorityOverridden: self._overridden,
            d.OrderHeld: self._held,
            d.OrderHoldReleased: self._hold_released,
            d.DriverStatusChanged: self._driver_changed,
            d.DriverLeaving: self._driver_leaving,
        }

    def persist(
        self,
        session: Session,
        decisions: list[d.Decision],
        dispatcher: Dispatcher,
        actor: str,
        now: float,
        cause: str | None = None,
    ) -> list[Event]:
        """Store every decision and return the events to publish once the transaction commits."""
        events: list[Event] = []
        drivers: set[str] = set()
        for decision in decisions:
            payload = self._appliers[type(decision)](session, decision, actor)
            kind = _KIND[type(decision)]
            order_id = payload.pop("order_id", None)
            driver_id = payload.pop("driver_id", None)
            status = payload.pop("status", None)
            event_cause = payload.pop("cause", None) or cause
            if cause is not None and event_cause != cause:
                payload["reason"] = cause  # the operator's words beside a failure cause
            if driver_id is not None and isinstance(decision, _DRIVER_DECISIONS):
                drivers.add(driver_id)
            session.add(
                OrderEvent(
                    order_id=order_id,
                    driver_id=driver_id,
                    at=from_epoch_s(decision.at),
                    kind=kind,
                    status=status,
                    actor=actor,
                    cause=event_cause,
                    payload=payload,
                )
            )
            events.append(
                Event(
                    kind,
                    decision.at,
                    {
                        "order_id": order_id,
                        "driver_id": driver_id,
                        "status": status,
                        "cause": event_cause,
                        **payload,
                    },
                )
            )
        for driver_id in drivers:
            self.sync_driver(session, dispatcher, driver_id, now)
        return events

    def sync_driver(
        self, session: Session, dispatcher: Dispatcher, driver_id: str, now: float
    ) -> None:
        """Copy the engine's view of a driver into its row (status, position, order, leaving)."""
        row = session.get(Driver, driver_id)
        if row is None:
            raise UnknownDriver(driver_id)
        view = dispatcher.driver_view(driver_id)
        row.status = view.status.value
        row.lat, row.lon = view.position.lat, view.position.lon
        row.order_id = view.order_id
        row.leaving = view.leaving
        row.updated_at = from_epoch_s(now)
        session.add(row)

    # ---- one applier per decision; each returns the event payload -----------------

    def _order(self, session: Session, order_id: str) -> Order:
        row = session.get(Order, order_id)
        if row is None:
            raise LookupError(f"decision about order {order_id!r}, which is not stored")
        return row

    def _touch(self, session: Session, row: Order, status: OrderStatus, at: float) -> None:
        row.status = status.value
        row.updated_at = from_epoch_s(at)
        session.add(row)

    def _score(self, row: Order, score: PriorityScore, head_start_s: float) -> None:
        row.score_head_start_s = score.head_start_s
        row.head_start_s = head_start_s
        row.tier, row.reason = score.tier.value, score.reason[:300]
        row.value, row.value_at_risk = score.value, score.value_at_risk

    def _end(
        self, session: Session, row: Order, status: OrderStatus, cause: str | None, at: float
    ) -> None:
        """A terminal status, stored together with the customer's updated aggregates."""
        row.failure_cause = cause
        row.ended_at = from_epoch_s(at)
        row.next_driver_id = None
        self._touch(session, row, status, at)
        if row.customer_id is not None:
            customer = session.get(Customer, row.customer_id)
            if customer is not None:
                record_outcome(customer, row, self.params)
                session.add(customer)

    def _scheduled(self, session: Session, x: d.OrderScheduled, actor: str) -> dict[str, Any]:
        row = self._order(session, x.order.order_id)
        self._touch(session, row, OrderStatus.SCHEDULED, x.at)
        return {"order_id": row.id, "status": row.status, "release_at": x.release_at}

    def _rescheduled(self, session: Session, x: d.OrderRescheduled, actor: str) -> dict[str, Any]:
        """The new time and point go to the row; the log keeps the times (no address text)."""
        row = self._order(session, x.order.order_id)
        row.pickup_at = None if x.order.pickup_at is None else from_epoch_s(x.order.pickup_at)
        row.pickup_lat, row.pickup_lon = x.order.pickup.lat, x.order.pickup.lon
        row.updated_at = from_epoch_s(x.at)
        session.add(row)
        pickup_at = x.order.pickup_at
        return {"order_id": row.id, "status": row.status, "release_at": x.release_at, "pickup_at": pickup_at}

    def _queued(self, session: Session, x: d.OrderQueued, actor: str) -> dict[str, Any]:
        row = self._order(session, x.order.order_id)
        self._score(row, x.score, x.head_start_s)
        self._touch(session, row, OrderStatus.QUEUED, x.at)
        return {
            "order_id": row.id,
            "status": row.status,
            "head_start_s": x.head_start_s,
            "effective_at": x.effective_at,
            "tier": x.score.tier.value,
        }

    def _assigned(self, session: Session, x: d.OrderAssigned, actor: str) -> dict[str, Any]:
        row = self._order(session, x.order_id)
        row.driver_id, row.eta_s, row.dist_m = x.driver_id, x.eta_s, x.dist_m
        row.next_driver_id = None  # a promise kept, or given up for a free car
        row.assigned_at = from_epoch_s(x.at)
        self._touch(session, row, OrderStatus.ASSIGNED, x.at)
        return {
            "order_id": row.id,
            "driver_id": x.driver_id,
            "status": row.status,
            "eta_s": x.eta_s,
            "dist_m": x.dist_m,
            "manual": x.manual,
            "waited_s": max(0.0, x.at - _due_at(row)),
        }

    def _rejected(self, session: Session, x: d.OrderRejected, actor: str) -> dict[str, Any]:
        row = self._order(session, x.order.order_id)
        self._score(row, x.score, 0.0)
        self._end(session, row, OrderStatus.REJECTED, x.cause.value, x.at)
        return {"order_id": row.id, "status": row.status, "cause": x.cause.value}

    def _expired(self, session: Session, x: d.OrderExpired, actor: str) -> dict[str, Any]:
        row = self._order(session, x.order_id)
        self._end(session, row, OrderStatus.REJECTED, x.cause.value, x.at)
        return {
            "order_id": row.id,
            "status": row.status,
            "cause": x.cause.value,
            "waited_s": x.waited_s,
        }

    def _cancelled(self, session: Session, x: d.OrderCancelled, actor: str) -> dict[str, Any]:
        row = self._order(session, x.order_id)
        status = OrderStatus.CANCELLED if x.cause is None else x.cause.terminal_status
        cause = None if x.cause is None else x.cause.value
        self._end(session, row, status, cause, x.at)
        return {"order_id": row.id, "driver_id": x.driver_id, "status": row.status, "cause": cause}

    def _picked_up(self, session: Session, x: d.OrderPickedUp, actor: str) -> dict[str, Any]:
        row = self._order(session, x.order_id)
        row.picked_up_at = from_epoch_s(x.at)
        self._touch(session, row, OrderStatus.PICKED_UP, x.at)
        return {"order_id": row.id, "driver_id": x.driver_id, "status": row.status}

    def _completed(self, session: Session, x: d.OrderCompleted, actor: str) -> dict[str, Any]:
        row = self._order(session, x.order_id)
        row.fare = x.fare
        self._end(session, row, OrderStatus.COMPLETED, None, x.at)
        return {"order_id": row.id, "driver_id": x.driver_id, "status": row.status, "fare": x.fare}

    def _overridden(self, session: Session, x: d.PriorityOverridden, actor: str) -> dict[str, Any]:
        row = self._order(session, x.order_id)
        row.head_start_s = x.new_head_start_s
        row.updated_at = from_epoch_s(x.at)
        session.add(row)
        return {
            "order_id": row.id,
            "status": row.status,
            "cause": x.reason[:300],
            "old_head_start_s": x.old_head_start_s,
            "new_head_start_s": x.new_head_start_s,
            "effective_at": x.effective_at,
        }

    def _held(self, session: Session, x: d.OrderHeld, actor: str) -> dict[str, Any]:
        row = self._order(session, x.order_id)
        row.next_driver_id = x.driver_id
        row.updated_at = from_epoch_s(x.at)
        session.add(row)
        return {"order_id": row.id, "driver_id": x.driver_id, "status": row.status}

    def _hold_released(self, session: Session, x: d.OrderHoldReleased, actor: str) -> dict[str, Any]:
        row = self._order(session, x.order_id)
        row.next_driver_id = None
        row.updated_at = from_epoch_s(x.at)
        session.add(row)
        return {
            "order_id": row.id,
            "driver_id": x.driver_id,
            "status": row.status,
            "effective_at": x.effective_at,
            "head_start_s": row.head_start_s,
        }

    def _driver_changed(
        self, session: Session, x: d.DriverStatusChanged, actor: str
    ) -> dict[str, Any]:
        return {
            "driver_id": x.driver_id,
            "driver_status": x.status.value,
            "lat": x.position.lat,
            "lon": x.position.lon,
        }

    def _driver_leaving(self, session: Session, x: d.DriverLeaving, actor: str) -> dict[str, Any]:
        return {"driver_id": x.driver_id, "leaving": x.leaving}


def _due_at(row: Order) -> float:
    """When the customer wanted the car: the pickup time of a pre-booking, else the call."""
    return (row.pickup_at or row.requested_at).timestamp()


_KIND: dict[type[Any], str] = {
    d.OrderScheduled: "scheduled",
    d.OrderRescheduled: "rescheduled",
    d.OrderQueued: "queued",
    d.OrderAssigned: "assigned",
    d.OrderRejected: "rejected",
    d.OrderExpired: "expired",
    d.OrderCancelled: "cancelled",
    d.OrderPickedUp: "picked_up",
    d.OrderCompleted: "completed",
    d.PriorityOverridden: "priority_overridden",
    d.OrderHeld: "held",
    d.OrderHoldReleased: "hold_released",
    d.DriverStatusChanged: "driver_status",
    d.DriverLeaving: "driver_leaving",
}
# Decisions after which the driver's row is copied again from the engine.
_DRIVER_DECISIONS = (d.DriverStatusChanged, d.DriverLeaving)
