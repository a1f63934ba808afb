"""Simulated histories: the synthetic past, outcome updates, calibration and class scorer."""

from __future__ import annotations

import math

import numpy as np
import pytest

from dispatch.model import FailureCause, Tier
from simulator.histories import HistoryBook, _fold_completed, vip_class_scorer
from simulator.population import WEEK_S, Customer, seed_past_trips
from valuation.history import CustomerHistory, record_completed, record_failed
from valuation.params import ValuationParams

PARAMS = ValuationParams()


def test_closed_form_past_equals_recording_trips_one_by_one() -> None:
    """The vectorised synthetic history is what record_completed builds trip by trip."""
    rng = np.random.default_rng(8)
    owners = np.repeat(np.arange(3), [1, 4, 9])
    times = np.concatenate([np.sort(-rng.uniform(0, 60 * WEEK_S, n)) for n in (1, 4, 9)])
    folded_owners, arrays = _fold_completed(owners, times, 12.0, PARAMS)
    folded = dict(zip(folded_owners, arrays.rows(), strict=True))
    for owner in range(3):
        expected = CustomerHistory()
        for at in times[owners == owner]:
            expected = record_completed(expected, float(at), 12.0, params=PARAMS)
        got = folded[owner]
        assert (got.orders, got.completed, got.first_seen_at, got.last_event_at) == (
            expected.orders, expected.completed, expected.first_seen_at, expected.last_event_at)
        for name in ("repeat_orders", "fare_sum", "fare_count"):
            assert getattr(got, name) == pytest.approx(getattr(expected, name), rel=1e-12)


def test_seeding_gives_frequent_callers_longer_pasts() -> None:
    """Trips in the synthetic past grow with the customer's true rate, and all end before 0."""
    customers = [Customer(i, rate / WEEK_S, "occasional", 0.0, math.inf)
                 for i, rate in enumerate([0.1] * 500 + [3.0] * 500)]
    book = HistoryBook(PARAMS)
    book.seed(customers, 52.0, 15.0, np.random.default_rng(1))
    slow = [book.histories.get(f"u{i}", CustomerHistory()).completed for i in range(500)]
    fast = [book.histories.get(f"u{i}", CustomerHistory()).completed for i in range(500, 1000)]
    assert np.mean(fast) > 10 * np.mean(slow)
    assert [c.completed for c in customers[500:]] == fast  # their next order is not a first one
    assert max(h.last_event_at for h in book.histories.values()) < 0


def test_histories_folded_when_read_are_those_folded_at_once() -> None:
    """The book notes outcomes and folds a customer's when their history is read; whatever
    the reads in between, every history is the one immediate folding builds, bit for bit."""
    rng = np.random.default_rng(21)
    book, immediate = HistoryBook(PARAMS), {}
    causes = list(FailureCause)
    at = 0.0
    for step in range(3_000):
        at += float(rng.exponential(3_600.0))
        customer_id = f"u{int(rng.integers(40))}"
        previous = immediate.get(customer_id) or CustomerHistory()
        if rng.random() < 0.8:
            fare = float(rng.uniform(5, 40))
            book.completed(customer_id, at, fare)
            immediate[customer_id] = record_completed(previous, at, fare, params=PARAMS)
        else:
            cause = causes[int(rng.integers(len(causes)))]
            book.failed(customer_id, at, cause)
            immediate[customer_id] = record_failed(previous, at, cause, PARAMS)
        if step % 7 == 0:  # the scorer reads someone now and then
            asked = f"u{int(rng.integers(45))}"
            assert book.history(asked) == immediate.get(asked)
    assert book.histories == immediate
    assert all(book.history(customer_id) is h for customer_id, h in book.histories.items())


