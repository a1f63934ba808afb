"""Scenario loading: bundled names, paths, and one clear line per mistake."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import pytest

from simulator.scenario import (
    ScenarioError,
    bundled_scenarios,
    load_scenario,
    parse_scenario,
    read_scenario_text,
)


def _city_text() -> str:
    return read_scenario_text("city")[0]


def _problems(text: str, source: str = "city.toml") -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, source)
    return caught.value.problems


def test_three_scenarios_are_bundled_and_all_load() -> None:
    """small-town, city and erlang-a ship with the package and validate."""
    assert {"small-town", "city", "erlang-a"} <= set(bundled_scenarios())
    for name in bundled_scenarios():
        assert load_scenario(name).name == name


def test_a_scenario_loads_from_a_path_as_well(tmp_path: Path) -> None:
    """A copied and edited TOML file is loaded by its path."""
    path = tmp_path / "mine.toml"
    path.write_text(_city_text().replace("cars = 260", "cars = 99"), encoding="utf-8")
    assert load_scenario(path).fleet.cars == 99
    assert load_scenario(str(path)).fleet.cars == 99


def test_the_erlang_a_scenario_switches_space_and_churn_off() -> None:
    """One zone of radius 0, unbounded reach and wait, no churn, no retries, no newcomers."""
    scenario = load_scenario("erlang-a")
    assert [zone.radius_m for zone in scenario.city.zones] == [0.0]
    assert math.isinf(scenario.dispatch.pickup_radius_m)
    assert scenario.dispatch.config().max_wait_s is None
    assert scenario.churn.rise_per_failure_per_week == 0.0
    assert scenario.demand.retry_probability == 0.0
    assert scenario.demand.new_customers_per_day == 0.0
    assert scenario.patience.wait.kind == "exponential"


def test_a_bad_value_names_file_key_and_rule() -> None:
    """`cars = 0` reads back as `city.toml: fleet.cars: must be > 0`."""
    problems = _problems(_city_text().replace("cars = 260", "cars = 0"))
    assert problems == ["city.toml: fleet.cars: must be > 0"]


def test_every_mistake_is_reported_not_only_the_first() -> None:
    """Two independent mistakes give two lines."""
    text = _city_text().replace("cars = 260", "cars = -1").replace(
        "retry_probability = 0.5", "retry_probability = 1.5")
    assert _problems(text) == ["city.toml: fleet.cars: must be > 0",
                               "city.toml: demand.retry_probability: must be <= 1"]


def test_list_items_are_located_by_index() -> None:
    """A zone with weight 0 is reported at city.zones[1].weight."""
    text = _city_text().replace("radius_m = 1500.0, weight = 0.20", "radius_m = 1500.0, weight = 0")
    assert _problems(text) == ["city.toml: city.zones[1].weight: must be > 0"]


def test_unknown_keys_are_typos_not_silently_ignored() -> None:
    """A misspelt key is an error, not a default."""
    text = _city_text().replace("cars = 260", "cars = 260\ncras = 3")
    assert _problems(text) == ["city.toml: fleet.cras: unknown key"]


def test_missing_sections_are_reported_as_required() -> None:
    """A scenario without [fleet] says that fleet is required."""
    raw = tomllib.loads(_city_text())
    text = _city_text().split("[fleet]")[0] + "[demand]" + _city_text().split("[demand]")[1]
    assert "fleet" in raw
    assert "city.toml: fleet: is required" in _problems(text)


def test_invalid_toml_names_the_file() -> None:
    """A syntax error says it is one and where it came from."""
    assert _problems("name = ", "broken.toml")[0].startswith("broken.toml: invalid TOML:")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("share = 0.20 }", "share = 0.10 }", "fleet: shift shares must sum to 1, got 0.9"),
    ("0.6, 0.4, 0.3,", "0.6, 0.4,", "demand: hourly_profile needs 24 values, got 23"),
    ("vip_share =", "weekend_profile = [1.0, 2.0]\nvip_share =",
     "demand: weekend_profile needs 24 values, got 2"),
    ("lat = 50.062", "lat = 51.5", "city: zone 'old town' lies outside the bounding box"),
    ('wait = { kind = "lognormal"', 'wait = { kind = "empirical"',
     "patience.wait: an empirical distribution needs samples_min"),
])
def test_cross_field_rules_explain_themselves(old: str, new: str, message: str) -> None:
    """Rules spanning several keys are reported on their section with the reason."""
    assert _problems(_city_text().replace(old, new, 1)) == [f"city.toml: {message}"]


@pytest.mark.parametrize(("value", "message"), [
    ("0.0", "must be > 0"), ("-5.0", "must be > 0"), ("nan", "must be > 0"),
    ('"many"', "Input should be a valid number, unable to parse string as a number"),
])
def test_a_bad_prior_trips_halving_is_refused_by_name(value: str, message: str) -> None:
    """churn.prior_trips_halving must be a number > 0 (inf switches softening off)."""
    text = _city_text().replace("prior_trips_halving = 20.0", f"prior_trips_halving = {value}")
    assert _problems(text) == [f"city.toml: churn.prior_trips_halving: {message}"]


def test_prior_trips_halving_defaults_to_off_and_accepts_inf() -> None:
    """Without the key, or with inf, prior trips do not soften failures (today's model)."""
    without = _city_text().replace("prior_trips_halving = 20.0", "")
    assert parse_scenario(without).churn.prior_trips_halving == math.inf
    text = _city_text().replace("prior_trips_halving = 20.0", "prior_trips_halving = inf")
    assert parse_scenario(text).churn.prior_trips_halving == math.inf


def test_unknown_valuation_parameters_are_refused() -> None:
    """[valuation] keys must be parameters of the valuation model."""
    problems = _problems(_city_text().replace("[valuation]\n", "[valuation]\nk_zero = 0.1\n"))
    assert len(problems) == 1
    assert "unknown valuation parameter" in problems[0]


def test_valuation_overrides_reach_the_model_and_the_cap_follows_dispatch() -> None:
    """[valuation] overrides defaults; max_head_start_s comes from [dispatch] unless set."""
    scenario = parse_scenario(_city_text().replace("[valuation]\n", "[valuation]\nk0 = 0.3\n"))
    params = scenario.valuation_params()
    assert (params.k0, params.max_head_start_s) == (0.3, scenario.dispatch.max_head_start_s)


def test_valuation_softens_as_the_churn_ground_truth() -> None:
    """city and small-town score with k_prior_trips = 1 / [churn] prior_trips_halving."""
    for name in ("city", "small-town"):
        scenario = parse_scenario(read_scenario_text(name)[0])
        halving = scenario.churn.prior_trips_halving
        assert scenario.valuation_params().k_prior_trips == pytest.approx(1.0 / halving)


def test_an_unknown_name_lists_the_bundled_scenarios() -> None:
    """A name that is neither bundled nor a file says what is available."""
    with pytest.raises(ScenarioError, match="bundled: city, erlang-a, small-town"):
        load_scenario("metropolis")


def test_batch_matching_is_a_dispatch_key_with_a_window() -> None:
    """`[dispatch] matching = "batch"` with `batch_window_s` builds a batch-mode DispatchConfig
    through the same builder as the live settings; without the keys matching stays greedy."""
    assert parse_scenario(_city_text()).dispatch.config().matching == "nearest"
    batch = "cell_m = 1000.0\nmatching = \"batch\"\nbatch_window_s = 3.0"
    text = _city_text().replace("cell_m = 1000.0", batch)
    config = parse_scenario(text).dispatch.config()
    assert config.matching == "batch" and config.batch_window_s == 3.0 and config.spatial


@pytest.mark.parametrize(("line", "message"), [
    ('matching = "hungarian"', "dispatch.matching: Input should be 'nearest', 'zone' or 'batch'"),
    ("batch_window_s = 0.0", "dispatch.batch_window_s: must be > 0"),
    ("batch_window_s = inf", "dispatch.batch_window_s: Input should be a finite number"),
])
def test_a_bad_matching_key_is_refused_by_name(line: str, message: str) -> None:
    """An unknown matching mode or an impossible window names the key."""
    text = _city_text().replace("cell_m = 1000.0", f"cell_m = 1000.0\n{line}")
    assert _problems(text) == [f"city.toml: {message}"]
