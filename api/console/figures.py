"""The shift figures at the top of the console, kept by the hub from the events it numbers.

They are counted where the events are numbered, so a snapshot's figures and
its `seq` always agree: a console never counts an event twice or misses one.
At start they are read from the order event log and the call log. The shift
is the calendar day on the dispatcher's clock, in the server's time zone.

"Abandoned" counts orders given up by waiting customers and, separately,
calls that ended before an operator answered: a caller who hung up in the
phone queue is as lost as one refused a car.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from api.models import Call, CallOutcome, OrderEvent, from_epoch_s

_REFUSED = ("order.rejected", "order.expired")
_SEEN_CALLS = 4096


def shift_start(now_s: float) -> float:
    """Local midnight of the day `now_s` falls in."""
    local = datetime.fromtimestamp(now_s).astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


@dataclass(slots=True)
class Counts:
    orders: int = 0
    assigned: int = 0
    refused: int = 0
    abandoned: int = 0
    calls_abandoned: int = 0


class ShiftFigures:
    def __init__(self, started_at: float, counts: Counts | None = None) -> None:
        self.started_at = started_at
        self.counts = counts or Counts()
        self._ends_at = _next_day(started_at)
        self._calls_counted: deque[str] = deque(maxlen=_SEEN_CALLS)

    def count(self, kind: str, at: float, data: dict[str, Any]) -> None:
        if at >= self._ends_at:
            self.started_at, self.counts = shift_start(at), Counts()
            self._ends_at = _next_day(self.started_at)
        c = self.counts
        if kind == "order.created":
            c.orders += 1
        elif kind == "order.assigned":
            c.assigned += 1
        elif kind in _REFUSED:
            c.refused += 1
        elif kind == "order.cancelled" and data.get("cause") == "abandoned":
            c.abandoned += 1
        elif kind.startswith("call.") and data.get("outcome") == CallOutcome.ABANDONED.value:
            call_id = str(data.get("call_id"))
            if call_id not in self._calls_counted:
                self._calls_counted.append(call_id)
                c.calls_abandoned += 1

    def to_json(self) -> dict[str, Any]:
        return {"shift_started_at": self.started_at, **asdict(self.counts)}


def _next_day(started_at: float) -> float:
    local = datetime.fromtimestamp(started_at).astimezone()
    return shift_start((local + timedelta(hours=26)).timestamp())


def load_figures(session: Session, now_s: float) -> ShiftFigures:
    """The figures of the shift so far, from the order event log and the call log."""
    started_at = shift_start(now_s)
    since = from_epoch_s(started_at)
    rows = session.exec(
        select(OrderEvent.kind, OrderEvent.cause, func.count())
        .where(col(OrderEvent.at) >= since)
        .group_by(col(OrderEvent.kind), col(OrderEvent.cause))
    ).all()
    counts = Counts()
    for kind, cause, n in rows:
        if kind == "created":
            counts.orders += n
        elif kind == "assigned":
            counts.assigned += n
        elif kind in {"rejected", "expired"}:
            counts.refused += n
        elif kind == "cancelled" and cause == "abandoned":
            counts.abandoned += n
    counts.calls_abandoned = session.exec(
        select(func.count())
        .select_from(Call)
        .where(col(Call.ringing_at) >= since, Call.outcome == CallOutcome.ABANDONED.value)
    ).one()
    return ShiftFigures(started_at, counts)
