"""History aggregates: O(1) updates, decay, severities, order independence, DB round trip."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.model import FailureCause
from tests.valuation.strategies import histories
from valuation.history import (
    CustomerHistory,
    HistoryArrays,
    decay_factor,
    failure_severity,
    new_history,
    record_cancelled,
    record_completed,
    record_failed,
)
from valuation.params import WEEK_S


def test_counts_and_anchors_follow_outcomes() -> None:
    """Each outcome bumps its own count; the first order anchors tenure and is not a repeat."""
    h = record_completed(new_history(), 100.0, 12.0)
    assert (h.orders, h.completed, h.repeat_orders, h.first_seen_at) == (1, 1, 0.0, 100.0)
    h = record_failed(h, 200.0, FailureCause.NO_CAR)
    h = record_cancelled(h, 300.0)
    assert (h.orders, h.completed, h.failed, h.cancelled) == (3, 1, 1, 1)
    assert h.last_failed_at == 200.0 and h.last_event_at == 300.0
    assert h.repeat_orders == pytest.approx(decay_factor(100.0, 52.0) + 1.0)
    assert h.fare_sum == pytest.approx(12.0 * decay_factor(200.0, 52.0))
    assert h.phi == pytest.approx(decay_factor(100.0, 2.0))


def test_severity_weights_per_cause() -> None:
    """Refusals weigh 1.0, cancellations by us or the driver 0.7, abandonment 0.8."""
    weights = {cause: failure_severity(cause) for cause in FailureCause}
    assert weights[FailureCause.NO_CAR] == weights[FailureCause.REJECTED_BY_POLICY] == 1.0
    assert weights[FailureCause.DISPATCHER_CANCELLED] == 0.7
    assert weights[FailureCause.DRIVER_NO_SHOW] == 0.7
    assert weights[FailureCause.ABANDONED] == 0.8


def test_failure_weight_halves_after_one_failure_half_life() -> None:
    """phi of a no-car failure two weeks old is half its weight when the next order arrives."""
    h = record_failed(new_history(), 0.0, FailureCause.NO_CAR)
    h = record_cancelled(h, 2 * WEEK_S)
    assert h.phi == pytest.approx(0.5)
    assert h.repeat_orders == pytest.approx(1.0)


def test_very_late_trip_counts_as_a_mild_failure() -> None:
    """A completed but very late trip adds the very-late severity to phi, not a failure."""
    h = record_completed(new_history(), 0.0, 10.0, very_late=True)
    assert (h.completed, h.failed, h.phi) == (1, 0, 0.5)


@given(histories(), st.floats(min_value=1.0, max_value=1e8))
def test_decayed_counters_only_decay(sample: tuple[CustomerHistory, float], wait_s: float) -> None:
    """Recording a cancellation later leaves every decayed sum no larger (plus its own 1)."""
    h, at_s = sample
    later = record_cancelled(h, at_s + wait_s)
    factor = decay_factor(wait_s, 52.0)
    if h.orders:
        assert later.repeat_orders == pytest.approx(h.repeat_orders * factor + 1.0)
        assert later.fare_sum <= h.fare_sum and later.fare_count <= h.fare_count
        assert later.phi <= h.phi and later.recent_failures <= h.recent_failures


@given(st.lists(st.tuples(st.floats(0, 1e7), st.floats(0, 100)), min_size=1, max_size=8),
       st.randoms(use_true_random=False))
def test_arrival_order_does_not_matter(trips: list[tuple[float, float]], shuffler: object) -> None:
    """Late reports are aged, not replayed: any arrival order gives the same aggregates."""
    in_order, shuffled = new_history(), new_history()
    for at_s, fare in sorted(trips):
        in_order = record_completed(in_order, at_s, fare)
    mixed = list(trips)
    shuffler.shuffle(mixed)  # type: ignore[attr-defined]
    for at_s, fare in mixed:
        shuffled = record_completed(shuffled, at_s, fare)
    assert (shuffled.orders, shuffled.first_seen_at, shuffled.last_event_at) == (
        in_order.orders, in_order.first_seen_at, in_order.last_event_at)
    for name in ("repeat_orders", "fare_sum", "fare_count"):
        assert getattr(shuffled, name) == pytest.approx(getattr(in_order, name), rel=1e-9,
                                                        abs=1e-9)


@given(histories())
def test_dict_round_trip_keeps_db_friendly_types(sample: tuple[CustomerHistory, float]) -> None:
    """to_dict holds only ints and floats, and from_dict restores the same history."""
    h, _ = sample
    row = h.to_dict()
    assert all(type(v) in (int, float) for v in row.values())
    assert CustomerHistory.from_dict(row) == h
    as_floats = {k: float(v) for k, v in row.items()}  # e.g. a store that keeps only REALs
    assert CustomerHistory.from_dict(as_floats) == h


def test_arrays_round_trip_rows() -> None:
    """HistoryArrays holds one column per field and gives each history back by index."""
    hs = [new_history(), record_failed(new_history(), 5.0, FailureCause.ABANDONED)]
    arrays = HistoryArrays.from_histories(hs)
    assert len(arrays) == 2 and [arrays.row(i) for i in range(2)] == hs
    zeros = HistoryArrays.zeros(3)
    assert [zeros.row(i) for i in range(3)] == [new_history()] * 3
    names = [f.name for f in dataclasses.fields(HistoryArrays)]
    assert names == [f.name for f in dataclasses.fields(CustomerHistory)]


def test_clock_skew_never_inflates_history() -> None:
    """A negative elapsed time decays nothing and grows nothing."""
    assert decay_factor(-100.0, 2.0) == 1.0
    assert math.isclose(decay_factor(WEEK_S, 1.0), 0.5)
