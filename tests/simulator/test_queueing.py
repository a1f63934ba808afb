"""Closed forms against textbook values, exact rational arithmetic and independent chains."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.queueing import (
    birth_death_stationary,
    erlang_a,
    erlang_a_by_chain,
    erlang_b,
    erlang_c,
    guard_channel,
)


def _exact_erlang_b(servers: int, load: Fraction) -> Fraction:
    """a^n/n! over sum_k a^k/k!, in exact rationals."""
    terms = [load**k / math.factorial(k) for k in range(servers + 1)]
    return terms[-1] / sum(terms)


def test_erlang_b_matches_the_published_table_value() -> None:
    """B(10 servers, 7 Erlang) is 0.0787 in every Erlang B table."""
    assert erlang_b(10, 7.0) == pytest.approx(0.078741, abs=5e-6)


@given(st.integers(0, 40), st.fractions(Fraction(1, 10), Fraction(60)))
def test_erlang_b_recursion_equals_the_exact_rational_formula(servers: int, load: Fraction) -> None:
    """The recursion agrees with a^n/n! / sum a^k/k! computed exactly."""
    assert erlang_b(servers, float(load)) == pytest.approx(
        float(_exact_erlang_b(servers, load)), rel=1e-12)


@given(st.integers(1, 300), st.floats(0.1, 500.0))
def test_erlang_b_falls_with_servers_and_stays_a_probability(servers: int, load: float) -> None:
    """One more car never raises blocking, and blocking is always in [0, 1]."""
    fewer, more = erlang_b(servers, load), erlang_b(servers + 1, load)
    assert 0.0 <= more <= fewer <= 1.0


def test_erlang_c_single_server_is_mm1() -> None:
    """M/M/1: P(wait) = rho and E[W] = rho / (mu - lambda)."""
    result = erlang_c(1, 0.6, 1.0)
    assert result.p_wait == pytest.approx(0.6, rel=1e-14)
    assert result.mean_wait_s == pytest.approx(0.6 / 0.4, rel=1e-14)


def test_erlang_c_two_servers_matches_the_mm2_formula() -> None:
    """M/M/2: P(wait) = 2 rho^2 / (1 + rho)."""
    rho = 0.7
    result = erlang_c(2, 2 * rho, 1.0)
    assert result.p_wait == pytest.approx(2 * rho**2 / (1 + rho), rel=1e-14)
    assert result.mean_wait_if_waiting_s == pytest.approx(1 / (2 - 2 * rho), rel=1e-14)


def test_erlang_c_refuses_an_unstable_queue() -> None:
    """rho >= 1 has no stationary wait: the function says so instead of returning nonsense."""
    with pytest.raises(ValueError, match="rho < 1"):
        erlang_c(5, 5.0, 1.0)


@settings(max_examples=200)
@given(st.integers(1, 300), st.floats(0.05, 3.0), st.floats(0.05, 20.0))
def test_erlang_a_closed_form_equals_the_birth_death_chain(
        servers: int, rho: float, patience_over_service: float) -> None:
    """Garnett-Mandelbaum-Reiman and the truncated chain agree to ~1e-12."""
    service_rate = 1 / 600
    args = (servers, rho * servers * service_rate, service_rate,
            patience_over_service * service_rate)
    closed, chain = erlang_a(*args), erlang_a_by_chain(*args)
    assert closed.p_wait == pytest.approx(chain.p_wait, abs=1e-12)
    assert closed.p_abandon == pytest.approx(chain.p_abandon, abs=1e-12)
    assert closed.p_abandon_if_waiting == pytest.approx(chain.p_abandon_if_waiting, rel=1e-10)
    assert closed.mean_wait_s == pytest.approx(chain.mean_wait_s, rel=1e-10, abs=1e-12)


def test_erlang_a_tends_to_erlang_c_as_patience_becomes_infinite() -> None:
    """theta -> 0 leaves nobody abandoning: P(W>0) and E[W] become Erlang C's."""
    limit, nearly = erlang_c(20, 16.0, 1.0), erlang_a(20, 16.0, 1.0, 1e-9)
    assert nearly.p_wait == pytest.approx(limit.p_wait, rel=1e-6)
    assert nearly.mean_wait_s == pytest.approx(limit.mean_wait_s, rel=1e-6)


def test_erlang_a_tends_to_erlang_b_when_nobody_waits() -> None:
    """theta -> infinity: whoever finds all cars busy leaves at once, which is Erlang B."""
    result = erlang_a(20, 18.0, 1.0, 1e7)
    assert result.p_wait == pytest.approx(erlang_b(20, 18.0), rel=1e-5)
    assert result.p_abandon == pytest.approx(erlang_b(20, 18.0), rel=1e-5)


