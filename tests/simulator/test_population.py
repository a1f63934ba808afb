"""Call rates, the VIP list, the caller stream and churn draws."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest

from simulator.population import (
    BASE,
    FAILURE,
    WEEK_S,
    Callers,
    ChurnModel,
    Customer,
    call_rates_per_s,
    initial_customers,
    sort_within_owners,
)
from simulator.scenario import Churn, Demand


def test_call_rates_are_gamma_with_the_scenario_mean() -> None:
    """Mean trips per week is kept; shape 0.5 makes rates spread (variance mean^2 / shape)."""
    demand = Demand(customers=0, trips_per_week_mean=0.8, trips_per_week_shape=0.5)
    rates = call_rates_per_s(demand, 200_000, np.random.default_rng(1)) * WEEK_S
    assert rates.mean() == pytest.approx(0.8, rel=0.02)
    assert rates.var() == pytest.approx(0.8**2 / 0.5, rel=0.05)


def test_the_most_frequent_callers_are_the_vips_and_segments_follow_rates() -> None:
    """vip_share picks the top callers by rate; regulars call at least the threshold."""
    demand = Demand(customers=1000, trips_per_week_mean=0.8, trips_per_week_shape=0.5,
                    vip_share=0.05, regular_min_trips_per_week=1.0)
    customers = initial_customers(demand, ChurnModel.from_scenario(Churn()),
                                  np.random.default_rng(4))
    vips = [c for c in customers if c.vip]
    assert len(vips) == 50
    assert min(c.rate_per_s for c in vips) >= max(c.rate_per_s for c in customers if not c.vip)
    for c in customers:
        assert (c.segment == "regular") == (c.rate_per_s * WEEK_S >= 1.0)


def test_callers_are_picked_in_proportion_to_their_rates() -> None:
    """A customer calling three times as often is picked three times as often."""
    slow, fast = Customer(0, 1.0, "occasional", 0, math.inf), Customer(1, 3.0, "regular", 0,
                                                                       math.inf)
    callers = Callers([slow, fast])
    picks = [callers.pick(u) for u in np.random.default_rng(9).random(40_000)]
    assert sum(p is fast for p in picks) / len(picks) == pytest.approx(0.75, abs=0.01)
    assert callers.total_rate_per_s == 4.0


def test_a_newcomer_joins_the_caller_stream() -> None:
    """Adding a customer raises the total rate and makes them pickable."""
    callers = Callers([])
    newcomer = Customer(0, 2.0, "new", 5.0, math.inf)
    callers.add(newcomer)
    assert (callers.total_rate_per_s, callers.pick(0.99)) == (2.0, newcomer)


def test_each_failure_makes_a_customer_leave_with_the_closed_form_probability() -> None:
    """P(a failure ever causes departure) = 1 - exp(-rise * memory), delays are positive."""
    churn = ChurnModel.from_scenario(Churn(rise_per_failure_per_week=0.2,
                                           memory_half_life_days=14.0))
    delays = [churn.failure_departure_delay_s(e)
              for e in np.random.default_rng(2).standard_exponential(100_000)]
    leaving = [d for d in delays if d < math.inf]
    assert len(leaving) / len(delays) == pytest.approx(churn.p_leave_per_failure, abs=0.005)
    assert churn.p_leave_per_failure == pytest.approx(
        1 - math.exp(-0.2 * 2 / math.log(2)), rel=1e-12)
    assert min(leaving) > 0


def test_the_failure_hazard_fades_with_its_half_life() -> None:
    """Departures caused by one failure come sooner than later: half within ~the half-life scale."""
    churn = ChurnModel.from_scenario(Churn(rise_per_failure_per_week=5.0,
                                           memory_half_life_days=7.0))
    delays = np.array([churn.failure_departure_delay_s(e)
                       for e in np.random.default_rng(3).standard_exponential(50_000)])
    finite = delays[np.isfinite(delays)]
    hazard_integral = churn.rise_per_s * churn.memory_s * (1 - np.exp(-finite / churn.memory_s))
    # the integrated hazard at the drawn delays is Exp(1) truncated below its total
    assert np.mean(hazard_integral) == pytest.approx(
        1 - churn.rise_per_s * churn.memory_s * math.exp(-churn.rise_per_s * churn.memory_s)
        / (1 - math.exp(-churn.rise_per_s * churn.memory_s)), rel=0.02)


def test_departures_keep_the_earliest_cause() -> None:
    """leave_by only ever brings a departure forward, and records why."""
    customer = Customer(0, 1.0, "regular", 0.0, depart_at=100.0)
    customer.leave_by(200.0, FAILURE)
    assert (customer.depart_at, customer.depart_cause) == (100.0, BASE)
    customer.leave_by(50.0, FAILURE)
    assert (customer.depart_at, customer.depart_cause, customer.gone_by(50.0)) == (
        50.0, FAILURE, True)


@pytest.mark.parametrize("completed_before", [0, 3, 20, 80])
def test_a_softened_failure_drives_away_the_closed_form_share(completed_before: int) -> None:
    """With n trips behind them, P(leave) = 1 - exp(-rise * memory / (1 + n / halving))."""
    churn = ChurnModel.from_scenario(Churn(rise_per_failure_per_week=0.3,
                                           memory_half_life_days=14.0, prior_trips_halving=20.0))
    draws = np.random.default_rng(5).standard_exponential(100_000)
    delays = np.array([churn.failure_departure_delay_s(float(e), completed_before)
                       for e in draws])
    factor = 1.0 / (1.0 + completed_before / 20.0)
    expected = 1 - math.exp(-0.3 * factor * 2 / math.log(2))
    assert np.isfinite(delays).mean() == pytest.approx(expected, abs=0.005)
    assert churn.p_leave_after_failure(completed_before) == pytest.approx(expected, rel=1e-12)
    # exact inversion: the softened hazard integrated to each finite delay is its Exp(1) draw
    finite = np.isfinite(delays)
    integral = (churn.rise_per_s * factor * churn.memory_s
                * -np.expm1(-delays[finite] / churn.memory_s))
    assert integral == pytest.approx(draws[finite], rel=1e-9)


def test_prior_trips_only_ever_soften_and_never_cancel_a_failure() -> None:
    """The share of the push that reaches a customer falls with trips, halves at the halving, stays > 0."""
    churn = ChurnModel.from_scenario(Churn(rise_per_failure_per_week=0.3,
                                           prior_trips_halving=10.0))
    shares = [churn.softening(n) for n in (0, 1, 10, 100, 10_000)]
    assert shares[0] == 1.0 and shares[2] == 0.5
    assert all(a > b > 0 for a, b in pairwise(shares))


def test_an_infinite_halving_draws_bit_for_bit_as_without_softening() -> None:
    """prior_trips_halving = inf: every delay equals the unsoftened closed form exactly."""
    churn = ChurnModel.from_scenario(Churn(rise_per_failure_per_week=0.3,
                                           prior_trips_halving=math.inf))
    total = churn.rise_per_s * churn.memory_s
    for e in np.random.default_rng(6).standard_exponential(5_000):
        unsoftened = math.inf if e >= total else -churn.memory_s * math.log1p(-e / total)
        assert [churn.failure_departure_delay_s(float(e), n) for n in (0, 7, 500)] == [
            unsoftened] * 3


def test_next_caller_is_pick_of_the_stream_s_next_uniform() -> None:
    """Answered a chunk at a time, over refills of a generator shared with another stream
    and with newcomers joining mid-chunk, the callers are those `pick` gives for the same
    uniforms drawn one by one (and the other stream sees the same numbers too)."""
    from simulator.kernel import BufferedDraws, standard_exponentials, uniforms

    def customers() -> list[Customer]:
        rng = np.random.default_rng(4)
        return [Customer(i, float(r), "occasional", 0, math.inf) for i, r in enumerate(rng.random(5000))]

    def run(chunked: bool) -> tuple[list[int], list[float]]:
        generator = np.random.Generator(np.random.PCG64(21))
        gaps = BufferedDraws(generator, standard_exponentials, batch=300)
        draws = BufferedDraws(generator, uniforms, batch=500)
        callers = Callers(customers(), draws)
        picked, seen_gaps = [], []
        for call in range(3000):
            seen_gaps.append(gaps.next())
            caller = callers.next_caller() if chunked else callers.pick(draws.next())
            picked.append(caller.index)
            if call % 97 == 0:  # a newcomer changes the total mid-chunk
                callers.add(Customer(5000 + call, 2.5, "new", 0, math.inf))
        return picked, seen_gaps

    assert run(chunked=True) == run(chunked=False)


def test_times_sorted_within_owners_are_the_lexsorts_to_the_bit() -> None:
    """`sort_within_owners` replaced `np.lexsort((times, owners))`: the same values to the
    bit, ties and the zeros (all -0.0, as in the past trips) included."""
    rng = np.random.default_rng(11)
    counts = rng.poisson(3.0, 2_000)
    owners = np.repeat(np.arange(counts.size), counts)
    times = -np.round(rng.uniform(0.0, 50.0, owners.size))  # coarse: many ties, and -0.0
    expected = times[np.lexsort((times, owners))]
    got = sort_within_owners(times.copy(), counts)
    assert np.array_equal(got.view(np.int64), expected.view(np.int64))


def test_callers_built_at_once_hold_the_running_sums_added_one_by_one() -> None:
    rates = np.random.default_rng(12).gamma(0.6, 1e-6, 5_000).tolist()
    customers = [Customer(i, rate, "occasional", 0.0, math.inf) for i, rate in enumerate(rates)]
    at_once, one_by_one = Callers(customers), Callers([])
    for customer in customers:
        one_by_one.add(customer)
    count = len(customers)
    assert np.array_equal(at_once._sums[:count], one_by_one._sums[:count])
    assert at_once.total_rate_per_s == one_by_one.total_rate_per_s
