"""Shift patterns and the cars' working-time accounting."""

from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.model import DriverStatus, Position
from simulator.fleet import Cars, ShiftPattern, shift_patterns
from simulator.sampling import DAY_S, HOUR_S
from simulator.scenario import Fleet, Shift

HERE = Position(50.0, 20.0)


def test_a_day_shift_repeats_every_day() -> None:
    """06:00 for 10 h gives [6 h, 16 h) on day 0, then the same on day 1."""
    periods = list(itertools.islice(ShiftPattern(6 * HOUR_S, 10 * HOUR_S).periods(), 2))
    assert periods == [(6 * HOUR_S, 16 * HOUR_S), (DAY_S + 6 * HOUR_S, DAY_S + 16 * HOUR_S)]


def test_a_night_shift_is_already_on_at_midnight() -> None:
    """22:00 for 9 h covers 00:00-07:00 of day 0 before its first full night."""
    periods = list(itertools.islice(ShiftPattern(22 * HOUR_S, 9 * HOUR_S).periods(), 2))
    assert periods == [(0.0, 7 * HOUR_S), (22 * HOUR_S, 31 * HOUR_S)]


def test_a_round_the_clock_shift_never_ends() -> None:
    """24 hours means online from 0 forever."""
    assert list(ShiftPattern(0.0, DAY_S).periods()) == [(0.0, math.inf)]


@given(st.integers(1, 500), st.lists(st.floats(0.05, 1.0), min_size=1, max_size=5))
def test_cars_are_split_between_shifts_exactly(cars: int, weights: list[float]) -> None:
    """Largest remainder: the counts add up to the fleet and stay within one of the share."""
    total = sum(weights)
    shares = [w / total for w in weights]
    shares[-1] = 1.0 - sum(shares[:-1])
    shifts = [Shift(start_h=i, hours=8, share=share) for i, share in enumerate(shares)]
    patterns = shift_patterns(Fleet(cars=cars, shifts=shifts))
    assert len(patterns) == cars
    for index, share in enumerate(shares):
        count = sum(p.start_s == index * HOUR_S for p in patterns)
        assert abs(count - share * cars) < 1.0


def test_utilisation_is_busy_time_over_online_time_inside_the_window() -> None:
    """Online 0-100 s, busy 20-60 s; the window [10, 90) sees 80 s online and 40 s busy."""
    cars = Cars((10.0, 90.0))
    cars.add("c1", HERE, ShiftPattern(0.0, DAY_S))
    cars.went_online("c1", 0.0)
    cars.worked(20.0, 60.0)
    cars.went_offline("c1", 100.0)
    cars.close(100.0)
    assert cars.utilisation == pytest.approx(40.0 / 80.0)


def test_cars_still_online_at_the_end_are_counted_once() -> None:
    """close() counts open online time up to the end, and a second close adds nothing."""
    cars = Cars((0.0, 100.0))
    cars.add("c1", HERE, ShiftPattern(0.0, DAY_S))
    cars.went_online("c1", 50.0)
    cars.worked(60.0, 200.0)
    cars.close(100.0)
    cars.close(100.0)
    assert cars.utilisation == pytest.approx(40.0 / 50.0)


@given(st.lists(st.tuples(st.floats(-1e6, 1e7), st.floats(0.0, 1e6)), max_size=300),
       st.floats(0.0, 1e6), st.floats(0.0, 1e7))
def test_busy_time_summed_at_once_is_the_running_sum_bit_for_bit(
        jobs: list[tuple[float, float]], start: float, length: float) -> None:
    """`busy_s` (numpy over every job at once) is the per-job overlap summed in order,
    to the last bit, jobs inside, across and outside the window alike."""
    end = start + length
    cars, running_sum = Cars((start, end)), 0.0
    for assigned_at, busy_s in jobs:
        until = assigned_at + busy_s
        cars.worked(assigned_at, until)
        running_sum += max(0.0, min(until, end) - max(assigned_at, start))  # the old accumulation
    assert cars.busy_s.hex() == running_sum.hex()


def test_a_busy_car_at_shift_end_leaves_when_next_free() -> None:
    """Shift end while on a trip marks the car as leaving; going offline clears it."""
    cars = Cars((0.0, DAY_S))
    cars.add("c1", HERE, ShiftPattern(6 * HOUR_S, 8 * HOUR_S))
    assert cars.shift_starts("c1") == (True, 14 * HOUR_S)
    cars.went_online("c1", 6 * HOUR_S)
    assert cars.shift_starts("c1")[0] is False  # already on: no second DriverOnline
    free_now, next_start = cars.shift_ends("c1", DriverStatus.ON_TRIP)
    assert (free_now, next_start, "c1" in cars.leaving) == (False, DAY_S + 6 * HOUR_S, True)
    cars.went_offline("c1", 14.5 * HOUR_S)
    assert "c1" not in cars.leaving
    assert cars.shift_ends("c1", DriverStatus.FREE)[0] is True
