"""The demo town: reproducible customers and a past the live server's importer accepts."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import phonenumbers
import pytest

from api.importer import read_export
from api.phones import normalise_phone
from demo.city import Town, write_export
from demo.country import COUNTRIES, country_for
from dispatch.geo import haversine_m
from dispatch.model import Position
from simulator.scenario import load_scenario

NOW_S = 1_790_000_000.0


def _town(seed: int = 3, region: str = "RU") -> Town:
    return Town(load_scenario("small-town"), np.random.default_rng(seed), COUNTRIES[region])


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
        centres = [town.locate(Position(z.lat, z.lon)) for z in zones]
        pairs = zip(centres, zones, strict=True)
        assert any(haversine_m(place.position, c) <= z.radius_m + 1 for c, z in pairs)


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


@pytest.mark.parametrize("region", sorted(COUNTRIES))
def test_numbers_streets_and_places_belong_to_one_country(region: str) -> None:
    """Every caller's number is valid in KEEPCAB_PHONE_REGION, every street is that country's,
    and the town lies in its city (the scenario's layout kept to scale in metres)."""
    town = _town(region=region)
    country = COUNTRIES[region]
    people = town.customers(30, 10)
    for person in people:
        number = normalise_phone(person.phone, region)
        assert number.e164 is not None, person.phone
        assert phonenumbers.region_code_for_number(phonenumbers.parse(number.e164)) == region
    places = [place for person in people for place in person.places]
    assert {place.text.rsplit(" ", 1)[0] for place in places} <= set(country.streets)
    assert max(haversine_m(place.position, country.centre) for place in places) < 8_000
    assert normalise_phone(country.line, region).e164 is not None


@pytest.mark.parametrize("region", sorted(COUNTRIES))
def test_the_airport_is_beyond_the_pickup_radius_of_every_place_a_car_can_be(region: str) -> None:
    """Cars wait at the rank and drop off at town places: none is ever within the dispatcher's
    radius of the airport, so only an operator can send a car there (the demo test counts on it)."""
    town = _town(region=region)
    radius_m = town.scenario.dispatch.pickup_radius_m
    spots = [town.rank, *(town.place().position for _ in range(5_000))]
    nearest_m = min(haversine_m(town.airport.position, spot) for spot in spots)
    assert nearest_m > 2 * radius_m


def test_a_region_without_a_demo_town_is_refused_by_name() -> None:
    """The error names the setting's value and the towns there are."""
    with pytest.raises(ValueError, match=r"KEEPCAB_PHONE_REGION='XX'.*PL, RU"):
        country_for("XX")
