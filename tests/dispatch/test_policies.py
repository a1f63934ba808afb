from __future__ import annotations

import math

import pytest

from dispatch.model import Order, PriorityScore, Tier
from dispatch.policies import POLICY_NAMES, ReservePolicy, make_policy
from tests.dispatch.helpers import CENTRE

ORDER = Order("o1", "vip-1", CENTRE, 0.0)
RICH = PriorityScore(120.0, Tier.REGULAR, "r", value=900.0, value_at_risk=50.0)


def test_every_named_policy_builds() -> None:
    """make_policy builds each advertised policy with its defaults."""
    for name in POLICY_NAMES:
        assert make_policy(name).name == name


def test_unknown_policy_and_parameter_are_named_in_the_error() -> None:
    """A typo in a policy name or parameter fails with a message naming it."""
    with pytest.raises(ValueError, match="unknown policy 'fifoo'"):
        make_policy("fifoo")
    with pytest.raises(ValueError, match="bad parameters"):
        make_policy("value", per_second=3)


def test_reject_does_not_wait_and_fifo_ignores_history() -> None:
    """reject refuses instead of queueing; fifo gives no head start even to a rich caller."""
    assert make_policy("reject").waits is False
    assert make_policy("fifo").head_start_s(ORDER, RICH) == 0.0


def test_static_vip_only_for_listed_customers() -> None:
    """static_vip gives its fixed head start to listed ids only, capped."""
    policy = make_policy("static_vip", vip_customer_ids=["vip-1"], head_start_s=900)
    assert policy.head_start_s(ORDER, RICH) == 300.0
    stranger = Order("o2", "someone", CENTRE, 0.0)
    assert policy.head_start_s(stranger, RICH) == 0.0


def test_value_policy_scales_value_and_caps() -> None:
    """value turns value into seconds at value_per_s and never exceeds the cap."""
    assert make_policy("value", value_per_s=10.0).head_start_s(ORDER, RICH) == 90.0
    assert make_policy("value", value_per_s=1.0).head_start_s(ORDER, RICH) == 300.0
    with pytest.raises(ValueError):
        make_policy("value", value_per_s=0.0)


def test_retention_clamps_broken_scores() -> None:
    """retention passes the scorer's head start through, clamped to [0, cap]; NaN means 0."""
    policy = make_policy("retention", max_head_start_s=200)
    assert policy.head_start_s(ORDER, RICH) == 120.0
    for bad, expected in ((-5.0, 0.0), (1e9, 200.0), (math.nan, 0.0)):
        score = PriorityScore(bad, Tier.NEW, "x")
        assert policy.head_start_s(ORDER, score) == expected


def test_reserve_keeps_k_cars_for_high_value_callers() -> None:
    """reserve lets anyone take a car while more than k are free, only high value at risk otherwise."""
    policy = make_policy("reserve", k=2, min_value_at_risk=40.0)
    assert isinstance(policy, ReservePolicy)
    modest = PriorityScore(0.0, Tier.OCCASIONAL, "o", value_at_risk=5.0)
    assert policy.may_take_car(modest, 3)
    assert not policy.may_take_car(modest, 2)
    assert policy.may_take_car(RICH, 1)
    with pytest.raises(ValueError):
        make_policy("reserve", k=-1)


def test_reserve_without_waiting_refuses_instead() -> None:
    """reserve(waits=False) is the guard-channel loss system."""
    assert make_policy("reserve", k=1, waits=False).waits is False
