"""The simulator reduced to textbook queues reproduces their exact answers.

Each run drives the real Dispatcher with tens of thousands of callers; the
checks are 99% batch-means confidence intervals around the simulated figure.
Seeds are fixed, so a run that passes always passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

import pytest

from simulator.confidence import batch_means_ci
from simulator.metrics import ABANDONED, COMPLETED, OrderRow
from simulator.queueing import erlang_a, erlang_b, erlang_c, guard_channel
from simulator.replication import simulate_model
from simulator.scenario import Scenario, load_scenario

MINUTE_S = 60.0


def erlang_scenario(servers: int, arrivals_per_min: float, service_min: float,
                    patience_min: float, orders: int = 25_000, **overrides: Any) -> Scenario:
    """The bundled `erlang-a` scenario with other rates; overrides go to [policies]/[dispatch]."""
    raw = load_scenario("erlang-a").model_dump()
    raw["fleet"]["cars"] = servers
    raw["demand"]["trips_per_week_mean"] = arrivals_per_min * 7 * 1440 / raw["demand"]["customers"]
    raw["trips"]["duration"]["mean_min"] = service_min
    raw["patience"]["wait"]["mean_min"] = patience_min
    raw["horizon_days"] = orders / arrivals_per_min / 1440
    for key, value in overrides.items():
        section = "dispatch" if key in raw["dispatch"] else "policies"
        raw[section][key] = value
    return Scenario.model_validate(raw)


@cache
def rows_of(scenario_json: str, policy: str) -> list[OrderRow]:
    return simulate_model(Scenario.model_validate_json(scenario_json), policy).rows


def run(scenario: Scenario, policy: str) -> list[OrderRow]:
    return rows_of(scenario.model_dump_json(), policy)


def rates(servers: int, arrivals_per_min: float, service_min: float,
          patience_min: float) -> tuple[int, float, float, float]:
    """Per-second rates for simulator.queueing."""
    return (servers, arrivals_per_min / MINUTE_S, 1 / (service_min * MINUTE_S),
            1 / (patience_min * MINUTE_S))


def covers(values: Sequence[float], expected: float) -> bool:
    """Whether the 99% batch-means interval of a per-order series (arrival order) holds `expected`."""
    interval = batch_means_ci(values, batches=20, confidence=0.99)
    assert interval.contains(expected), f"{expected} not in [{interval.low}, {interval.high}]"
    return True


ERLANG_A_CASES = [
    pytest.param((20, 2.2, 10.0, 5.0), id="overloaded rho=1.1"),
    pytest.param((10, 0.8, 10.0, 20.0), id="rho=0.8 patient"),
    pytest.param((50, 4.5, 10.0, 2.0), id="rho=0.9 impatient, 50 cars"),
]


@pytest.mark.parametrize("case", ERLANG_A_CASES)
def test_fifo_reproduces_erlang_a(case: tuple[int, float, float, float]) -> None:
    """Simulated P(abandon) and P(wait) contain the Erlang A values in their 99% CI."""
    rows = run(erlang_scenario(*case), "fifo")
    exact = erlang_a(*rates(*case))
    assert covers([row.outcome == ABANDONED for row in rows], exact.p_abandon)
    assert covers([row.queued for row in rows], exact.p_wait)
    assert len(rows) > 20_000


def test_infinite_patience_reproduces_the_erlang_c_mean_wait() -> None:
    """Nobody abandons, and the mean wait in queue matches Erlang C."""
    case = (10, 0.8, 10.0, float("inf"))
    rows = run(erlang_scenario(*case), "fifo")
    exact = erlang_c(10, 0.8 / MINUTE_S, 1 / (10 * MINUTE_S))
    assert all(row.outcome == COMPLETED for row in rows)
    assert covers([row.queue_wait_s for row in rows], exact.mean_wait_s)
    assert covers([row.queued for row in rows], exact.p_wait)


def test_reject_reproduces_erlang_b_for_both_classes() -> None:
    """The status quo refuses exactly the Erlang B share of callers, VIP or not."""
    rows = run(erlang_scenario(20, 2.2, 10.0, 5.0), "reject")
    blocking = erlang_b(20, 22.0)
    for vip in (True, False):
        refused = [row.outcome == "refused_no_car" for row in rows if row.vip is vip]
        assert covers(refused, blocking)
    assert not any(row.queued for row in rows)


def test_reserve_without_waiting_reproduces_guard_channel_blocking() -> None:
    """Keeping 3 cars for VIPs gives both classes their trunk-reservation blocking."""
    scenario = erlang_scenario(20, 1.8, 10.0, 5.0, reserve_k=3, reserve_waits=False)
    rows = run(scenario, "reserve")
    exact = guard_channel(20, 3, 0.3 * 1.8 / MINUTE_S, 0.7 * 1.8 / MINUTE_S, 1 / (10 * MINUTE_S))
    high = [row.outcome != COMPLETED for row in rows if row.vip]
    low = [row.outcome != COMPLETED for row in rows if not row.vip]
    assert covers(high, exact.p_block_high)
    assert covers(low, exact.p_block_low)
    assert exact.p_block_low > 3 * exact.p_block_high  # the test can tell the classes apart


@pytest.mark.parametrize("policy", ["fifo", "static_vip", "value", "retention"])
def test_work_conserving_policies_keep_erlang_a_total_abandonment(policy: str) -> None:
    """Priority moves abandonment between classes; the total stays Erlang A's."""
    case = (20, 2.2, 10.0, 5.0)
    rows = run(erlang_scenario(*case), policy)
    assert covers([row.outcome == ABANDONED for row in rows], erlang_a(*rates(*case)).p_abandon)


