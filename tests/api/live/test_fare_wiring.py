"""One tariff, two doors: KEEPCAB_FARE_* live and a scenario's [trips] build the same Tariff."""

from __future__ import annotations

from api.settings import Settings
from demo.cli import tariff_environment
from dispatch.tariff import TARIFF_FIELDS, Tariff
from simulator.scenario import Trips, load_scenario


def test_every_tariff_field_is_a_setting_and_a_scenario_key() -> None:
    """Each of TARIFF_FIELDS exists under the same name on both sides."""
    assert set(TARIFF_FIELDS) <= set(Settings.model_fields)
    assert set(TARIFF_FIELDS) <= set(Trips.model_fields)


def test_the_same_values_build_equal_tariffs_live_and_simulated() -> None:
    """A scenario's tariff handed to the server as environment variables is the server's tariff."""
    scenario = load_scenario("small-town")
    trips = scenario.trips.model_copy(update={"fare_per_km": 0.9})
    env = tariff_environment(trips.tariff(), scenario.currency)
    live = Settings(**{key.removeprefix("KEEPCAB_").lower(): value for key, value in env.items()})
    assert live.tariff() == trips.tariff() == Tariff(3.0, 0.9, 0.8)
    assert live.currency == scenario.currency
