"""The fleet: cars and their daily shifts, from driver sessions or, lacking them, assignments.

Each driver's usual shift is the median start (to the half hour) and median
length of their times on duty; drivers with the same usual shift form one of
the scenario's shift patterns, its share their share of the fleet. Without
shift data, a driver's day runs from their first assignment to their last
trip end: a lower bound on time on duty, flagged as such.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from simulator.calibration.evidence import Estimate, Floats, LogArrays
from valuation.logrows import DriverSession

DAY_S, HOUR_S = 86_400.0, 3_600.0
MAX_SHIFTS = 6


@dataclass(frozen=True, slots=True)
class FleetFit:
    cars: Estimate
    shifts: Estimate  # value: list of {start_h, hours, share}
    on_duty_by_hour: Floats  # mean cars on duty per local hour (all days)
    orders_by_hour: Floats


def _half_hour(hours: float) -> float:
    return round(hours * 2) / 2


def sessions_from_assignments(log: LogArrays) -> list[DriverSession]:
    busy = (log.driver != "") & np.isfinite(log.assigned)
    spans: dict[tuple[str, int], list[float]] = defaultdict(list)
    for driver, t, a, e in zip(
        log.driver[busy], log.t[busy], log.assigned[busy], log.ended[busy], strict=True
    ):
        day = int((t + log.start_at) // DAY_S)
        spans[(str(driver), day)] += [t + a, t + (e if np.isfinite(e) else a)]
    return [DriverSession(d, log.start_at + min(v), log.start_at + max(v)) for (d, _), v in spans.items()]


def fit_fleet(log: LogArrays, sessions: list[DriverSession]) -> FleetFit:
    from_shifts = bool(sessions)
    if not from_shifts:
        sessions = sessions_from_assignments(log)
    orders_by_hour = np.bincount(log.local_hour, minlength=24) / max(log.span_s / DAY_S, 1.0)
    if not sessions:
        why = "no driver data and no assignments"
        return FleetFit(Estimate.fallback(20, why), Estimate.fallback([], why), np.zeros(24), orders_by_hour)
    offset = float(log.start_at % DAY_S)
    starts: dict[str, list[float]] = defaultdict(list)
    lengths: dict[str, list[float]] = defaultdict(list)
    for s in sessions:
        starts[s.driver_id].append(((s.online_at - log.start_at + offset) % DAY_S) / HOUR_S)
        lengths[s.driver_id].append((s.offline_at - s.online_at) / HOUR_S)
    patterns = Counter(
        (
            _half_hour(float(np.median(starts[d]))) % 24,
            min(max(_half_hour(float(np.median(lengths[d]))), 0.5), 24.0),
        )
        for d in starts
    )
    top = patterns.most_common(MAX_SHIFTS)
    total = sum(count for _, count in top)
    shifts = [
        {"start_h": start, "hours": hours, "share": round(count / total, 4)}
        for (start, hours), count in sorted(top)
    ]
    shifts[-1]["share"] = round(1.0 - sum(s["share"] for s in shifts[:-1]), 4)
    what = "driver sessions" if from_shifts else "driver-days of assignments (a lower bound on time on duty)"
    source = log.source(len(sessions), what)
    cars = Estimate(len(starts), f"drivers seen, {source}")
    return FleetFit(
        cars,
        Estimate(shifts, source),
        _on_duty_by_hour(sessions, log),
        orders_by_hour,
    )


def _on_duty_by_hour(sessions: list[DriverSession], log: LogArrays) -> Floats:
    days = max(log.span_s / DAY_S, 1.0)
    edges = log.start_at + np.arange(int(np.ceil(log.span_s / HOUR_S)) + 1) * HOUR_S
    on = np.zeros(len(edges) - 1)
    for s in sessions:
        overlap = np.minimum(edges[1:], s.offline_at) - np.maximum(edges[:-1], s.online_at)
        on += np.clip(overlap, 0, HOUR_S) / HOUR_S
    by_hour = np.bincount(np.arange(len(on)) % 24, weights=on, minlength=24)
    result: Floats = by_hour / days
    return result
