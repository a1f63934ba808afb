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



class Cars:
    """The simulation's view of its cars: where they are, their shifts, their working time.

    Utilisation is busy time (en route or on a trip) over time online, both
    clipped to the measured window and accumulated from the dispatcher's own
    `DriverStatusChanged` decisions, so it counts exactly what the core did.
    A car whose shift ends while it is busy finishes its work first (the core
    may hand it one more waiting order as it frees up: drivers' overtime).
    """

    __slots__ = ("_busy_s", "_online_s", "_period", "_periods", "_since", "_status", "_window",
                 "leaving", "positions")

    def __init__(self, window: tuple[float, float]) -> None:
        self._window = window
        self.positions: dict[str, Position] = {}
        self._status: dict[str, DriverStatus] = {}
        self._since: dict[str, float] = {}
        self._periods: dict[str, Iterator[tuple[float, float]]] = {}
        self._period: dict[str, tuple[float, float]] = {}
        self.leaving: set[str] = set()
        self._busy_s = self._online_s = 0.0

    def add(self, car_id: str, position: Position, pattern: ShiftPattern) -> float:
        """Register an offline car; returns when its first shift starts."""
        self.positions[car_id] = position
        self._status[car_id] = DriverStatus.OFFLINE
        self._since[car_id] = 0.0
        self._periods[car_id] = pattern.periods()
        self._period[car_id] = next(self._periods[car_id])
        return self._period[car_id][0]

    def first_shifts(self) -> list[tuple[str, float]]:
        return [(car_id, period[0]) for car_id, period in self._period.items()]

    def shift_starts(self, car_id: str) -> tuple[bool, float]:
        """(needs DriverOnline, shift end); a car still on overtime just stays on."""
        self.leaving.discard(car_id)
        return self._status[car_id] is DriverStatus.OFFLINE, self._period[car_id][1]

    def shift_ends(self, car_id: str) -> tuple[bool, float]:
        """(may go offline now, next shift start); a busy car leaves when it is next free."""
        free = self._status[car_id] is DriverStatus.FREE
        if not free and self._status[car_id] is not DriverStatus.OFFLINE:
            self.leaving.add(car_id)
        self._period[car_id] = next(self._periods[car_id])
        return free, self._period[car_id][0]

    def status_changed(self, car_id: str, status: DriverStatus, position: Position,
                       now: float) -> None:
        self._account(car_id, now)
        self._status[car_id] = status
        self.positions[car_id] = position
        if status is DriverStatus.OFFLINE:
            self.leaving.discard(car_id)

    def _account(self, car_id: str, now: float) -> None:
        start, end = self._window
        overlap = max(0.0, min(now, end) - max(self._since[car_id], start))
        status = self._status[car_id]
        if status is not DriverStatus.OFFLINE:
            self._online_s += overlap
            if status is not DriverStatus.FREE:
                self._busy_s += overlap
        self._since[car_id] = now

    def close(self, now: float) -> None:
        """Account every car's time up to the end of the run."""
        for car_id in self._status:
            self._account(car_id, now)

    @property
    def utilisation(self) -> float:
        return self._busy_s / self._online_s if self._online_s else 0.0
