"""Order log arrays: building from records, sorting, and the RFM summary."""

from __future__ import annotations

import numpy as np
import pytest

from dispatch.model import FailureCause
from valuation.orderlog import (
    CANCELLED,
    COMPLETED,
    FAILED,
    OrderRecord,
    order_log_from_records,
    rfm_summary,
)
from valuation.params import WEEK_S

RECORDS = [
    OrderRecord("bob", 3 * WEEK_S, COMPLETED, fare=10.0, very_late=True),
    OrderRecord("ann", 0.0, COMPLETED, fare=20.0),
    OrderRecord("ann", 2 * WEEK_S, FAILED, cause=FailureCause.DRIVER_NO_SHOW),
    OrderRecord("ann", 5 * WEEK_S, COMPLETED, fare=30.0),
    OrderRecord("cat", 6 * WEEK_S, CANCELLED),
]


def test_records_become_sorted_arrays_with_severities() -> None:
    """Rows are sorted by customer then time; failures and late trips carry their severity."""
    log, ids = order_log_from_records(RECORDS)
    assert ids == ["bob", "ann", "cat"] and log.n_customers == 3
    assert log.customer.tolist() == [0, 1, 1, 1, 2]
    assert log.at_s.tolist() == [3 * WEEK_S, 0.0, 2 * WEEK_S, 5 * WEEK_S, 6 * WEEK_S]
    assert log.severity.tolist() == [0.5, 0.0, 0.7, 0.0, 0.0]
    assert log.end_at == 6 * WEEK_S


def test_failure_without_cause_is_refused() -> None:
    """A failed order must say why, or its severity would be a guess."""
    with pytest.raises(ValueError, match="no cause"):
        order_log_from_records([OrderRecord("ann", 0.0, FAILED)])


def test_rfm_counts_every_order_and_fares_of_trips() -> None:
    """x counts repeat orders of any outcome; mean fare only completed trips; weeks as unit."""
    log, _ = order_log_from_records(RECORDS)
    rfm = rfm_summary(log, end_at=10 * WEEK_S)
    np.testing.assert_allclose(rfm.x, [0, 2, 0])
    np.testing.assert_allclose(rfm.t_x, [0, 5, 0])
    np.testing.assert_allclose(rfm.T, [7, 10, 4])
    np.testing.assert_allclose(rfm.trips, [1, 2, 0])
    np.testing.assert_allclose(rfm.mean_fare, [10, 25, 0])


def test_rfm_ignores_orders_after_the_end() -> None:
    """A cutoff in the middle sees only the orders before it."""
    log, _ = order_log_from_records(RECORDS)
    rfm = rfm_summary(log, end_at=2.5 * WEEK_S)
    np.testing.assert_allclose(rfm.x, [0, 1, 0])
    np.testing.assert_allclose(rfm.T, [0, 2.5, 0])
    np.testing.assert_allclose(rfm.trips, [0, 1, 0])


def test_until_drops_later_orders() -> None:
    """A log cut at a time keeps only orders finished by then, and every customer index."""
    log, _ = order_log_from_records(RECORDS)
    cut = log.until(2 * WEEK_S)
    assert cut.at_s.tolist() == [0.0, 2 * WEEK_S] and cut.n_customers == 3
