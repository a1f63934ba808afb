"""Erasure in the order event log: the operators' own words about an erased customer's orders.

The event log is append-only evidence and holds no personal data by design
(`api.live.store`), with one gap: the free text an operator types when
cancelling an order or overriding its priority ("his wife called back from
Lenina 5") is stored as the event's `cause` or its payload's `reason`. So
erasing a customer blanks those words, and nothing else, in the events of
the customer's orders and in every event the same command wrote (a driver
freed by the cancel carries the same words): same time, same text. This is
the one change the log's rows ever see; it bypasses the mapper's
append-only guard on purpose, with a Core UPDATE of two columns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from api.models import OrderEvent
from dispatch.model import FailureCause

FIXED_CAUSES = frozenset(c.value for c in FailureCause) | {
    "manual assignment", "assigned when free", "back to the queue",
}  # fmt: skip


def _words(row: OrderEvent) -> set[tuple[datetime, str]]:
    found = set()
    if row.cause is not None and row.cause not in FIXED_CAUSES:
        found.add((row.at, row.cause))
    reason = row.payload.get("reason") if isinstance(row.payload, dict) else None
    if isinstance(reason, str):
        found.add((row.at, reason))
    return found


def erase_free_text(session: Session, order_ids: list[str]) -> int:
    """Blank the operators' words about these orders wherever the same command wrote them."""
    if not order_ids:
        return 0
    rows = session.exec(select(OrderEvent).where(col(OrderEvent.order_id).in_(order_ids))).all()
    said = {pair for row in rows for pair in _words(row)}
    if not said:
        return 0
    same_time = select(OrderEvent).where(col(OrderEvent.at).in_({at for at, _ in said}))
    changed = 0
    for row in session.exec(same_time).all():
        cause = None if (row.at, row.cause) in said else row.cause
        payload: dict[str, Any] = dict(row.payload or {})
        if (row.at, payload.get("reason")) in said:
            payload["reason"] = None
        if cause != row.cause or payload != row.payload:
            session.execute(
                update(OrderEvent).where(col(OrderEvent.id) == row.id).values(cause=cause, payload=payload)
            )
            changed += 1
    return changed
