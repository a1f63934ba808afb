from __future__ import annotations

import pytest

from dispatch.model import Order, PriorityScore, Tier
from dispatch.policies import HeadsPolicy, ReservePolicy, RetentionPolicy, StaticVipPolicy
from dispatch.policy_params import PolicyContext, PolicyParams, build_policy
from tests.dispatch.helpers import CENTRE

ORDER = Order("o1", "c1", CENTRE, 0.0)
CONTEXT = PolicyContext(max_head_start_s=300.0, vip_customer_ids=frozenset({"c1"}),
                        risk_value_per_s=0.5, first_order_floor_s=120.0, value_per_s=2.0)


def score(var: float, rise: float, *, first: bool = False, tier: Tier = Tier.REGULAR) -> PriorityScore:
    return PriorityScore(min(var / 0.5, 300.0), tier, "t", value=100.0, value_at_risk=var,
                         leave_rise=rise, first_order=first)


def test_heads_blend_runs_from_value_at_risk_to_the_rise_in_leaving() -> None:
    """Blend 0 gives VaR / c seconds, blend 1 rise x scale, 0.5 the mean of the two."""
    rich_loyal, poor_fragile = score(60.0, 0.05), score(5.0, 0.6)
    by_revenue = HeadsPolicy(blend=0.0, value_per_s=0.5)
    by_heads = HeadsPolicy(blend=1.0, scale_s=300.0, value_per_s=0.5)
    assert by_revenue.head_start_s(ORDER, rich_loyal) == 120.0
    assert by_revenue.head_start_s(ORDER, poor_fragile) == 10.0
    assert by_heads.head_start_s(ORDER, rich_loyal) == pytest.approx(15.0)
    assert by_heads.head_start_s(ORDER, poor_fragile) == pytest.approx(180.0)
    half = HeadsPolicy(blend=0.5, scale_s=300.0, value_per_s=0.5)
    assert half.head_start_s(ORDER, poor_fragile) == pytest.approx(95.0)


def test_heads_floor_for_first_orders_cap_for_vips_and_everything_capped() -> None:
    """Newcomers get at least the floor, VIPs the cap, and no head start exceeds the cap."""
    policy = HeadsPolicy(blend=1.0, scale_s=1000.0, first_order_floor_s=90.0, max_head_start_s=200.0)
    assert policy.head_start_s(ORDER, score(0.0, 0.01, first=True)) == 90.0
    assert policy.head_start_s(ORDER, score(0.0, 0.0, tier=Tier.VIP)) == 200.0
    assert policy.head_start_s(ORDER, score(0.0, 0.9)) == 200.0
    with pytest.raises(ValueError, match="blend"):
        HeadsPolicy(blend=1.5)


def test_builder_takes_every_setting_and_falls_back_to_the_scorers_scale() -> None:
    """reserve gets k, threshold and base; heads with None settings takes the scorer's c and floor."""
    params = PolicyParams(reserve_k=4, reserve_min_value_at_risk=22.0, reserve_base="heads",
                          heads_blend=0.25, reserve_waits=False)
    reserve = build_policy("reserve", params, CONTEXT)
    assert isinstance(reserve, ReservePolicy)
    assert (reserve.k, reserve.min_value_at_risk, reserve.waits) == (4, 22.0, False)
    assert reserve.base == HeadsPolicy(blend=0.25, value_per_s=0.5, first_order_floor_s=120.0)
    explicit = build_policy("heads", PolicyParams(heads_value_per_s=3.0, first_order_floor_s=999.0),
                            CONTEXT)
    assert explicit == HeadsPolicy(value_per_s=3.0, first_order_floor_s=300.0)  # floor <= cap
    assert build_policy("static_vip", PolicyParams(vip_head_start_s=60.0), CONTEXT) == \
        StaticVipPolicy(frozenset({"c1"}), 60.0, 300.0)
    assert build_policy("value", PolicyParams(), CONTEXT).head_start_s(ORDER, score(1, 0)) == 50.0


def test_heads_at_blend_zero_ranks_exactly_as_retention() -> None:
    """With the scorer's own c and floor, heads(blend 0) gives every caller retention's head start."""
    retention = RetentionPolicy(max_head_start_s=300.0)
    heads = build_policy("heads", PolicyParams(heads_blend=0.0), CONTEXT)
    for var, first in ((0.0, True), (30.0, False), (500.0, False), (10.0, True)):
        scored = PriorityScore(max(min(var / 0.5, 300.0), 120.0 if first else 0.0), Tier.REGULAR,
                               "t", value_at_risk=var, leave_rise=0.3, first_order=first)
        assert heads.head_start_s(ORDER, scored) == retention.head_start_s(ORDER, scored)


def test_unknown_policy_is_named() -> None:
    """A typo in the name fails with the list of choices."""
    with pytest.raises(ValueError, match="unknown policy 'head'"):
        build_policy("head")
