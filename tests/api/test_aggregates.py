"""Order outcomes folded into a customer's stored aggregates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session

from api.aggregates import fold_outcome, rebuild_aggregates, record_outcome
from api.models import Customer, Order
from valuation.history import CustomerHistory
from valuation.params import DEFAULT_PARAMS

START = datetime(2026, 5, 1, 8, tzinfo=UTC)


def order(index: int, status: str, cause: str | None = None, fare: float | None = None) -> Order:
    return Order(
        id=f"o{index}",
        customer_id="c1",
        pickup_lat=56.8,
        pickup_lon=60.6,
        status=status,
        failure_cause=cause,
        fare=fare,
        requested_at=START + timedelta(days=index),
    )


def outcomes() -> list[Order]:
    """Fresh rows each time (a row added to one session cannot be inserted by another)."""
    return [
        order(0, "completed", fare=300.0),
        order(1, "rejected", "no_car"),
        order(2, "cancelled"),
        order(3, "cancelled", "driver_no_show"),
        order(4, "abandoned", "abandoned"),
        order(5, "completed", fare=None),
    ]


def test_record_outcome_counts_each_kind() -> None:
    """Completed, failed (any cause) and customer-cancelled orders land in their own counters."""
    customer = Customer(id="c1")
    for finished in outcomes():
        record_outcome(customer, finished)
    history = CustomerHistory.from_dict(customer.history)
    assert (history.completed, history.failed, history.cancelled) == (2, 3, 1)
    assert (customer.completed_count, customer.failed_count, customer.cancelled_count) == (2, 3, 1)
    assert customer.last_order_at == START + timedelta(days=5)


def test_unknown_fare_counts_at_the_population_mean() -> None:
    """A completed trip without a fare adds the population mean fare, not zero."""
    history = fold_outcome(CustomerHistory(), order(0, "completed"))
    assert history.fare_sum == pytest.approx(DEFAULT_PARAMS.population_mean_fare)


@pytest.mark.parametrize("status", ["queued", "assigned", "picked_up", "scheduled"])
def test_live_orders_change_nothing(status: str) -> None:
    """Only finished orders are outcomes."""
    assert fold_outcome(CustomerHistory(), order(0, status)) == CustomerHistory()


def test_rebuild_matches_recording_one_by_one(session: Session) -> None:
    """Rebuilding from the table gives the same aggregates as recording outcomes live."""
    live = Customer(id="c1")
    for finished in outcomes():
        record_outcome(live, finished)
    session.add(Customer(id="c1"))
    session.flush()
    session.add_all(reversed(outcomes()))
    session.add(order(9, "queued"))
    session.flush()
    assert rebuild_aggregates(session, ["c1", "c1"]) == 1
    session.commit()
    stored = session.get(Customer, "c1")
    assert stored is not None and stored.history == pytest.approx(live.history, rel=1e-12)
    assert stored.last_order_at == START + timedelta(days=5)
