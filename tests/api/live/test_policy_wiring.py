"""The live server and the simulator build the same policy from the same settings (issue 10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.live.writer import WriterSetup
from api.settings import Settings
from dispatch.policies import HeadsPolicy, ReservePolicy
from dispatch.policy_params import POLICY_PARAM_FIELDS
from simulator.api import with_policy_params
from simulator.scenario import Policies, load_scenario
from simulator.setup import build_setup, policy_and_scorer

SETTINGS = {"reserve_k": 4, "reserve_min_value_at_risk": 22.5, "reserve_base": "heads",
            "reserve_waits": False, "heads_blend": 0.3, "heads_scale_s": 420.0,
            "first_order_floor_s": 75.0, "vip_head_start_s": 120.0, "value_per_s": 0.02}


@pytest.mark.parametrize("name", ["reserve", "heads", "static_vip", "value", "retention"])
def test_same_settings_build_equal_policies_live_and_simulated(
        name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """KEEPCAB_* variables and [policies] keys with the same values give equal policies."""
    scenario = load_scenario("small-town")
    scenario = scenario.model_copy(update={"valuation": {**scenario.valuation, "value_per_s": 0.2}})
    setup = build_setup(with_policy_params(scenario, SETTINGS))
    simulated, _ = policy_and_scorer(setup, name)
    vips = sorted(c.customer_id for c in setup.customers if c.vip)
    params_file = tmp_path / "valuation.json"
    params_file.write_text(setup.scenario.valuation_params().to_json(), encoding="utf-8")
    for key, value in {**SETTINGS, "policy": name, "valuation_params_path": str(params_file),
                       "max_head_start_s": scenario.dispatch.max_head_start_s,
                       "vip_customer_ids": '["' + '","'.join(vips) + '"]'}.items():
        monkeypatch.setenv(f"KEEPCAB_{key.upper()}", str(value))
    live = WriterSetup.from_settings(Settings(_env_file=None)).make_policy()  # type: ignore[call-arg]
    assert live == simulated
    if name == "reserve":
        assert isinstance(live, ReservePolicy) and live.k == 4 and live.min_value_at_risk == 22.5
        assert live.base == HeadsPolicy(0.3, 420.0, 0.2, 75.0, 300.0)


def test_every_policy_parameter_is_a_setting_and_a_scenario_key() -> None:
    """No policy parameter exists in one shell only."""
    assert set(POLICY_PARAM_FIELDS) <= set(Settings.model_fields)
    assert set(POLICY_PARAM_FIELDS) <= set(Policies.model_fields)