def test_erlang_a_overloaded_abandonment_approaches_the_fluid_limit() -> None:
    """At rho = 2 with many servers about half the callers must abandon (1 - 1/rho)."""
    result = erlang_a(400, 800.0, 1.0, 1.0)
    assert result.p_abandon == pytest.approx(0.5, abs=0.02)
    assert result.p_wait == pytest.approx(1.0, abs=1e-6)


@given(st.integers(1, 200), st.floats(0.1, 2.5))
def test_erlang_a_abandonment_rises_with_demand(servers: int, rho: float) -> None:
    """More callers for the same fleet never lowers anyone's chance of giving up."""
    lower = erlang_a(servers, rho * servers, 1.0, 0.5)
    higher = erlang_a(servers, rho * servers * 1.05, 1.0, 0.5)
    assert lower.p_abandon <= higher.p_abandon + 1e-15


def test_large_fleets_stay_finite() -> None:
    """Five hundred cars and heavy overload produce finite probabilities, not inf or nan."""
    result = erlang_a(500, 2000.0, 1.0, 0.01)
    assert 0.0 < result.p_abandon < 1.0
    assert math.isfinite(result.mean_wait_s)
    assert 0.0 < erlang_b(500, 2000.0) < 1.0


def test_birth_death_solver_reproduces_the_truncated_geometric_of_mm1k() -> None:
    """M/M/1/K: pi_k proportional to rho^k."""
    rho, capacity = 0.8, 12
    probs = birth_death_stationary([rho] * capacity, [1.0] * capacity)
    norm = sum(rho**k for k in range(capacity + 1))
    for k, p in enumerate(probs):
        assert p == pytest.approx(rho**k / norm, rel=1e-13)


def test_birth_death_solver_survives_products_beyond_double_range() -> None:
    """Ratios of 1e3 over 400 states (1e1200) are rescaled, not overflowed."""
    probs = birth_death_stationary([1e3] * 400, [1.0] * 400)
    assert probs[-1] == pytest.approx(1 - 1e-3, rel=1e-9)
    assert math.fsum(probs) == pytest.approx(1.0, rel=1e-14)


def test_birth_death_solver_rejects_mismatched_rates() -> None:
    """Births and deaths must describe the same transitions."""
    with pytest.raises(ValueError, match="same length"):
        birth_death_stationary([1.0, 2.0], [1.0])


def _exact_guard_channel(servers: int, reserved: int, high: Fraction,
                         low: Fraction) -> tuple[Fraction, Fraction]:
    weights = [Fraction(1)]
    for busy in range(servers):
        birth = high + low if busy < servers - reserved else high
        weights.append(weights[-1] * birth / (busy + 1))
    total = sum(weights, Fraction(0))
    return weights[-1] / total, sum(weights[servers - reserved:], Fraction(0)) / total


@given(st.integers(1, 30), st.data())
def test_guard_channel_equals_exact_rational_chain(servers: int, data: st.DataObject) -> None:
    """Both classes' blocking agree with the chain solved in exact rationals."""
    reserved = data.draw(st.integers(0, servers))
    high = data.draw(st.fractions(Fraction(1, 10), Fraction(40)))
    low = data.draw(st.fractions(Fraction(0), Fraction(40)))
    result = guard_channel(servers, reserved, float(high), float(low), 1.0)
    exact_high, exact_low = _exact_guard_channel(servers, reserved, high, low)
    assert result.p_block_high == pytest.approx(float(exact_high), rel=1e-12)
    assert result.p_block_low == pytest.approx(float(exact_low), rel=1e-12)
    assert result.p_block_high <= result.p_block_low + 1e-15


def test_guard_channel_without_reservation_is_erlang_b() -> None:
    """r = 0: both classes see the Erlang B blocking of the combined load."""
    result = guard_channel(12, 0, 4.0, 5.0, 1.0)
    assert result.p_block_high == pytest.approx(erlang_b(12, 9.0), rel=1e-13)
    assert result.p_block_low == pytest.approx(erlang_b(12, 9.0), rel=1e-13)


def test_guard_channel_rejects_reserving_more_cars_than_exist() -> None:
    """A reservation larger than the fleet is a configuration error."""
    with pytest.raises(ValueError, match="reserved"):
        guard_channel(3, 4, 1.0, 1.0, 1.0)
