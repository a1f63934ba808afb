"""Whole runs of the bundled small town with the real valuation in the loop."""

from __future__ import annotations

import json
import math
from functools import cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.engine import Dispatcher
from dispatch.model import DriverStatus, neutral_scorer
from dispatch.policies import POLICY_NAMES
from simulator.fleet import shift_patterns
from simulator.metrics import COMPLETED
from simulator.model import Model
from simulator.replication import run_replication, simulate_model, summarise
from simulator.scenario import Scenario, load_scenario
from simulator.setup import build_dispatcher, build_setup, policy_and_scorer


@cache
def town(policy: str) -> Model:
    return simulate_model(load_scenario("small-town"), policy)


def test_a_week_in_the_small_town_adds_up() -> None:
    """Orders, revenue and departures in the daily series add up to the totals."""
    scenario = load_scenario("small-town")
    result = summarise(town("fifo"), "fifo", scenario.seed)
    assert result.orders.placed > 500
    assert len(result.days) == scenario.horizon_days
    assert sum(d.placed for d in result.days) == result.orders.placed
    assert sum(d.revenue for d in result.days) == pytest.approx(result.revenue)
    assert sum(d.lost_customers for d in result.days) == result.lost.lost
    assert result.orders.completed + result.orders.failed == result.orders.placed
    assert 0.0 < result.utilisation < 1.0
    assert sum(s.placed for s in result.orders_by_segment.values()) == result.orders.placed
    assert result.lost.lost == sum(s.lost for s in result.lost_by_segment.values())


def test_results_convert_to_plain_json() -> None:
    """to_dict is JSON-ready, derived shares included."""
    result = summarise(town("fifo"), "fifo", 7)
    body = json.loads(json.dumps(result.to_dict()))
    assert body["policy"] == "fifo"
    assert body["lost"]["share"] == pytest.approx(result.lost.share)
    assert set(body["lost_by_segment"]) == {"new", "occasional", "regular"}


def test_simulated_outcomes_feed_the_valuation_histories() -> None:
    """After a run, histories hold simulated failures and trips after time 0."""
    book = town("retention").s.book
    assert book is not None
    assert any(h.failed > 0 and h.last_failed_at > 0 for h in book.histories.values())
    assert any(h.last_event_at > 0 and h.completed > 0 for h in book.histories.values())
    newcomers = [c.customer_id for c in town("retention").s.customers if c.segment == "new"]
    assert sum(customer_id in book.histories for customer_id in newcomers) > len(newcomers) / 2


def test_policies_share_the_same_world_but_decide_differently() -> None:
    """One seed: identical customer base for every policy (common random numbers), different runs."""
    fifo, retention = town("fifo"), town("retention")
    initial = load_scenario("small-town").demand.customers
    assert [c.rate_per_s for c in fifo.s.customers[:initial]] == [
        c.rate_per_s for c in retention.s.customers[:initial]]
    assert fifo.rows != retention.rows


def test_a_valuation_run_is_reproducible_bit_for_bit() -> None:
    """Same scenario, policy and seed: the same result, field for field."""
    scenario = load_scenario("small-town")
    first = run_replication(scenario, "reserve", seed=3).to_dict()
    assert json.dumps(first) == json.dumps(run_replication(scenario, "reserve", seed=3).to_dict())


def test_reject_never_queues_and_refuses_when_no_car_can_come() -> None:
    """The status quo refuses at the door instead of queueing."""
    rows = town("reject").rows
    assert not any(row.queued for row in rows)
    assert any(row.outcome.startswith("refused") for row in rows)


def test_every_order_ends_in_exactly_one_outcome() -> None:
    """Without warm-up, orders placed = rows + orders still in flight at the end."""
    raw = load_scenario("small-town").model_dump()
    raw["warmup_days"] = 0.0
    model = simulate_model(Scenario.model_validate(raw), "retention")
    assert model.orders_placed == len(model.rows) + len(model.trips)
    assert len(model.trips) < 20


def test_cars_work_only_in_their_shifts_or_finishing_a_job() -> None:
    """At any hour a car outside its shift is offline, or busy and due to leave when free."""
    scenario = load_scenario("small-town")
    setup = build_setup(scenario)
    model = Model(setup, build_dispatcher(setup, "fifo"))
    patterns = shift_patterns(scenario.fleet)
    for hour in range(1, 48, 5):
        model.run(until=hour * 3600.0 + 1.0)
        statuses = {car.driver_id: car.status for car in model.dispatcher.drivers()}
        for index, pattern in enumerate(patterns):
            car_id = f"c{index}"
            status = statuses.get(car_id, DriverStatus.OFFLINE)  # never online yet
            offset = (hour * 3600.0 + 1.0 - pattern.start_s) % 86_400.0
            if offset >= pattern.duration_s:
                assert status is DriverStatus.OFFLINE or (
                    status is not DriverStatus.FREE and car_id in setup.cars.leaving)
            else:
                assert status is not DriverStatus.OFFLINE


