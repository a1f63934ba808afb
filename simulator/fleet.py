"""Who drives when: the fleet's daily shift pattern.

Shifts are daily patterns (start hour, length, share of the fleet). Cars
are split between shifts by largest remainder so the counts add up to
`fleet.cars` exactly, and each car's working periods are generated lazily,
one at a time, so a months-long run holds one pending period per car.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from dispatch.model import DriverStatus, Position
from simulator.sampling import DAY_S, HOUR_S
from simulator.scenario import Fleet


@dataclass(frozen=True, slots=True)
class ShiftPattern:
    """One car's working hours every day: from `start_s` after midnight for `duration_s`."""

    start_s: float
    duration_s: float

    def periods(self) -> Iterator[tuple[float, float]]:
        """(online_at, offline_at) from time 0 on; a shift running over midnight starts at 0."""
        if self.duration_s >= DAY_S:
            yield 0.0, math.inf
            return
        carried_over = self.start_s + self.duration_s - DAY_S
        if carried_over > 0:
            yield 0.0, carried_over
        day = 0.0
        while True:
            online_at = day + self.start_s
            yield online_at, online_at + self.duration_s
            day += DAY_S


def shift_patterns(fleet: Fleet) -> list[ShiftPattern]:
    """One pattern per car; no shifts means every car works around the clock."""
    if not fleet.shifts:
        return [ShiftPattern(0.0, DAY_S)] * fleet.cars
    exact = [shift.share * fleet.cars for shift in fleet.shifts]
    counts = [math.floor(value) for value in exact]
    by_remainder = sorted(range(len(exact)), key=lambda i: (counts[i] - exact[i], i))
    for index in by_remainder[: fleet.cars - sum(counts)]:
        counts[index] += 1
    patterns: list[ShiftPattern] = []
    for shift, count in zip(fleet.shifts, counts, strict=True):
        pattern = ShiftPattern(shift.start_h * HOUR_S, shift.hours * HOUR_S)
        patterns.extend([pattern] * count)
    return patterns


def cars_on_duty_by_hour(fleet: Fleet) -> list[float]:
    """Mean number of cars on shift in each hour of the day (what the fleet view plots)."""
    on_duty = [0.0] * 24
    for pattern in shift_patterns(fleet):
        start, end = pattern.start_s, pattern.start_s + min(pattern.duration_s, DAY_S)
        for hour in range(48):  # a shift over midnight continues into the next day's hours
            low, high = hour * HOUR_S, (hour + 1) * HOUR_S
            on_duty[hour % 24] += max(0.0, min(end, high) - max(start, low)) / HOUR_S
    return on_duty


class Cars:
    """The simulation's view of its cars: starting places, shifts, working time.

    Utilisation is busy time (from an assignment to the trip's end or the
    order's cancellation) over time online (from `DriverOnline` to
    `DriverOffline`), both clipped to the measured window. Both come from the
    commands the model sends and the trips it tracks, not from every
    `DriverStatusChanged`, which would cost three calls per order. A car whose
    shift ends while it is busy finishes the job in hand and then goes offline
    (`DriverOffline(when_free=True)`): the core hands it no further order.
    """

    __slots__ = (
        "_busy_from",
        "_busy_until",
        "_online_s",
        "_online_since",
        "_period",
        "_periods",
        "_window",
        "leaving",
        "positions",
    )

    def __init__(self, window: tuple[float, float]) -> None:
        self._window = window
        self.positions: dict[str, Position] = {}
        self._periods: dict[str, Iterator[tuple[float, float]]] = {}
        self._period: dict[str, tuple[float, float]] = {}
        self._online_since: dict[str, float] = {}
        self.leaving: set[str] = set()
        self._busy_from: list[float] = []  # each finished job's assignment ...
        self._busy_until: list[float] = []  # ... and end, clipped when read (`busy_s`)
        self._online_s = 0.0

    def add(self, car_id: str, position: Position, pattern: ShiftPattern) -> float:
        """Register an offline car; returns when its first shift starts."""
        self.positions[car_id] = position
        self._periods[car_id] = pattern.periods()
        self._period[car_id] = next(self._periods[car_id])
        return self._period[car_id][0]

    def first_shifts(self) -> list[tuple[str, float]]:
        return [(car_id, period[0]) for car_id, period in self._period.items()]

    def shift_starts(self, car_id: str) -> tuple[bool, float]:
        """(needs DriverOnline, shift end); a car still on overtime just stays on."""
        self.leaving.discard(car_id)
        return car_id not in self._online_since, self._period[car_id][1]

    def shift_ends(self, car_id: str, status: DriverStatus) -> tuple[bool, float]:
        """(may go offline now, next shift start); a busy car leaves when it is next free."""
        if status is DriverStatus.EN_ROUTE or status is DriverStatus.ON_TRIP:
            self.leaving.add(car_id)
        self._period[car_id] = next(self._periods[car_id])
        return status is DriverStatus.FREE, self._period[car_id][0]

    def is_online(self, car_id: str) -> bool:
        """On duty now (overtime included): what a shift log records."""
        return car_id in self._online_since

    def went_online(self, car_id: str, now: float) -> None:
        self._online_since[car_id] = now

    def went_offline(self, car_id: str, now: float) -> None:
        self._online_s += self._overlap(self._online_since.pop(car_id), now)
        self.leaving.discard(car_id)

    def worked(self, assigned_at: float, until: float) -> None:
        """A car was busy with one order from its assignment until `until`.

        Only the two times are kept (two appends of floats that exist already), and
        `busy_s` clips them to the window when it is read: the clip, three built-in calls,
        was 2.5% of an `erlang-a` run as an accumulation per finished job.
        """
        self._busy_from.append(assigned_at)
        self._busy_until.append(until)

    @property
    def busy_s(self) -> float:
        """The jobs' time inside the window, summed job by job in order, to the last bit.

        Element by element numpy's minimum, maximum and subtraction are the scalar
        operations (no NaN reaches them: both times are finite); `add.accumulate` adds
        left to right from 0.0, as the running sum did (a pairwise `sum` would not).
        """
        start, end = self._window
        until = np.minimum(np.array(self._busy_until, dtype=np.float64), end)
        spans = np.maximum(0.0, until - np.maximum(np.array(self._busy_from, dtype=np.float64), start))
        return float(np.add.accumulate(np.concatenate(([0.0], spans)))[-1])

    def _overlap(self, since: float, until: float) -> float:
        start, end = self._window
        return max(0.0, min(until, end) - max(since, start))

    def close(self, now: float) -> None:
        """Count the time of cars still online at the end of the run."""
        for car_id in list(self._online_since):
            self._online_s += self._overlap(self._online_since[car_id], now)
            self._online_since[car_id] = now

    @property
    def utilisation(self) -> float:
        return self.busy_s / self._online_s if self._online_s else 0.0