def test_outcomes_noted_before_a_params_change_are_folded_under_the_old_params() -> None:
    other = ValuationParams(value_half_life_weeks=3.0, failure_half_life_weeks=1.0)
    book = HistoryBook(PARAMS)
    book.completed("u1", 0.0, 20.0)
    book.failed("u1", 3_600.0, FailureCause.NO_CAR)
    book.params = other
    book.completed("u1", 7_200.0, 15.0)
    expected = record_completed(CustomerHistory(), 0.0, 20.0, params=PARAMS)
    expected = record_failed(expected, 3_600.0, FailureCause.NO_CAR, PARAMS)
    expected = record_completed(expected, 7_200.0, 15.0, params=other)
    assert book.history("u1") == expected


def test_outcomes_update_the_history_the_scorer_reads() -> None:
    """A failure raises the caller's failure memory, and the scorer sees it at once."""
    book = HistoryBook(PARAMS)
    scorer = book.scorer(frozenset())
    for at in (0.0, WEEK_S, 2 * WEEK_S):
        book.completed("u1", at, 20.0)
    before = scorer("u1", 3 * WEEK_S)
    book.failed("u1", 3 * WEEK_S, FailureCause.NO_CAR)
    after = scorer("u1", 3 * WEEK_S)
    assert book.histories["u1"].failed == 1
    assert after.value_at_risk > before.value_at_risk
    assert after.tier is Tier.AT_RISK


def test_calibration_puts_the_95th_percentile_caller_at_the_cap() -> None:
    """After calibration about 5% of call-weighted customers reach the full head start."""
    customers = [Customer(i, float(r) / WEEK_S, "occasional", 0.0, math.inf)
                 for i, r in enumerate(np.random.default_rng(3).gamma(0.5, 1.6, 3000))]
    book = HistoryBook(PARAMS)
    book.seed(customers, 52.0, 15.0, np.random.default_rng(4))
    params, value_per_s = book.calibrated(0.0)
    book.params = params
    scorer = book.scorer(frozenset())
    heads = [scorer(c.customer_id, 0.0).head_start_s for c in customers
             if c.customer_id in book.histories]
    at_cap = np.mean([h >= params.max_head_start_s for h in heads])
    assert 0.0 < at_cap < 0.2
    assert value_per_s > 0 and params.value_per_s != PARAMS.value_per_s


def test_vip_class_scorer_has_two_classes_only() -> None:
    """VIPs get the head start and a value at risk of 1; everyone else is neutral."""
    scorer = vip_class_scorer(frozenset({"u1"}), 300.0)
    vip, other, withheld = scorer("u1", 0.0), scorer("u2", 0.0), scorer(None, 0.0)
    assert (vip.head_start_s, vip.value_at_risk) == (300.0, 1.0)
    assert other == withheld
    assert (other.head_start_s, other.value_at_risk) == (0.0, 0.0)



def _seeded_book(count: int) -> HistoryBook:
    rates = np.random.default_rng(3).gamma(0.6, 1.0, count)
    customers = [Customer(i, rate / WEEK_S, "occasional", 0.0, math.inf) for i, rate in enumerate(rates)]
    book = HistoryBook(PARAMS)
    book.record_past(customers, seed_past_trips(customers, 52.0, np.random.default_rng(4)), 12.0)
    return book


def test_the_first_calibration_reads_the_kept_arrays_bit_for_bit_as_the_records_give_them() -> None:
    """`record_past` keeps its arrays for the first calibration instead of reading 40,000
    records back; the calibration must come out as from the records, to the bit."""
    kept, reread = _seeded_book(800), _seeded_book(800)
    reread._past = None  # as the old code did: read the records back into arrays
    assert kept.calibrated(0.0) == reread.calibrated(0.0)


def test_a_book_changed_since_seeding_calibrates_from_its_records() -> None:
    changed = _seeded_book(50)
    customer_id = next(iter(changed.histories))
    changed.completed(customer_id, 1.0, 9.0)
    arrays = changed._arrays()
    assert int(arrays.orders.sum()) == sum(h.orders for h in changed.histories.values())
