"""Scenario keys changed for a study: parsed from the command line, validated like the file."""

from __future__ import annotations

import pytest

from simulator.overrides import parse_vary, split_values, with_overrides
from simulator.scenario import ScenarioError, load_scenario


def test_vary_reads_toml_values_and_keeps_lists_whole() -> None:
    """Numbers, strings and inline lists come back typed; commas inside brackets do not split."""
    assert parse_vary("fleet.cars=200,240") == ("fleet.cars", [200, 240])
    assert parse_vary("dispatch.matching=zone,nearest") == ("dispatch.matching", ["zone", "nearest"])
    assert split_values("[1, 2],[3, 4]") == ["[1, 2]", "[3, 4]"]
    with pytest.raises(ValueError, match="KEY=V1,V2"):
        parse_vary("fleet.cars")
    with pytest.raises(ValueError, match="not a scenario key"):
        parse_vary("fleet..cars=1")


def test_overrides_reach_nested_keys_and_list_items_and_are_validated() -> None:
    """A dotted key or list item changes exactly that value; a bad one is named."""
    town = load_scenario("small-town")
    changed = with_overrides(town, {"fleet.cars": 12, "fleet.shifts[0].hours": 9.0,
                                    "heads_blend": 0.25, "dispatch.max_head_start_s": 600})
    assert changed.fleet.cars == 12 and changed.fleet.shifts[0].hours == 9.0
    assert changed.policies.heads_blend == 0.25 and changed.dispatch.max_head_start_s == 600
    assert changed.valuation_params().max_head_start_s == 600
    assert town.fleet.cars != 12
    with pytest.raises(ScenarioError, match=r"fleet\.cars: must be > 0"):
        with_overrides(town, {"fleet.cars": 0})
    with pytest.raises(ScenarioError, match=r"fleet\.wheels: unknown key"):
        with_overrides(town, {"fleet.wheels": 4})
    with pytest.raises(ScenarioError, match=r"shifts\[9\].hours: no such scenario key"):
        with_overrides(town, {"fleet.shifts[9].hours": 4})
