"""Turning scenario distributions into draws: durations, call times, places.

Every sampler pulls from a `BufferedDraws` of one named stream, so a scenario's
randomness is reproducible from its seed and the samplers cost tens of
nanoseconds per draw (see `simulator.kernel.BufferedDraws`).
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable
from typing import Any

import numpy as np

from dispatch.model import Position
from simulator.kernel import BufferedDraws, standard_exponentials, uniforms
from simulator.scenario import Distribution, Zone

DAY_S = 86_400.0
HOUR_S = 3_600.0
EARTH_RADIUS_M = 6_371_008.8

Sampler = Callable[[], float]
_TAU = 2.0 * math.pi
_sqrt, _cos, _sin, _degrees = math.sqrt, math.cos, math.sin, math.degrees


def _normals(rng: np.random.Generator, size: int) -> np.ndarray[Any, Any]:
    return rng.standard_normal(size)


def duration_sampler(dist: Distribution, rng: np.random.Generator) -> Sampler:
    """A function returning one duration in seconds per call."""
    mean_s = dist.mean_min * 60.0
    if dist.kind == "constant" or mean_s == 0.0 or math.isinf(mean_s):
        return lambda: mean_s
    if dist.kind == "exponential":
        exponentials = BufferedDraws(rng, standard_exponentials).next
        return lambda: mean_s * exponentials()
    if dist.kind == "lognormal":
        normals = BufferedDraws(rng, _normals).next
        mu = math.log(mean_s) - dist.sigma**2 / 2  # so that the mean is mean_min
        sigma = dist.sigma
        return lambda: math.exp(mu + sigma * normals())
    samples_s = [value * 60.0 for value in dist.samples_min]
    count = len(samples_s)
    uniform = BufferedDraws(rng, uniforms).next
    return lambda: samples_s[min(int(uniform() * count), count - 1)]


class DailyProfile:
    """Time-varying call intensity, hour by hour, repeated every day (24 weights) or every
    week (168 weights from Monday 00:00: `Demand.week_profile`).

    Calls follow a Poisson process whose rate is the customer's mean rate
    times this profile (normalised to mean 1 over the period). Instead of
    thinning, times are drawn in "operational time": `advance(t, work)`
    returns the moment the integrated profile has grown by `work` seconds
    after t, so one exponential draw gives one call, with no rejected candidates.
    """

    __slots__ = ("_cumulative", "_flat", "_hours", "_period_s", "_weights")

    def __init__(self, hourly: list[float]) -> None:
        mean = sum(hourly) / len(hourly)
        self._hours = len(hourly)
        self._period_s = self._hours * HOUR_S
        self._weights = [w / mean for w in hourly]
        self._flat = all(w == self._weights[0] for w in self._weights)
        self._cumulative = [0.0]
        for weight in self._weights:
            self._cumulative.append(self._cumulative[-1] + weight * HOUR_S)

    def rate_factor(self, at: float) -> float:
        return self._weights[int(at % self._period_s // HOUR_S)]

    def _integral(self, at: float) -> float:
        period, offset = divmod(at, self._period_s)
        hour = int(offset // HOUR_S)
        # summed left to right as before the weekly profile: the same bits, the same order rows
        into_hour = self._weights[hour] * (offset - hour * HOUR_S)
        return period * self._period_s + self._cumulative[hour] + into_hour

    def advance(self, at: float, work_s: float) -> float:
        if self._flat or math.isinf(work_s):
            return at + work_s
        period, rest = divmod(self._integral(at) + work_s, self._period_s)
        last = self._hours - 1
        hour = min(bisect_right(self._cumulative, rest) - 1, last)
        while self._weights[hour] == 0.0:  # rest fell exactly on the end of a silent stretch
            hour = (hour + 1) % self._hours
        into_hour = (rest - self._cumulative[hour]) / self._weights[hour]
        later = period * self._period_s + hour * HOUR_S + into_hour
        return max(later, at)  # rounding in the round trip must never move time backwards


class PlaceSampler:
    """Points of demand: a zone chosen by weight, then uniform inside its disc.

    A zone of radius 0 returns its centre itself, so the `erlang-a` reduction
    has every pickup, drop-off and car at one identical position (ETA 0). What a
    draw needs of its zone (centre, radius, the metres per radian of longitude at
    its latitude) is worked out once, with the very expressions a draw would use,
    so the points are the same to the last bit.
    """

    __slots__ = ("_buffer", "_centres", "_cumulative", "_discs", "_uniform")

    def __init__(self, zones: list[Zone], rng: np.random.Generator) -> None:
        total = sum(zone.weight for zone in zones)
        self._centres = [Position(zone.lat, zone.lon) for zone in zones]
        self._discs = [
            (zone.lat, zone.lon, zone.radius_m, EARTH_RADIUS_M * math.cos(math.radians(zone.lat)))
            for zone in zones
        ]
        running = 0.0
        self._cumulative: list[float] = []
        for zone in zones:
            running += zone.weight / total
            self._cumulative.append(running)
        draws = BufferedDraws(rng, uniforms)
        self._uniform, self._buffer = draws.next, draws.buffer

    def sample(self) -> Position:
        """Up to three uniforms per point, popped from the buffer itself (`BufferedDraws.buffer`):
        two draws per call, so the saved Python calls show in a city run."""
        index = 0
        discs = self._discs
        buffer, uniform = self._buffer, self._uniform
        if len(discs) > 1:
            u = buffer.pop() if buffer else uniform()
            index = min(bisect_right(self._cumulative, u), len(discs) - 1)
        lat, lon, radius_m, lon_m_per_rad = discs[index]
        if radius_m == 0.0:
            return self._centres[index]
        radius_m = radius_m * _sqrt(buffer.pop() if buffer else uniform())
        angle = _TAU * (buffer.pop() if buffer else uniform())
        dlat = _degrees(radius_m * _cos(angle) / EARTH_RADIUS_M)
        dlon = _degrees(radius_m * _sin(angle) / lon_m_per_rad)
        return Position(lat + dlat, lon + dlon)