@pytest.mark.parametrize("policy", ["fifo", "static_vip"])
def test_abandonment_equals_theta_times_mean_wait_per_class(policy: str) -> None:
    """With exponential patience, P(abandon) = theta * E[wait] holds for each class."""
    rows = run(erlang_scenario(20, 2.2, 10.0, 5.0), policy)
    theta = 1 / (5.0 * MINUTE_S)
    for vip in (True, False):
        gaps = [(row.outcome == ABANDONED) - theta * row.queue_wait_s
                for row in rows if row.vip is vip]
        assert covers(gaps, 0.0)


def test_priority_actually_moves_abandonment_to_the_other_class() -> None:
    """static_vip serves VIPs first: their abandonment falls far below the others'."""
    rows = run(erlang_scenario(20, 2.2, 10.0, 5.0), "static_vip")
    vip = [row.outcome == ABANDONED for row in rows if row.vip]
    other = [row.outcome == ABANDONED for row in rows if not row.vip]
    assert sum(vip) / len(vip) < 0.6 * sum(other) / len(other)


def test_same_seed_same_rows_bit_for_bit() -> None:
    """Two runs with one seed produce identical order rows; another seed does not."""
    scenario = erlang_scenario(20, 2.2, 10.0, 5.0, orders=3_000)
    first = simulate_model(scenario, "retention").rows
    assert first == simulate_model(scenario, "retention").rows
    assert first != simulate_model(scenario, "retention", seed=scenario.seed + 1).rows


def test_every_row_has_every_field() -> None:
    """The model builds rows with `tuple.__new__`, which checks no arity: a field added to
    OrderRow and not to `Model._row` must show here."""
    rows = simulate_model(erlang_scenario(20, 2.2, 10.0, 5.0, orders=500), "retention").rows
    assert rows and all(type(row) is OrderRow and len(row) == len(OrderRow._fields) for row in rows)
    assert {row.outcome for row in rows} >= {COMPLETED, ABANDONED}


@pytest.mark.parametrize("policy", ["static_vip", "value", "retention"])
def test_zero_head_starts_reproduce_fifo_exactly(policy: str) -> None:
    """With the head-start cap at 0 every priority policy is fifo, row for row."""
    scenario = erlang_scenario(20, 2.2, 10.0, 5.0, orders=5_000, max_head_start_s=0.0)
    assert simulate_model(scenario, policy).rows == simulate_model(scenario, "fifo").rows


def patient_town(patience_min: float, short_eta_s: float, short_eta_factor: float) -> Scenario:
    """`small-town` with every caller equally patient, so give-up times are known exactly."""
    raw = load_scenario("small-town").model_dump()
    raw["horizon_days"] = 3.0
    raw["patience"] = {"wait": {"kind": "constant", "mean_min": patience_min},
                       "short_eta_s": short_eta_s, "short_eta_factor": short_eta_factor}
    return Scenario.model_validate(raw)


