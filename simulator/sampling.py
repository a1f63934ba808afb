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
POINT_BATCH = 1024  # points drawn at once where every point takes the same uniforms
_sqrt, _cos, _sin, _degrees = math.sqrt, math.cos, math.sin, math.degrees


def _normals(rng: np.random.Generator, size: int) -> np.ndarray[Any, Any]:
    return rng.standard_normal(size)


def duration_sampler(dist: Distribution, rng: np.random.Generator) -> Sampler:
    """A function returning one duration in seconds per call."""
    mean_s = dist.mean_min * 60.0
    if dist.kind == "constant" or mean_s == 0.0 or math.isinf(mean_s):
        return lambda: mean_s
    # Each sampler pops its buffer itself (`BufferedDraws.buffer`) and calls `next` only to
    # refill: one Python call per draw, not two; a few draws per simulated order.
    if dist.kind == "exponential":
        draws = BufferedDraws(rng, standard_exponentials)
        buffer, refill = draws.buffer, draws.next
        return lambda: mean_s * (buffer.pop() if buffer else refill())
    if dist.kind == "lognormal":
        draws = BufferedDraws(rng, _normals)
        buffer, refill = draws.buffer, draws.next
        mu = math.log(mean_s) - dist.sigma**2 / 2  # so that the mean is mean_min
        sigma = dist.sigma
        exp = math.exp
        return lambda: exp(mu + sigma * (buffer.pop() if buffer else refill()))
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

    When every point takes the same number of uniforms (every zone a disc, or every
    zone a bare centre), points are drawn `POINT_BATCH` at a time with numpy: the same
    uniforms in the same order, the same IEEE operations element by element (numpy's
    float64 sqrt, sin, cos, degrees and searchsorted against `math` and `bisect` are
    checked bit for bit in tests/simulator/test_sampling.py), so the points are those of
    the scalar draw, which remains the reference and serves mixed zones. Two points per
    call made the scalar arithmetic about 2% of a `city` run.
    """

    __slots__ = ("_batched", "_buffer", "_centres", "_cumulative", "_discs", "_points", "_rng",
                 "_uniform")

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
        self._rng = rng
        discs = [radius_m > 0.0 for _, _, radius_m, _ in self._discs]
        self._batched = all(discs) or not any(discs)
        self._points: list[Position] = []  # drawn ahead, the next one last

    def sample(self) -> Position:
        points = self._points
        if points:
            return points.pop()
        if not self._batched:
            return self.sample_one()
        points.extend(reversed(self._draw_batch(POINT_BATCH)))
        return points.pop()

    def _draw_batch(self, count: int) -> list[Position]:
        """`count` points as `sample_one` would draw them, one after another."""
        discs = self._discs
        per_point = (len(discs) > 1) + 2 * (discs[0][2] > 0.0)
        if per_point == 0:
            return [self._centres[0]] * count
        u = self._rng.random(count * per_point).reshape(count, per_point)
        index = np.zeros(count, dtype=np.intp)
        if len(discs) > 1:
            index = np.minimum(np.searchsorted(self._cumulative, u[:, 0], side="right"), len(discs) - 1)
        if per_point == 1:
            centres = self._centres
            return [centres[i] for i in index.tolist()]
        lat, lon, radius_m, lon_m_per_rad = (np.array(column)[index] for column in zip(*discs, strict=True))
        radius_m = radius_m * np.sqrt(u[:, -2])
        angle = _TAU * u[:, -1]
        lats = lat + np.degrees(radius_m * np.cos(angle) / EARTH_RADIUS_M)
        lons = lon + np.degrees(radius_m * np.sin(angle) / lon_m_per_rad)
        return [Position(a, b) for a, b in zip(lats.tolist(), lons.tolist(), strict=True)]

    def sample_one(self) -> Position:
        """The reference draw: up to three uniforms per point, popped from the buffer itself
        (`BufferedDraws.buffer`). Never mix it with `sample` on one sampler: the batch
        draws its uniforms from the generator directly."""
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
