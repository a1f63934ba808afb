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
from dataclasses import asdict, dataclass, fields, replace

import numpy as np
from numpy.typing import NDArray

from dispatch.model import FailureCause
from valuation.params import DEFAULT_PARAMS, WEEK_S, ValuationParams


@dataclass(frozen=True, slots=True)
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


def decay_factor(elapsed_s: float, half_life_weeks: float) -> float:
    """Weight left after `elapsed_s`; clock skew (negative elapsed) never inflates history."""
    return math.pow(2.0, -max(elapsed_s, 0.0) / (half_life_weeks * WEEK_S))


def failure_severity(cause: FailureCause, params: ValuationParams = DEFAULT_PARAMS) -> float:
    """How strongly a failure of this cause pushes a customer away (1.0 = refused outright)."""
    return {
        FailureCause.NO_CAR: params.severity_no_car,
        FailureCause.REJECTED_BY_POLICY: params.severity_rejected_by_policy,
        FailureCause.DISPATCHER_CANCELLED: params.severity_dispatcher_cancelled,
        FailureCause.DRIVER_NO_SHOW: params.severity_driver_no_show,
        FailureCause.ABANDONED: params.severity_abandoned,
    }[cause]


def _advance(
    h: CustomerHistory, at_s: float, params: ValuationParams
) -> tuple[CustomerHistory, float, float]:
    """Moves the decayed sums to max(at_s, last_event_at) and counts one more order.

    Returns the new history and the weights (long, short half-life) a new event at
    `at_s` carries: 1 for an event in order, less for one that arrives late, so the
    result does not depend on the order in which outcomes are recorded.
    """
    if h.orders == 0:
        return replace(h, orders=1, first_seen_at=at_s, last_event_at=at_s), 1.0, 1.0
    gap_s = at_s - h.last_event_at
    long_w = decay_factor(abs(gap_s), params.value_half_life_weeks)
    short_w = decay_factor(abs(gap_s), params.failure_half_life_weeks)
    if gap_s < 0:  # a late report: age the event, not the history
        # The earliest order is never a repeat: if the late one is earlier still, the
        # former first order becomes the repeat instead.
        repeat_at = max(at_s, h.first_seen_at)
        repeat_w = decay_factor(h.last_event_at - repeat_at, params.value_half_life_weeks)
        moved = replace(h, orders=h.orders + 1, first_seen_at=min(h.first_seen_at, at_s),
                        repeat_orders=h.repeat_orders + repeat_w)
        return moved, long_w, short_w
    moved = replace(
        h,
        orders=h.orders + 1,
        last_event_at=at_s,
        repeat_orders=h.repeat_orders * long_w + 1.0,
        fare_sum=h.fare_sum * long_w,
        fare_count=h.fare_count * long_w,
        phi=h.phi * short_w,
        recent_failures=h.recent_failures * short_w,
    )
    return moved, 1.0, 1.0


def record_completed(
    h: CustomerHistory,
    at_s: float,
    fare: float,
    very_late: bool = False,
    params: ValuationParams = DEFAULT_PARAMS,
) -> CustomerHistory:
    """A served order. A very late pickup still hurts (Halperin et al.), at `severity_very_late`."""
    moved, long_w, short_w = _advance(h, at_s, params)
    late = params.severity_very_late * short_w if very_late else 0.0
    return replace(
        moved,
        completed=h.completed + 1,
        fare_sum=moved.fare_sum + fare * long_w,
        fare_count=moved.fare_count + long_w,
        phi=moved.phi + late,
    )


def record_failed(
    h: CustomerHistory,
    at_s: float,
    cause: FailureCause,
    params: ValuationParams = DEFAULT_PARAMS,
) -> CustomerHistory:
    """An order that failed the customer; weighs on phi by the severity of its cause."""
    moved, _, short_w = _advance(h, at_s, params)
    return replace(
        moved,
        failed=h.failed + 1,
        last_failed_at=at_s if h.failed == 0 else max(h.last_failed_at, at_s),
        phi=moved.phi + failure_severity(cause, params) * short_w,
        recent_failures=moved.recent_failures + short_w,
    )


def record_cancelled(
    h: CustomerHistory, at_s: float, params: ValuationParams = DEFAULT_PARAMS
) -> CustomerHistory:
    """The customer's own cancellation: demand (they called), but not our failure."""
    moved, _, _ = _advance(h, at_s, params)
    return replace(moved, cancelled=h.cancelled + 1)


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

    @classmethod
    def from_histories(cls, histories: Sequence[CustomerHistory]) -> HistoryArrays:
        def ints(name: str) -> NDArray[np.int64]:
            return np.fromiter((getattr(h, name) for h in histories), np.int64, len(histories))

        def floats(name: str) -> NDArray[np.float64]:
            return np.fromiter((getattr(h, name) for h in histories), np.float64, len(histories))

        return cls(*(ints(name) if name in _INT_FIELDS else floats(name)  # type: ignore[arg-type]
                     for name in _FIELD_NAMES))

    @classmethod
    def zeros(cls, n: int) -> HistoryArrays:
        """n customers who have never ordered (counts first, as in the field order)."""
        counts = [np.zeros(n, dtype=np.int64) for _ in range(4)]
        sums = [np.zeros(n, dtype=np.float64) for _ in range(len(_FIELD_NAMES) - 4)]
        return cls(*counts, *sums)  # type: ignore[arg-type]


def elapsed_weeks(now_s: float, at_s: float) -> float:
    return max(now_s - at_s, 0.0) / WEEK_S


def decayed_tenure_weeks(now_s: float, first_seen_at: float, half_life_weeks: float) -> float:
    """Tenure with the same forgetting as the orders, so old silence stops counting forever."""
    rate = math.log(2.0) / half_life_weeks
    return -math.expm1(-rate * elapsed_weeks(now_s, first_seen_at)) / rate
