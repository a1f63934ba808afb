"""One row type for a firm's order log, wherever it was read from.

`keepcab calibrate` reads the log either from a CSV export or from the live
database. Both readers live in `api` (they need its importer and its tables)
and the calibration lives in `simulator`, which may not import `api`
(DESIGN.md); the two meet here, in plain values both may import. Times are
unix seconds (UTC); `local_offset_s` is the firm's UTC offset at the moment
of the call, so hour-of-day profiles are in local time. Customers appear only
as pseudonyms: nothing here can be turned back into a number or a name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

NAN = math.nan


@dataclass(frozen=True, slots=True)
class LoggedOrder:
    """One order of the log; `nan` marks a time or point the source did not record."""

    customer: str  # a pseudonym; "" for a withheld number
    requested_at: float
    outcome: str  # completed, cancelled, or a failure cause (no_car, abandoned, ...)
    pickup_lat: float
    pickup_lon: float
    fare: float = NAN
    assigned_at: float = NAN
    picked_up_at: float = NAN
    ended_at: float = NAN  # trip end, or when the order failed or was cancelled
    dropoff_lat: float = NAN
    dropoff_lon: float = NAN
    driver_id: str = ""
    local_offset_s: float = 0.0


@dataclass(frozen=True, slots=True)
class DriverSession:
    """A driver on duty from `online_at` to `offline_at` (unix seconds)."""

    driver_id: str
    online_at: float
    offline_at: float


@dataclass(frozen=True, slots=True)
class OrderLogSource:
    """What a log source hands the calibration: orders, driver sessions, and where from."""

    orders: list[LoggedOrder]
    sessions: list[DriverSession] = field(default_factory=list)
    description: str = ""
    columns: frozenset[str] = frozenset()  # optional columns the source carried
