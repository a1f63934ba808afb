"""The demo's customers and their past: who calls, from where, and what happened to them before.

The live server learns the past the way a real firm's would, from an order
export (`keepcab import orders`), so the first calls of the demo already show
regulars, occasional callers, callers at risk of leaving after recent
failures, and strangers. Places come from the scenario's demand zones
(`simulator.sampling.PlaceSampler`), so the demo town looks like the
simulated one.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from demo.country import Country, mobile_number, moved
from dispatch.model import Position
from simulator.sampling import DAY_S, PlaceSampler
from simulator.scenario import Scenario

WEEK_S = 7 * DAY_S
# Share of the demo's known customers by kind of past (new callers are not in the export).
KINDS = (("regular", 0.35), ("occasional", 0.4), ("at_risk", 0.25))


@dataclass(frozen=True, slots=True)
class Place:
    text: str
    position: Position


@dataclass(frozen=True, slots=True)
class DemoCustomer:
    phone: str
    name: str | None
    places: tuple[Place, ...]
    kind: str  # regular, occasional, at_risk or new: how their past was made


class Town:
    """Random places, customers and their histories, from one seeded generator."""

    def __init__(self, scenario: Scenario, rng: np.random.Generator, country: Country) -> None:
        self.scenario, self.rng, self.country = scenario, rng, country
        self._places = PlaceSampler(scenario.city.zones, rng)
        city = scenario.city
        self.origin = Position((city.south + city.north) / 2, (city.west + city.east) / 2)
        # Free cars wait at the rank (the station's zone if the scenario has one), as taxis do; an
        # order beyond the dispatcher's pickup radius from it waits until an operator sends a car.
        zone = next((z for z in city.zones if z.name == "station"), city.zones[0])
        self.rank = self.locate(Position(zone.lat, zone.lon))
        self.airport = Place(country.airport, country.airport_at)

    def locate(self, position: Position) -> Position:
        """A point of the scenario's town, laid on the country's city."""
        return moved(position, self.origin, self.country.centre)

    def place(self) -> Place:
        position = self.locate(self._places.sample())
        streets = self.country.streets
        street = streets[int(self.rng.integers(len(streets)))]
        return Place(f"{street} {int(self.rng.integers(1, 90))}", position)

    def phone(self) -> str:
        return mobile_number(self.country, self.rng)

    def customers(self, known: int, strangers: int) -> list[DemoCustomer]:
        kinds = [kind for kind, _ in KINDS]
        shares = np.array([share for _, share in KINDS])
        people = []
        for index in range(known + strangers):
            kind = "new" if index >= known else kinds[int(self.rng.choice(len(kinds), p=shares))]
            name = None
            if kind != "new":
                names = self.country.first_names
                name = f"{names[index % len(names)]} {names[(7 * index + 3) % len(names)][0]}."
            places = tuple(self.place() for _ in range(1 + int(self.rng.integers(3))))
            people.append(DemoCustomer(self.phone(), name, places, kind))
        return people

    def history(self, customer: DemoCustomer, now_s: float) -> list[dict[str, str]]:
        """Past orders of one customer as export rows (newest last)."""
        per_week = {"regular": 1.5, "occasional": 0.15, "at_risk": 1.0}.get(customer.kind, 0.0)
        if per_week == 0.0:
            return []
        weeks = 52.0
        count = max(1, int(self.rng.poisson(per_week * weeks)))
        times = np.sort(now_s - self.rng.uniform(2 * DAY_S, weeks * WEEK_S, size=count))
        rows = [self._row(customer, float(at), "completed") for at in times]
        if customer.kind == "at_risk":  # two recent failures: the chance of leaving is up
            for days_ago in (9.0, 3.0):
                rows.append(self._row(customer, now_s - days_ago * DAY_S, "no_car"))
        return rows

    def _row(self, customer: DemoCustomer, at: float, outcome: str) -> dict[str, str]:
        place = customer.places[min(int(self.rng.geometric(0.6)) - 1, len(customer.places) - 1)]
        minutes = float(self.rng.lognormal(math.log(12.0), 0.4))
        trips = self.scenario.trips
        fare = trips.fare_base + trips.fare_per_min * minutes if outcome == "completed" else 0.0
        return {
            "phone": customer.phone,
            "requested_at": f"{at:.0f}",
            "outcome": outcome,
            "fare": f"{fare:.2f}" if outcome == "completed" else "",
            "pickup_address": place.text,
            "pickup_lat": f"{place.position.lat:.6f}",
            "pickup_lon": f"{place.position.lon:.6f}",
            "name": customer.name or "",
        }


def write_export(path: Path, rows: list[dict[str, str]]) -> int:
    """The customers' past as the CSV `keepcab import orders` reads."""
    columns = [
        "phone",
        "requested_at",
        "outcome",
        "fare",
        "pickup_address",
        "pickup_lat",
        "pickup_lon",
        "name",
    ]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)
