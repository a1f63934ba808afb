"""An estimate with its interval and provenance, and the log as arrays.

Every key of a calibrated scenario carries a comment saying where its
number came from, so the value and its story travel together from the
estimator to the TOML line and the report. `LogArrays` is the log in the
shape the estimators want: one numpy column per field, times in seconds
from the start of the window, hours in the firm's local time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
from numpy.typing import NDArray

from valuation.logrows import LoggedOrder, OrderLogSource

Floats = NDArray[np.float64]
DEFAULT_NOTE = "not identifiable from this log: default (see docs)"
FAILURE_OUTCOMES = ("no_car", "abandoned", "rejected_by_policy", "dispatcher_cancelled", "driver_no_show")
RETRY_WINDOW_S = 30 * 60.0  # a failed order followed this soon by the same customer: a retry


@dataclass(frozen=True, slots=True)
class Estimate:
    """A scenario value; `low`/`high` a 95% interval where one exists; `source` says from what."""

    value: Any
    source: str
    low: float | None = None
    high: float | None = None
    default: bool = False

    @classmethod
    def fallback(cls, value: Any, why: str = "") -> Estimate:
        return cls(value, f"{DEFAULT_NOTE}{'; ' + why if why else ''}", default=True)

    def comment(self) -> str:
        if self.default:
            return self.source
        interval = ""
        if self.low is not None and self.high is not None:
            interval = f" (95% {_num(self.low)}..{_num(self.high)})"
        numeric = isinstance(self.value, int | float) and not isinstance(self.value, bool)
        if not numeric:  # a distribution, a list of zones or shifts: its parts speak for it
            return self.source
        return f"{_num(float(self.value))}{interval}, {self.source}"

    def covers(self, truth: float) -> bool:
        return self.low is not None and self.high is not None and self.low <= truth <= self.high


def _num(value: float) -> str:
    if not math.isfinite(value):
        return str(value)
    return f"{value:.4g}" if abs(value) < 1000 else f"{value:,.0f}"


def wald_interval(value: float, se: float, log_scale: bool = False) -> tuple[float, float]:
    """95% Wald interval; on the log scale for a positive value fitted there."""
    z = 1.959963984540054
    if log_scale:
        if not z * se < 700:  # no information: the interval is the whole half-line
            return 0.0, math.inf
        return value * math.exp(-z * se), value * math.exp(z * se)
    return value - z * se, value + z * se


@dataclass(frozen=True, slots=True)
class LogArrays:
    """The log inside the window [0, span_s], sorted by time."""

    start_at: float  # unix seconds of time 0
    span_s: float
    t: Floats  # requested, seconds from start
    customer: NDArray[np.int64]  # -1: withheld
    outcome: NDArray[np.str_]
    fare: Floats
    lat: Floats
    lon: Floats
    assigned: Floats  # seconds after the request, nan if never
    picked_up: Floats
    ended: Floats
    drop_lat: Floats
    drop_lon: Floats
    driver: NDArray[np.str_]
    local_s: Floats  # the firm's wall-clock time, seconds since 1970-01-01 00:00 local
    local_hour: NDArray[np.int64]
    weekend: NDArray[np.bool_]
    retry: NDArray[np.bool_]
    columns: frozenset[str]

    @property
    def n(self) -> int:
        return len(self.t)

    @property
    def failed(self) -> NDArray[np.bool_]:
        return np.isin(self.outcome, FAILURE_OUTCOMES)

    @property
    def completed(self) -> NDArray[np.bool_]:
        done: NDArray[np.bool_] = self.outcome == "completed"
        return done

    def date_range(self) -> str:
        first = datetime.fromtimestamp(self.start_at, UTC).date()
        last = datetime.fromtimestamp(self.start_at + self.span_s, UTC).date()
        return f"{first.isoformat()}..{last.isoformat()}"

    def source(self, count: int, what: str = "orders") -> str:
        return f"from {count:,} {what}, {self.date_range()}"


def log_arrays(source: OrderLogSource, since: float | None = None, until: float | None = None) -> LogArrays:
    """The orders requested in [since, until); the window spans whole days from the first one."""
    orders = [
        o
        for o in source.orders
        if (since is None or o.requested_at >= since) and (until is None or o.requested_at < until)
    ]
    orders.sort(key=lambda o: o.requested_at)
    if not orders:
        raise ValueError("the log has no orders in the chosen window: nothing can be estimated")
    t_abs = np.array([o.requested_at for o in orders])
    offset = np.array([o.local_offset_s for o in orders])
    local = t_abs + offset
    start = since if since is not None else float(np.floor(local[0] / 86_400) * 86_400 - offset[0])
    end = until if until is not None else float(np.ceil((local[-1] + 1) / 86_400) * 86_400 - offset[-1])
    ids: dict[str, int] = {}
    customer = np.array([ids.setdefault(o.customer, len(ids)) if o.customer else -1 for o in orders])

    def rel(name: str) -> Floats:
        values: Floats = np.array([getattr(o, name) for o in orders], dtype=np.float64) - t_abs
        return values

    arrays = LogArrays(
        start_at=start,
        span_s=end - start,
        t=t_abs - start,
        customer=customer,
        outcome=np.array([o.outcome for o in orders]),
        fare=_col(orders, "fare"),
        lat=_col(orders, "pickup_lat"),
        lon=_col(orders, "pickup_lon"),
        assigned=rel("assigned_at"),
        picked_up=rel("picked_up_at"),
        ended=rel("ended_at"),
        drop_lat=_col(orders, "dropoff_lat"),
        drop_lon=_col(orders, "dropoff_lon"),
        driver=np.array([o.driver_id for o in orders]),
        local_s=local.astype(np.float64),
        local_hour=((local // 3600) % 24).astype(np.int64),
        weekend=((local // 86_400 + 3) % 7) >= 5,  # 1970-01-01 was a Thursday
        retry=np.zeros(len(orders), dtype=bool),
        columns=source.columns,
    )
    return _with_retries(arrays)


def _col(orders: list[LoggedOrder], name: str) -> Floats:
    return np.array([getattr(o, name) for o in orders], dtype=np.float64)


def _with_retries(log: LogArrays) -> LogArrays:
    """Mark orders placed soon after a failed order of the same customer."""
    order = np.lexsort((log.t, log.customer))
    cust, t, failed = log.customer[order], log.t[order], log.failed[order]
    same = (cust[1:] == cust[:-1]) & (cust[1:] >= 0)
    retry_sorted = np.zeros(log.n, dtype=bool)
    retry_sorted[1:] = same & failed[:-1] & (t[1:] - t[:-1] <= RETRY_WINDOW_S)
    retry = np.zeros(log.n, dtype=bool)
    retry[order] = retry_sorted
    return _replace(log, retry=retry)


def leading(log: LogArrays, seconds: float) -> LogArrays:
    """The first `seconds` of the window (all of it when shorter): every per-order array cut
    alike, the span shortened."""
    if log.span_s <= seconds:
        return log
    keep = log.t < seconds
    from dataclasses import fields

    columns = {f.name: getattr(log, f.name) for f in fields(log)}
    cut = {
        name: value[keep]
        for name, value in columns.items()
        if isinstance(value, np.ndarray) and value.shape == (log.n,)
    }
    return _replace(log, span_s=float(seconds), **cut)


def _replace(log: LogArrays, **changes: Any) -> LogArrays:
    from dataclasses import replace

    return replace(log, **changes)
