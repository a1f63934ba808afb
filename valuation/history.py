"""A customer's order history folded into a few decayed aggregates.

Scoring happens on every call, so it must not read the order log. Each outcome
updates the aggregates in O(1): decayed sums are stored as of `last_event_at`
and decayed further only when read. The fields are plain floats and ints so the
live server can keep them in one database row (`to_dict` / `from_dict`).

`repeat_orders` counts every order after the first, whatever its outcome: a
caller who keeps calling is alive and active even when we failed them, and a
customer's own cancellation is still demand. Only completed trips carry fares.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields

import numpy as np
from numpy.typing import NDArray

from dispatch.model import FailureCause
from dispatch.values import record
from valuation.params import DEFAULT_PARAMS, WEEK_S, ValuationParams

_pow = math.pow  # one global lookup, not a module's attribute, per call


@record
class CustomerHistory:
    """Aggregates of one customer's orders. Timestamps are meaningful only when their count > 0."""

    orders: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    first_seen_at: float = 0.0
    last_event_at: float = 0.0
    last_failed_at: float = 0.0
    repeat_orders: float = 0.0  # x: decayed count of orders after the first
    fare_sum: float = 0.0  # decayed sum of completed fares
    fare_count: float = 0.0  # decayed count of completed fares
    phi: float = 0.0  # severity-weighted decayed failures (short half-life)
    recent_failures: float = 0.0  # unweighted decayed failures (short half-life)

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, row: Mapping[str, float | int]) -> CustomerHistory:
        """Reads a stored row; counts come back as ints even from a float-only store."""
        values: dict[str, float | int] = {}
        for spec in fields(cls):
            raw = row[spec.name]
            values[spec.name] = int(raw) if spec.type == "int" else float(raw)
        return cls(**values)  # type: ignore[arg-type]


def new_history() -> CustomerHistory:
    return CustomerHistory()


NO_HISTORY = CustomerHistory()
"""The history of a caller never seen: records are never changed, so one serves them all."""


def decay_factor(elapsed_s: float, half_life_weeks: float) -> float:
    """Weight left after `elapsed_s`; clock skew (negative elapsed) never inflates history."""
    return _decay(elapsed_s, half_life_weeks * WEEK_S)


def _decay(elapsed_s: float, half_life_s: float) -> float:
    """`max(elapsed_s, 0.0)` as the conditional the builtin evaluates (the same number, NaN
    included) and `math.pow` bound once: the simulator decays twice per recorded outcome."""
    return _pow(2.0, -(0.0 if elapsed_s < 0.0 else elapsed_s) / half_life_s)


def half_lives_s(params: ValuationParams) -> tuple[float, float]:
    """(value, failure) half-lives in seconds, as `record_outcome` takes them."""
    return params.value_half_life_weeks * WEEK_S, params.failure_half_life_weeks * WEEK_S


_SEVERITY_FIELD = {
    FailureCause.NO_CAR: "severity_no_car",
    FailureCause.REJECTED_BY_POLICY: "severity_rejected_by_policy",
    FailureCause.DISPATCHER_CANCELLED: "severity_dispatcher_cancelled",
    FailureCause.DRIVER_NO_SHOW: "severity_driver_no_show",
    FailureCause.ABANDONED: "severity_abandoned",
}


def failure_severity(cause: FailureCause, params: ValuationParams = DEFAULT_PARAMS) -> float:
    """How strongly a failure of this cause pushes a customer away (1.0 = refused outright)."""
    weight: float = getattr(params, _SEVERITY_FIELD[cause])
    return weight


def record_outcome(h: CustomerHistory, at_s: float, long_s: float, short_s: float,
                   completed: int, failed: int, fare: float, severity: float) -> CustomerHistory:
    """The single O(1) update behind every record_*, half-lives in seconds (`half_lives_s`):
    the simulator records every outcome under one params, so it works them out once and
    calls this one flat body (no keywords, no helper returning a tuple in the usual case).

    Stored sums are multiplied by keep_*, the new event enters with w_*. An event in order
    ages the history and enters at full weight; a late report ages the event instead, so
    the result does not depend on the order outcomes arrive in.
    """
    keep_long = keep_short = w_long = w_short = 1.0
    if h.orders == 0:
        repeat, first_at, last_at = 0.0, at_s, at_s
    else:
        gap_s = at_s - h.last_event_at
        if gap_s >= 0:
            keep_long, keep_short = _decay(gap_s, long_s), _decay(gap_s, short_s)
            repeat, first_at, last_at = h.repeat_orders * keep_long + 1.0, h.first_seen_at, at_s
        else:
            w_long, w_short, repeat, first_at, last_at = _late(h, at_s, abs(gap_s), long_s, short_s)
    last_failed_at = h.last_failed_at
    if failed:
        last_failed_at = at_s if h.failed == 0 else max(last_failed_at, at_s)
    # Positional, in field order: twelve keywords cost about 0.7 µs of a 4 µs record, and
    # the simulator records every simulated outcome (tests name each field's result).
    return CustomerHistory(
        h.orders + 1,  # orders
        h.completed + completed,
        h.failed + failed,
        h.cancelled + (1 - completed - failed),
        first_at,  # first_seen_at
        last_at,  # last_event_at
        last_failed_at,
        repeat,  # repeat_orders
        h.fare_sum * keep_long + fare * w_long * completed,
        h.fare_count * keep_long + w_long * completed,
        h.phi * keep_short + severity * w_short,
        h.recent_failures * keep_short + w_short * failed,
    )


