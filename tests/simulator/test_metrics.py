"""Summaries computed from order rows and customers."""

from __future__ import annotations

import math

import numpy as np
import pytest

from simulator.confidence import batch_means_ci
from simulator.fleet import cars_on_duty_by_hour
from simulator.metrics import (
    OrderRow,
    Window,
    daily_series,
    hourly_series,
    lost_customers,
    lost_future_revenue,
    summarise_orders,
)
from simulator.population import BASE, FAILURE, Customer
from simulator.scenario import Fleet, Shift

DAY = 86_400.0
WINDOW = Window(DAY, 3 * DAY)


def _row(at: float, outcome: str, queued: bool = False, wait: float = 0.0,
         fare: float = 0.0) -> OrderRow:
    pickup = wait if outcome == "completed" else math.nan
    return OrderRow(at, 0, "regular", False, False, False, outcome, queued, wait, pickup, fare)


def _customer(index: int, joined_at: float, depart_at: float, cause: str) -> Customer:
    customer = Customer(index, 1e-5, "regular", joined_at, depart_at)
    customer.depart_cause = cause
    return customer


def test_order_summary_counts_outcomes_and_wait_percentiles() -> None:
    """Failures by cause, queued share and wait percentiles of completed orders only."""
    rows = [_row(DAY, "completed", wait=float(w)) for w in range(1, 101)]
    rows += [_row(DAY, "abandoned", queued=True, wait=500.0), _row(DAY, "refused_no_car")]
    summary = summarise_orders(rows)
    assert (summary.placed, summary.completed, summary.failed, summary.queued) == (102, 100, 2, 1)
    assert summary.failed_by_cause["abandoned"] == 1
    assert summary.rate("refused_no_car") == pytest.approx(1 / 102)
    assert summary.wait_p50_s == pytest.approx(50.5)
    assert summary.wait_p99_s == pytest.approx(99.01)


def test_an_empty_segment_has_no_wait_rather_than_a_zero_wait() -> None:
    """No orders: percentiles are NaN, counts zero."""
    summary = summarise_orders([])
    assert summary.placed == 0 and math.isnan(summary.wait_p50_s)


def test_lost_customers_count_departures_inside_the_window_by_cause() -> None:
    """Gone before the window: not at risk; joined after it: not at risk; inside: lost."""
    customers = [
        _customer(0, 0.0, 0.5 * DAY, BASE),  # left before the window
        _customer(1, 0.0, 1.5 * DAY, FAILURE),  # lost to a failure
        _customer(2, 0.0, 2.5 * DAY, BASE),  # lost to base churn
        _customer(3, 2.0 * DAY, math.inf, BASE),  # joined during the window, stayed
        _customer(4, 0.0, 5.0 * DAY, FAILURE),  # leaves after the window
        _customer(5, 4.0 * DAY, math.inf, BASE),  # joins after the window
    ]
    lost = lost_customers(customers, WINDOW)
    assert (lost.active_at_start, lost.joined_during) == (3, 1)
    assert (lost.at_risk, lost.lost_to_failures, lost.lost_to_base_churn) == (4, 1, 1)
    assert lost.share == pytest.approx(2 / 3), "churn rate: lost over customers active at the start"
    assert lost.share_to_failures == pytest.approx(1 / 3)
    over_at_risk = lost_customers(customers, WINDOW, "at risk")
    assert over_at_risk.base == 4 and over_at_risk.share == pytest.approx(0.5)


def test_lost_future_revenue_is_rate_times_fare_times_expected_remaining_life() -> None:
    """Without base churn, a lost customer was worth rate * fare * horizon."""
    customers = [_customer(0, 0.0, 1.5 * DAY, FAILURE), _customer(1, 0.0, 1.5 * DAY, BASE)]
    assert lost_future_revenue(customers, WINDOW, 10.0, 0.0, 100 * DAY) == pytest.approx(
        1e-5 * 10.0 * 100 * DAY)
    assert lost_future_revenue(customers, WINDOW, 10.0, 1e-6, 100 * DAY) < 1e-5 * 10.0 * 100 * DAY


def test_daily_series_adds_up_to_the_totals() -> None:
    """Each day's orders, revenue and departures fall in their own day."""
    rows = [_row(1.2 * DAY, "completed", fare=5.0), _row(2.5 * DAY, "completed", fare=7.0),
            _row(2.6 * DAY, "expired")]
    days = daily_series(rows, [_customer(0, 0.0, 2.1 * DAY, BASE)], WINDOW)
    assert [(d.placed, d.completed, d.failed, d.revenue, d.lost_customers) for d in days] == [
        (1, 1, 0, 5.0, 0), (2, 1, 1, 7.0, 1)]


def test_batch_means_interval_covers_the_mean_of_a_correlated_series() -> None:
    """An AR(1) series with mean 3: the 99% batch-means interval contains 3."""
    values, x = [], 0.0

    for noise in np.random.default_rng(1).standard_normal(20_000):
        x = 0.9 * x + noise
        values.append(3.0 + x)
    interval = batch_means_ci(values, batches=20, confidence=0.99)
    assert interval.contains(3.0)
    assert interval.half_width < 0.5


def test_batch_means_needs_enough_values() -> None:
    """Fewer than two values per batch is refused."""
    with pytest.raises(ValueError, match="at least 40"):
        batch_means_ci([1.0] * 10, batches=20)


def test_hourly_series_splits_a_wait_across_the_hour_boundary() -> None:
    """A 30-minute wait from 00:45 counts 15 min in hour 0 and 15 in hour 1; per measured day."""
    rows = [_row(DAY + 2700.0, "abandoned", queued=True, wait=1800.0),
            _row(DAY + 3 * 3600.0, "completed")]
    hours = hourly_series(rows, WINDOW, [float(h) for h in range(24)])
    assert hours[0].queue_length == pytest.approx(900 / (2 * 3600))
    assert hours[1].queue_length == pytest.approx(900 / (2 * 3600))
    assert hours[0].failed == 0.5 and hours[3].placed == 0.5 and hours[3].failure_rate == 0.0
    assert [h.cars_on_duty for h in hours] == [float(h) for h in range(24)]


def test_cars_on_duty_by_hour_follow_the_shifts_over_midnight() -> None:
    """10 cars 22:00-07:00 and 10 cars 06:00-16:00: 10 at 03:00, 20 at 06:00, 0 at 20:00."""
    fleet = Fleet(cars=20, shifts=[Shift(start_h=22, hours=9, share=0.5),
                                   Shift(start_h=6, hours=10, share=0.5)])
    on_duty = cars_on_duty_by_hour(fleet)
    assert (on_duty[3], on_duty[6], on_duty[20], on_duty[23]) == (10.0, 20.0, 0.0, 10.0)
    assert sum(on_duty) == pytest.approx(10 * 9 + 10 * 10)
    assert cars_on_duty_by_hour(Fleet(cars=4)) == [4.0] * 24
