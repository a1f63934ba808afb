"""Duration samplers, the daily call profile and demand places."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from dispatch.geo import haversine_m
from dispatch.model import Position
from simulator.sampling import DAY_S, DailyProfile, PlaceSampler, duration_sampler
from simulator.scenario import Demand, Distribution, Zone

PROFILE = [0.0, 0.0, 0.5, 1.0, 2.0, 3.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0,
           1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0]


def _mean_of(dist: Distribution, draws: int = 40_000) -> float:
    sample = duration_sampler(dist, np.random.default_rng(5))
    return sum(sample() for _ in range(draws)) / draws


@pytest.mark.parametrize("dist", [
    Distribution(kind="exponential", mean_min=4.0),
    Distribution(kind="lognormal", mean_min=4.0, sigma=0.8),
    Distribution(kind="empirical", samples_min=[1.0, 3.0, 8.0]),
])
def test_samplers_have_the_scenario_mean_in_seconds(dist: Distribution) -> None:
    """Exponential and lognormal keep mean_min; empirical resamples its values uniformly."""
    expected_s = 240.0 if dist.kind != "empirical" else 4.0 * 60
    assert _mean_of(dist) == pytest.approx(expected_s, rel=0.03)


def test_empirical_sampler_only_returns_given_values() -> None:
    """Resampling never invents a value."""
    sample = duration_sampler(Distribution(kind="empirical", samples_min=[1.0, 2.5]),
                              np.random.default_rng(1))
    assert {sample() for _ in range(200)} == {60.0, 150.0}


def test_infinite_and_constant_durations_are_exact() -> None:
    """An infinite mean means never; a constant is its value."""
    never = duration_sampler(Distribution(kind="exponential", mean_min=math.inf),
                             np.random.default_rng(1))
    fixed = duration_sampler(Distribution(kind="constant", mean_min=2.0), np.random.default_rng(1))
    assert (never(), fixed()) == (math.inf, 120.0)


@given(st.floats(0, 30 * DAY_S), st.floats(0, 5 * DAY_S))
def test_profile_advance_adds_exactly_the_requested_operational_time(at: float,
                                                                     work: float) -> None:
    """The integral of the profile between t and advance(t, w) is w."""
    profile = DailyProfile(PROFILE)
    later = profile.advance(at, work)
    assert later >= at
    assert profile._integral(later) - profile._integral(at) == pytest.approx(work, abs=1e-6)


@given(st.floats(0, 30 * DAY_S), st.floats(0, DAY_S))
def test_no_call_ever_falls_in_a_silent_hour(at: float, work: float) -> None:
    """Hours with zero weight receive no calls."""
    assume(work > 1e-3)
    profile = DailyProfile(PROFILE)
    assert profile.rate_factor(profile.advance(at, work)) > 0


def test_calls_follow_the_profile_shape() -> None:
    """Exponential gaps in operational time give hourly counts proportional to the profile."""
    profile = DailyProfile(PROFILE)
    rng = np.random.default_rng(3)
    counts = [0] * 24
    at = 0.0
    for gap in rng.exponential(60.0, 200_000):
        at = profile.advance(at, float(gap))
        counts[int(at % DAY_S // 3600)] += 1
    share = np.array(counts) / sum(counts)
    assert share == pytest.approx(np.array(PROFILE) / sum(PROFILE), abs=0.003)


def test_a_flat_profile_is_the_identity_time_change() -> None:
    """Without a profile, operational time is clock time, bit for bit."""
    assert DailyProfile([2.0] * 24).advance(1234.5, 67.25) == 1234.5 + 67.25


def test_places_fall_inside_their_zones_in_proportion_to_weight() -> None:
    """Each point lies within a zone's radius; zones receive their weight's share."""
    zones = [Zone(name="a", lat=50.0, lon=20.0, radius_m=800.0, weight=3.0),
             Zone(name="b", lat=50.1, lon=20.2, radius_m=200.0, weight=1.0)]
    sampler = PlaceSampler(zones, np.random.default_rng(2))
    centres = [Position(z.lat, z.lon) for z in zones]
    near_a = 0
    for _ in range(4000):
        point = sampler.sample()
        distances = [haversine_m(point, centre) for centre in centres]
        assert min(distances[0] - 800.0, distances[1] - 200.0) <= 1e-6
        near_a += distances[0] <= 800.0
    assert near_a / 4000 == pytest.approx(0.75, abs=0.03)


def test_a_zone_of_radius_zero_is_one_point() -> None:
    """The Erlang reduction puts every place at the same position."""
    sampler = PlaceSampler([Zone(name="x", lat=50.0, lon=20.0, radius_m=0.0, weight=1.0)],
                           np.random.default_rng(2))
    assert {sampler.sample() for _ in range(10)} == {Position(50.0, 20.0)}


def test_a_weekend_profile_shapes_saturday_and_sunday_calls() -> None:
    """With 168 weights (Demand.week_profile), weekend days follow their own curve and level,
    simulated time 0 being a Monday."""
    weekday = [1.0] * 24
    weekend = [0.0] * 12 + [4.0] * 12  # weekend calls only in the afternoon, twice a weekday's
    demand = Demand(customers=1, trips_per_week_mean=1.0, hourly_profile=weekday, weekend_profile=weekend)
    profile = DailyProfile(demand.week_profile())
    rng = np.random.default_rng(4)
    counts = np.zeros((7, 24))
    at = 0.0
    for gap in rng.exponential(120.0, 100_000):
        at = profile.advance(at, float(gap))
        counts[int(at // DAY_S) % 7, int(at % DAY_S // 3600)] += 1
    assert counts[5:, :12].sum() == 0  # Saturday and Sunday mornings are silent
    assert counts[:5].sum(axis=0) == pytest.approx(np.full(24, counts[:5].sum() / 24), rel=0.1)
    assert counts[5:].sum() / counts[:5].sum() == pytest.approx(2 * 48 / (5 * 24), rel=0.05)


def test_without_a_weekend_profile_every_day_is_alike() -> None:
    """No weekend_profile: the period is one day, exactly as before the key existed."""
    demand = Demand(customers=1, trips_per_week_mean=1.0, hourly_profile=PROFILE)
    assert demand.week_profile() == PROFILE
    one_day, same = DailyProfile(demand.week_profile()), DailyProfile(list(PROFILE))
    assert one_day.advance(5 * DAY_S + 100.0, 7_000.0) == same.advance(5 * DAY_S + 100.0, 7_000.0)


def _bits(points: list[Position]) -> list[tuple[str, str]]:
    return [(p.lat.hex(), p.lon.hex()) for p in points]


ZONE_SETS = {
    "discs": [Zone(name="a", lat=50.06, lon=19.94, radius_m=1500.0, weight=0.6),
              Zone(name="b", lat=50.10, lon=19.95, radius_m=3000.0, weight=0.3),
              Zone(name="c", lat=-33.9, lon=151.2, radius_m=400.0, weight=0.1)],
    "one disc": [Zone(name="a", lat=69.6, lon=18.9, radius_m=2500.0, weight=1.0)],
    "centres": [Zone(name="a", lat=0.0, lon=0.0, radius_m=0.0, weight=2.0),
                Zone(name="b", lat=1.0, lon=1.0, radius_m=0.0, weight=1.0)],
    "one centre": [Zone(name="a", lat=0.0, lon=0.0, radius_m=0.0, weight=1.0)],
    "mixed": [Zone(name="a", lat=50.0, lon=20.0, radius_m=0.0, weight=1.0),
              Zone(name="b", lat=50.1, lon=20.1, radius_m=900.0, weight=1.0)],
}


@pytest.mark.parametrize("zones", ZONE_SETS.values(), ids=ZONE_SETS.keys())
def test_batched_places_are_the_scalar_draws_bit_for_bit(zones: list[Zone]) -> None:
    """Over several batches (and whatever the zones), `sample` gives exactly the points
    `sample_one` draws from the same seed: batching changes no result."""
    batched = PlaceSampler(zones, np.random.Generator(np.random.PCG64(11)))
    scalar = PlaceSampler(zones, np.random.Generator(np.random.PCG64(11)))
    count = 2500  # more than two batches
    assert _bits([batched.sample() for _ in range(count)]) == _bits(
        [scalar.sample_one() for _ in range(count)])


def test_numpy_elementwise_math_is_the_scalar_math_bit_for_bit() -> None:
    """The batch's premise on this platform: numpy's float64 sqrt, sin, cos, degrees and
    searchsorted give what math and bisect give, for the inputs the sampler feeds them."""
    from bisect import bisect_right

    values = np.random.default_rng(3).random(200_000)
    angles = 2.0 * math.pi * values
    for vector, scalar, xs in ((np.sqrt, math.sqrt, values), (np.sin, math.sin, angles),
                               (np.cos, math.cos, angles), (np.degrees, math.degrees, angles)):
        assert vector(xs).tolist() == [scalar(x) for x in xs.tolist()], vector.__name__
    cumulative = [0.25, 0.45, 0.55, 0.75, 0.9, 1.0]
    found = np.searchsorted(cumulative, values, side="right").tolist()
    assert found == [bisect_right(cumulative, x) for x in values.tolist()]
