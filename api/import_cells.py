"""One cell of an order export: times, numbers, outcomes and text, each refused with a reason.

Shared by the importer and the calibration's log reader (`api.log_source`), so both read
a file's cells alike and name the same problems.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, tzinfo

from dispatch.model import FailureCause, OrderStatus

OUTCOMES: dict[str, tuple[OrderStatus, FailureCause | None]] = {
    "completed": (OrderStatus.COMPLETED, None),
    "cancelled": (OrderStatus.CANCELLED, None),
    "canceled": (OrderStatus.CANCELLED, None),
    **{cause.value: (cause.terminal_status, cause) for cause in FailureCause},
}
DAY_FIRST_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


def _read_moment(text: str) -> datetime | None:
    if text.replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(text), UTC)
    try:
        return datetime.fromisoformat(text)  # fast, so tried before the day-first patterns
    except ValueError:
        pass
    for pattern in DAY_FIRST_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def parse_time(text: str, zone: tzinfo, latest: datetime | None = None) -> datetime:
    """A time in UTC; refused before EARLIEST and after `latest` (the import's start)."""
    if not text:
        raise ValueError("missing")
    moment = _read_moment(text)
    if moment is None:
        raise ValueError(f"{text!r} is not a time (ISO 8601, DD.MM.YYYY HH:MM or unix seconds)")
    moment = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
    if moment < EARLIEST:
        raise ValueError(f"{text!r} is before {EARLIEST.year}")
    if latest is not None and moment > latest:
        raise ValueError(f"{text!r} is after the import started ({latest:%Y-%m-%d %H:%M} UTC)")
    return moment.astimezone(UTC)


def parse_number(text: str, low: float, high: float) -> float:
    """A decimal number in [low, high]; a decimal comma (`350,50`) is accepted."""
    if not text:
        raise ValueError("missing")
    try:
        value = float(text.replace(",", ".") if text.count(",") == 1 and "." not in text else text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{text!r} is outside [{low:g}, {high:g}]")
    return value


def parse_outcome(text: str) -> tuple[OrderStatus, FailureCause | None]:
    outcome = OUTCOMES.get(text.casefold())
    if outcome is None:
        choices = ", ".join(sorted(key for key in OUTCOMES if key != "canceled"))
        raise ValueError(f"{text!r} is not an outcome ({choices})")
    return outcome


def parse_text(text: str, max_chars: int) -> str | None:
    if len(text) > max_chars:
        raise ValueError(f"longer than {max_chars} characters")
    return text or None
