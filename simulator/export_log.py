"""`keepcab simulate --export-log DIR`: a simulated firm's order log in the import format.

The loop of DESIGN.md (log -> calibrate -> scenario -> simulate) is only
testable end to end if the simulator writes the same log a firm would hand
over: `orders.csv` in the extended `keepcab import orders` format (docs/
calibrate.md) and `drivers.csv` with the cars' times on duty. Every order
from time 0 is written, warm-up included, because a firm's log has no
warm-up, and before it the trips each initial customer completed before time 0
(their history; those rows carry no car times). Times are local wall-clock times from `EPOCH` (a Monday, so
weekdays come out right); customers appear as pseudonyms `u<index>` with a
fictitious number built from the index.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

from dispatch.decisions import DriverStatusChanged
from simulator.kernel import RandomStreams
from simulator.metrics import ABANDONED, COMPLETED, REFUSED_BY_POLICY
from simulator.model import Model
from simulator.population import seed_past_trips
from simulator.runner import replication_seeds
from simulator.sampling import PlaceSampler
from simulator.scenario import Scenario
from simulator.setup import STREAMS, Setup, build_dispatcher, build_setup
from simulator.trip import Trip

EPOCH = datetime(2026, 1, 5)  # a Monday, naive: the firm's local time
ORDER_COLUMNS = (
    "external_id",
    "phone",
    "customer_id",
    "requested_at",
    "outcome",
    "fare",
    "pickup_lat",
    "pickup_lon",
    "dropoff_lat",
    "dropoff_lon",
    "assigned_at",
    "picked_up_at",
    "ended_at",
    "driver_id",
)
DRIVER_COLUMNS = ("driver_id", "online_at", "offline_at")
_CSV_OUTCOME = {COMPLETED: "completed", ABANDONED: "abandoned", REFUSED_BY_POLICY: "rejected_by_policy"}


def wall_clock(at_s: float) -> str:
    return "" if math.isnan(at_s) else (EPOCH + timedelta(seconds=at_s)).isoformat(timespec="milliseconds")


class LoggingModel(Model):
    """The model, keeping one export row per order and one row per time on duty."""

    def __init__(self, setup: Setup, policy: str) -> None:
        super().__init__(setup, build_dispatcher(setup, policy))
        self.log_rows: list[tuple[str, ...]] = []
        self.sessions: list[tuple[str, float, float]] = []
        self._since: dict[str, float] = {}

    def record_history(self, seed: int) -> None:
        """The trips every initial customer completed before time 0, as the firm's older rows.

        They are the same trips the run seeded (the history stream drawn again from the
        same seed); their places and fares come from a stream of their own, so writing
        them changes nothing in the run.
        """
        demand = self.s.scenario.demand
        initial = self.s.customers[: demand.customers]
        past = seed_past_trips(initial, demand.history_weeks, RandomStreams(seed, STREAMS)["history"])
        extra = np.random.default_rng([seed, 20_260_105])
        places = PlaceSampler(self.s.scenario.city.zones, extra)
        trips = self.s.scenario.trips
        minutes = extra.exponential(trips.duration.mean_min, len(past.times))
        for index, (owner, at) in enumerate(zip(past.owners.tolist(), past.times.tolist(), strict=True)):
            place = places.sample()
            fare = trips.fare_base + trips.fare_per_min * float(minutes[index])
            self.log_rows.append(
                (
                    f"h{index}",
                    f"+7912{owner:07d}",
                    f"u{owner}",
                    wall_clock(at),
                    "completed",
                    f"{fare:.2f}",
                    f"{place.lat:.6f}",
                    f"{place.lon:.6f}",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                )
            )

    def _row(self, trip: Trip, outcome: str, assigned_at: float, pickup_wait_s: float, fare: float) -> None:
        now, order = self.kernel.now, trip.order
        completed = outcome == COMPLETED
        dropoff = order.dropoff or order.pickup
        self.log_rows.append(
            (
                order.order_id,
                f"+7912{trip.customer.index:07d}",
                trip.customer.customer_id,
                wall_clock(order.requested_at),
                _CSV_OUTCOME.get(outcome, "no_car"),
                f"{fare:.2f}" if completed else "",
                f"{order.pickup.lat:.6f}",
                f"{order.pickup.lon:.6f}",
                f"{dropoff.lat:.6f}",
                f"{dropoff.lon:.6f}",
                wall_clock(trip.assigned_at),
                wall_clock(trip.picked_up_at),
                wall_clock(now),
                trip.driver_id,
            )
        )
        super()._row(trip, outcome, assigned_at, pickup_wait_s, fare)

    def _shift_starts(self, car_id: str) -> None:
        super()._shift_starts(car_id)
        if car_id not in self._since and self.s.cars.is_online(car_id):
            self._since[car_id] = self.kernel.now

    def _go_offline(self, car_id: str, now: float) -> None:
        super()._go_offline(car_id, now)
        self._close(car_id, now)

    def _status_changed(self, decision: DriverStatusChanged, now: float) -> None:
        super()._status_changed(decision, now)
        for car_id in [car for car in self._since if not self.s.cars.is_online(car)]:
            self._close(car_id, now)

    def _close(self, car_id: str, now: float) -> None:
        since = self._since.pop(car_id, None)
        if since is not None and now > since:
            self.sessions.append((car_id, since, now))

    def finish(self) -> None:
        """Times on duty still open at the end of the run end there."""
        for car_id in list(self._since):
            self._close(car_id, self.s.window.end_at)


def simulate_log(scenario: Scenario, policy: str, seed: int) -> LoggingModel:
    model = LoggingModel(build_setup(scenario, seed), policy)
    model.record_history(seed)
    model.run()
    model.finish()
    return model


def _requested_at(row: Sequence[str]) -> str:
    return row[3]


def write_log(model: LoggingModel, directory: Path) -> list[Path]:
    sessions = sorted(model.sessions, key=lambda s: (s[1], s[0]))
    return write_log_files(directory, sorted(model.log_rows, key=_requested_at), sessions)


def write_log_files(
    directory: Path,
    order_rows: Iterable[Sequence[str]],
    sessions: Iterable[tuple[str, float, float]],
) -> list[Path]:
    """`orders.csv` (rows in `ORDER_COLUMNS` order) and `drivers.csv` (car, on and off in
    seconds since `EPOCH`): the one writer of the format, for the simulator and the benches."""
    directory.mkdir(parents=True, exist_ok=True)
    orders, drivers = directory / "orders.csv", directory / "drivers.csv"
    with orders.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(ORDER_COLUMNS)
        writer.writerows(order_rows)
    with drivers.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(DRIVER_COLUMNS)
        writer.writerows((car, wall_clock(on), wall_clock(off)) for car, on, off in sessions)
    return [orders, drivers]


def export_logs(
    scenario: Scenario, policies: list[str], directory: Path, seed: int | None = None
) -> list[Path]:
    """One replication of each policy (replication 1's seed, as `simulate` runs it), in
    DIR/<policy>/; with one policy, straight into DIR."""
    first_seed = replication_seeds(scenario.seed if seed is None else seed, 1)[0]
    written: list[Path] = []
    for policy in policies:
        target = directory if len(policies) == 1 else directory / policy
        written += write_log(simulate_log(scenario, policy, first_seed), target)
    return written


__all__ = [
    "EPOCH",
    "ORDER_COLUMNS",
    "LoggingModel",
    "export_logs",
    "simulate_log",
    "write_log",
    "write_log_files",
]