def _late(h: CustomerHistory, at_s: float, gap_s: float, long_s: float,
          short_s: float) -> tuple[float, float, float, float, float]:
    """(w_long, w_short, repeat_orders, first_at, last_at) for an order reported after a
    later one: the earliest order is never a repeat, so if the late one is earlier still,
    the former first order becomes the repeat instead."""
    repeat_at = max(at_s, h.first_seen_at)
    repeat = h.repeat_orders + _decay(h.last_event_at - repeat_at, long_s)
    return (_decay(gap_s, long_s), _decay(gap_s, short_s), repeat, min(h.first_seen_at, at_s),
            h.last_event_at)


def record_completed(
    h: CustomerHistory,
    at_s: float,
    fare: float,
    very_late: bool = False,
    params: ValuationParams = DEFAULT_PARAMS,
) -> CustomerHistory:
    """A served order. A very late pickup still hurts (Halperin et al.), at `severity_very_late`."""
    late = params.severity_very_late if very_late else 0.0
    return record_outcome(h, at_s, *half_lives_s(params), 1, 0, fare, late)


def record_failed(
    h: CustomerHistory,
    at_s: float,
    cause: FailureCause,
    params: ValuationParams = DEFAULT_PARAMS,
) -> CustomerHistory:
    """An order that failed the customer; weighs on phi by the severity of its cause."""
    return record_outcome(h, at_s, *half_lives_s(params), 0, 1, 0.0, failure_severity(cause, params))


def record_cancelled(
    h: CustomerHistory, at_s: float, params: ValuationParams = DEFAULT_PARAMS
) -> CustomerHistory:
    """The customer's own cancellation: demand (they called), but not our failure."""
    return record_outcome(h, at_s, *half_lives_s(params), 0, 0, 0.0, 0.0)


_FIELD_NAMES = tuple(spec.name for spec in fields(CustomerHistory))
_INT_FIELDS = frozenset(spec.name for spec in fields(CustomerHistory) if spec.type == "int")


@dataclass(frozen=True, slots=True)
class HistoryArrays:
    """Many histories as one array per field, for `score_many` over a whole customer base."""

    orders: NDArray[np.int64]
    completed: NDArray[np.int64]
    failed: NDArray[np.int64]
    cancelled: NDArray[np.int64]
    first_seen_at: NDArray[np.float64]
    last_event_at: NDArray[np.float64]
    last_failed_at: NDArray[np.float64]
    repeat_orders: NDArray[np.float64]
    fare_sum: NDArray[np.float64]
    fare_count: NDArray[np.float64]
    phi: NDArray[np.float64]
    recent_failures: NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.orders.shape[0])

    def row(self, index: int) -> CustomerHistory:
        values = {name: getattr(self, name)[index].item() for name in _FIELD_NAMES}
        return CustomerHistory(**values)

    def rows(self) -> list[CustomerHistory]:
        """Every `row`, at once: each column turned into Python numbers by one `tolist`
        (as `item` turns one value), the records built by `map` in field order."""
        return list(map(CustomerHistory, *(getattr(self, name).tolist() for name in _FIELD_NAMES)))

    @classmethod
    def from_histories(cls, histories: Sequence[CustomerHistory]) -> HistoryArrays:
        def ints(name: str) -> NDArray[np.int64]:
            return np.fromiter((getattr(h, name) for h in histories), np.int64, len(histories))

        def floats(name: str) -> NDArray[np.float64]:
            return np.fromiter((getattr(h, name) for h in histories), np.float64, len(histories))

        return cls(
            *(
                ints(name) if name in _INT_FIELDS else floats(name)  # type: ignore[arg-type]
                for name in _FIELD_NAMES
            )
        )

    @classmethod
    def zeros(cls, n: int) -> HistoryArrays:
        """n customers who have never ordered (counts first, as in the field order)."""
        counts = [np.zeros(n, dtype=np.int64) for _ in range(4)]
        sums = [np.zeros(n, dtype=np.float64) for _ in range(len(_FIELD_NAMES) - 4)]
        return cls(*counts, *sums)  # type: ignore[arg-type]