@settings(max_examples=12, deadline=None)
@given(cars=st.integers(1, 12), calls_per_week=st.floats(0.5, 8.0),
       radius_m=st.sampled_from([500.0, 3000.0, math.inf]), patience_min=st.floats(0.0, 30.0),
       retry=st.floats(0.0, 1.0), policy=st.sampled_from(POLICY_NAMES),
       max_wait_min=st.sampled_from([5.0, math.inf]), seed=st.integers(0, 2**32 - 1))
def test_any_small_world_runs_and_keeps_its_books(
        cars: int, calls_per_week: float, radius_m: float, patience_min: float, retry: float,
        policy: str, max_wait_min: float, seed: int) -> None:
    """Random fleets, demand, reach, patience and policies: no domain error, consistent rows."""
    raw = load_scenario("small-town").model_dump()
    raw.update(horizon_days=1.0, warmup_days=0.0, seed=seed)
    raw["fleet"]["cars"] = cars
    raw["demand"].update(customers=300, trips_per_week_mean=calls_per_week, retry_probability=retry)
    raw["patience"]["wait"] = {"kind": "exponential", "mean_min": patience_min}
    raw["dispatch"].update(pickup_radius_m=radius_m, max_wait_min=max_wait_min)
    model = simulate_model(Scenario.model_validate(raw), policy)
    assert model.orders_placed == len(model.rows) + len(model.trips)
    for row in model.rows:
        assert row.queue_wait_s >= 0.0
        if row.outcome == "completed":
            assert row.pickup_wait_s >= row.queue_wait_s
        if not row.queued and row.outcome == "expired":
            raise AssertionError("only a queued order can expire")
    assert 0.0 <= model.s.cars.utilisation <= 1.0


def _failure_losses_by_past(halving: float) -> tuple[float, float]:
    """(share lost to failures among failed customers with <= 5 past trips, with >= 30).

    Everyone calls at the same rate, so the groups differ only in the
    synthetic past (tenure), not in how often they are failed.
    """
    raw = load_scenario("small-town").model_dump()
    raw.update(horizon_days=4.0, warmup_days=0.0)
    raw["fleet"]["cars"] = 3
    raw["demand"].update(trips_per_week_shape=math.inf, trips_per_week_mean=1.0,
                         new_customers_per_day=0.0, retry_probability=0.0)
    raw["churn"].update(base_departures_per_year=0.0, first_failure_leave_probability=0.0,
                        rise_per_failure_per_week=0.3, prior_trips_halving=halving)
    setup = build_setup(Scenario.model_validate(raw))
    past = [c.completed for c in setup.customers]
    model = Model(setup, build_dispatcher(setup, "fifo"))
    model.run()
    failed = {row.customer_index for row in model.rows if row.outcome != COMPLETED}
    shares = []
    for keep in (lambda n: n <= 5, lambda n: n >= 30):
        group = [c for c in setup.customers if c.index in failed and keep(past[c.index])]
        shares.append(sum(c.depart_cause == "failure" for c in group) / len(group))
    return shares[0], shares[1]


def test_customers_with_many_past_trips_leave_less_often_after_failures() -> None:
    """With softening a failed regular leaves far less often than a failed occasional caller."""
    light, heavy = _failure_losses_by_past(2.0)
    assert heavy < 0.4 * light
    unsoftened_light, unsoftened_heavy = _failure_losses_by_past(math.inf)
    assert unsoftened_heavy > 0.7 * unsoftened_light  # the gap comes from the softening


def test_the_synthetic_past_is_the_same_whatever_the_scoring() -> None:
    """vip_classes scoring gives initial customers the trips valuation scoring seeds: no false newcomers."""
    raw = load_scenario("small-town").model_dump()
    by_valuation = build_setup(Scenario.model_validate(raw))
    raw["scoring"] = "vip_classes"
    by_classes = build_setup(Scenario.model_validate(raw))
    assert by_classes.book is None and by_valuation.book is not None
    counts = [c.completed for c in by_classes.customers]
    assert counts == [c.completed for c in by_valuation.customers]
    assert sum(n > 0 for n in counts) > 0.7 * len(counts)


@pytest.mark.parametrize("policy", ["reject", "fifo", "static_vip"])
def test_a_policy_that_reads_no_score_runs_without_the_valuation(policy: str) -> None:
    """Its dispatcher scores nobody and its run keeps no histories, yet every row is what
    the same run with the real valuation scoring every call gives."""
    scenario = load_scenario("small-town")
    lean = simulate_model(scenario, policy)
    assert lean.dispatcher.scorer is neutral_scorer
    untouched = build_setup(scenario).book
    assert lean.s.book is not None and untouched is not None
    assert lean.s.book.histories == untouched.histories  # nothing recorded during the run

    setup = build_setup(scenario)
    chosen_policy, _ = policy_and_scorer(setup, policy)
    assert setup.book is not None
    scored = Model(setup, Dispatcher(chosen_policy, setup.book.scorer(frozenset(
        c.customer_id for c in setup.customers if c.vip)), scenario.dispatch.config()))
    scored.run()
    assert scored.rows == lean.rows
    assert len(scored.rows) > 500


def test_a_policy_that_reads_scores_keeps_the_valuation() -> None:
    model = town("retention")
    assert model.dispatcher.scorer is not neutral_scorer
    assert model.dispatcher.policy.reads_score
