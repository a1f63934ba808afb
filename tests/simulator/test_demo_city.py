"""The demo town: reproducible customers and a past the live server's importer accepts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from api.importer import read_export
from dispatch.geo import haversine_m
from dispatch.model import Position
from simulator.demo_city import Town, write_export
from simulator.scenario import load_scenario

NOW_S = 1_790_000_000.0


def _town(seed: int = 3) -> Town:
    return Town(load_scenario("small-town"), np.random.default_rng(seed))


def test_the_same_seed_makes_the_same_town() -> None:
    """Customers (numbers, names, places) and their past depend only on the seed."""
    first, second = _town().customers(20, 5), _town().customers(20, 5)
    assert first == second
    assert _town(4).customers(20, 5) != first


def test_strangers_have_no_name_and_no_past_and_places_lie_in_the_town() -> None:
    """New callers are unknown to the firm; every place lies in one of the scenario's demand zones."""
    town = _town()
    people = town.customers(30, 10)
    zones = town.scenario.city.zones
    assert [p.kind for p in people[30:]] == ["new"] * 10
    assert all(p.name is None and town.history(p, NOW_S) == [] for p in people[30:])
    for place in (place for person in people for place in person.places):
        assert any(haversine_m(place.position, Position(z.lat, z.lon)) <= z.radius_m + 1 for z in zones)


def test_the_past_reads_as_a_valid_export_with_recent_failures_for_those_at_risk(tmp_path: Path) -> None:
    """`keepcab import orders` accepts every row; callers at risk failed twice in the last days."""
    town = _town()
    people = town.customers(40, 0)
    rows = [row for person in people for row in town.history(person, NOW_S)]
    path = tmp_path / "past.csv"
    assert write_export(path, rows) == len(rows) > 0
    export = read_export(path, "RU", ZoneInfo("UTC"))
    assert export.problems == [] and len(export.rows) == len(rows)
    failures = Counter(row["phone"] for row in rows if row["outcome"] == "no_car")
    at_risk = {p.phone for p in people if p.kind == "at_risk"}
    assert at_risk and set(failures) == at_risk and set(failures.values()) == {2}
    assert all(float(row["requested_at"]) < NOW_S for row in rows)