def test_callers_give_up_while_the_car_is_still_on_its_way() -> None:
    """Patience covers the drive: no car arrives after it ends, and some callers give up
    after a car was assigned because it would have come too late."""
    patience_s = 4 * MINUTE_S
    rows = simulate_model(patient_town(4.0, 0.0, 1.0), "fifo").rows
    completed = [row for row in rows if row.outcome == COMPLETED]
    assert completed and max(row.pickup_wait_s for row in completed) <= patience_s
    en_route = [row for row in rows if row.outcome == ABANDONED and row.queue_wait_s < patience_s]
    in_queue = [row for row in rows
                if row.outcome == ABANDONED and row.queue_wait_s == pytest.approx(patience_s)]
    assert en_route and in_queue


def test_a_short_quoted_eta_stretches_patience() -> None:
    """With every quote counting as short and a factor of 2, pickups come up to twice the
    plain patience, never later."""
    patience_s = 4 * MINUTE_S
    rows = simulate_model(patient_town(4.0, 1e9, 2.0), "fifo").rows
    pickup_waits = [row.pickup_wait_s for row in rows if row.outcome == COMPLETED]
    assert max(pickup_waits) <= 2 * patience_s
    assert any(wait > patience_s for wait in pickup_waits)


def test_patience_by_segment_and_vip_class_scales_each_callers_patience() -> None:
    """Regulars 3x as patient and VIPs 2x on top: with constant patience, a completed regular
    VIP is picked up up to 6x the plain patience, a new caller never after 1x."""
    raw = patient_town(4.0, 0.0, 1.0).model_dump()
    raw["patience"].update(regular_factor=3.0, vip_factor=2.0)
    rows = simulate_model(Scenario.model_validate(raw), "fifo").rows
    patience_s = 4 * MINUTE_S
    def longest(match: Any) -> float:
        return max(row.pickup_wait_s for row in rows if row.outcome == COMPLETED and match(row))

    assert longest(lambda r: r.segment == "new") <= patience_s
    assert longest(lambda r: r.segment == "regular" and not r.vip) <= 3 * patience_s
    assert longest(lambda r: r.segment == "regular") > patience_s
    assert longest(lambda r: r.vip) <= 6 * patience_s
    plain = simulate_model(patient_town(4.0, 0.0, 1.0), "fifo").rows
    assert sum(r.outcome == ABANDONED for r in rows) < sum(r.outcome == ABANDONED for r in plain)


def test_batch_matching_runs_on_the_engine_in_the_simulator() -> None:
    """`matching = "batch"`: the model ticks the engine whenever a batch falls due, so no call gets
    a car the moment it calls, and the calls greedy matching serves at once wait at most about
    one window for theirs."""
    raw = load_scenario("small-town").model_dump()
    raw["horizon_days"] = 3.0
    window_s = 5.0
    greedy = simulate_model(Scenario.model_validate(raw), "fifo").rows
    raw["dispatch"].update(matching="batch", batch_window_s=window_s)
    batch = simulate_model(Scenario.model_validate(raw), "fifo").rows
    greedy_waits = [row.queue_wait_s for row in greedy if row.outcome == COMPLETED]
    batch_waits = [row.queue_wait_s for row in batch if row.outcome == COMPLETED]
    at_once = sum(wait == 0 for wait in greedy_waits) / len(greedy_waits)
    assert at_once > 0.5 and min(batch_waits) > 0
    within_window = sum(wait <= window_s for wait in batch_waits) / len(batch_waits)
    assert within_window >= at_once - 0.05


def test_a_dispatcher_reporting_every_car_status_gives_the_same_rows() -> None:
    """The model hears only cars going offline from `build_dispatcher`'s dispatcher; one that
    reports every status change (as the live server's does) must not change a row, shifts
    and cars leaving after their last job included."""
    from dispatch.engine import Dispatcher
    from simulator.model import Model
    from simulator.setup import build_dispatcher, build_setup, policy_and_scorer

    scenario = load_scenario("small-town")
    quiet_setup = build_setup(scenario)
    quiet = Model(quiet_setup, build_dispatcher(quiet_setup, "retention"))
    quiet.run()
    loud_setup = build_setup(scenario)
    policy, scorer = policy_and_scorer(loud_setup, "retention")
    loud = Model(loud_setup, Dispatcher(policy, scorer, scenario.dispatch.config()))
    loud.run()
    assert loud.rows == quiet.rows and len(quiet.rows) > 1_000
    assert loud_setup.cars.utilisation == quiet_setup.cars.utilisation
