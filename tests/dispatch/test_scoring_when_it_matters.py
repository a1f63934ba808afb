"""An order is scored only where its score can change a decision (`Dispatcher._admit`).

While the policy admits every caller at the current supply, a call a free car can
take at once is served without asking the scorer; an order that waits, is refused,
or meets a reservation threshold is scored exactly once, before the decision.
"""

from __future__ import annotations

import math

import pytest

from dispatch.commands import DriverOnline, Tick
from dispatch.config import DispatchConfig
from dispatch.decisions import OrderAssigned, OrderQueued, OrderRejected
from dispatch.engine import Dispatcher
from dispatch.model import PriorityScore, Tier
from dispatch.policies import POLICY_NAMES, make_policy
from dispatch.state import UNSCORED
from tests.dispatch.helpers import CENTRE, at_km, order

CONFIG = DispatchConfig(pickup_radius_m=3000, max_wait_s=600)


class CountingScorer:
    """A scorer that remembers whom it was asked about; value at risk by customer."""

    def __init__(self, value_at_risk: dict[str, float] | None = None) -> None:
        self.asked: list[tuple[str | None, float]] = []
        self._risk = value_at_risk or {}

    def __call__(self, customer_id: str | None, now: float) -> PriorityScore:
        self.asked.append((customer_id, now))
        risk = self._risk.get(customer_id or "", 0.0)
        return PriorityScore(60.0, Tier.REGULAR, f"scored {customer_id}", 10.0, risk, 0.1, False)


@pytest.mark.parametrize("policy", ["fifo", "retention", "value", "heads", "static_vip"])
def test_a_call_a_free_car_takes_at_once_is_not_scored(policy: str) -> None:
    scorer = CountingScorer()
    d = Dispatcher(make_policy(policy), scorer, CONFIG)
    d.handle(DriverOnline("car", at_km(1, 0)), 0)
    decisions = d.handle(order("o1", 5, CENTRE, "c1"), 5)
    assert isinstance(decisions[0], OrderAssigned) and decisions[0].driver_id == "car"
    assert scorer.asked == []
    view = d.order_view("o1")
    assert view.score is UNSCORED and view.score.reason == "not scored"
    assert view.head_start_s == 0.0


def test_an_order_that_waits_is_scored_once_before_it_queues() -> None:
    scorer = CountingScorer()
    d = Dispatcher(make_policy("retention"), scorer, CONFIG)
    (queued,) = d.handle(order("o1", 5, CENTRE, "c1"), 5)
    assert isinstance(queued, OrderQueued)
    assert scorer.asked == [("c1", 5)]
    assert queued.score.reason == "scored c1" and queued.head_start_s == 60.0
    d.handle(DriverOnline("car", CENTRE), 9)
    assert scorer.asked == [("c1", 5)], "a queued order is not scored again when served"


def test_an_order_no_car_can_reach_is_scored_though_cars_are_free() -> None:
    scorer = CountingScorer()
    d = Dispatcher(make_policy("retention"), scorer, CONFIG)
    d.handle(DriverOnline("far", at_km(20, 0)), 0)
    (queued,) = d.handle(order("o1", 5, CENTRE, "c1"), 5)
    assert isinstance(queued, OrderQueued) and queued.head_start_s == 60.0
    assert scorer.asked == [("c1", 5)]


def test_a_refused_order_carries_its_score() -> None:
    scorer = CountingScorer()
    d = Dispatcher(make_policy("reject"), scorer, CONFIG)
    (rejected,) = d.handle(order("o1", 5, CENTRE, "c1"), 5)
    assert isinstance(rejected, OrderRejected) and rejected.score.reason == "scored c1"
    assert scorer.asked == [("c1", 5)]


def test_reserve_scores_a_call_at_its_threshold_and_not_above_it() -> None:
    scorer = CountingScorer({"loyal": 100.0})
    d = Dispatcher(make_policy("reserve", k=1, min_value_at_risk=50.0), scorer, CONFIG)
    d.handle(DriverOnline("a", CENTRE), 0)
    d.handle(DriverOnline("b", at_km(1, 0)), 0)
    decisions = d.handle(order("above", 1, CENTRE, "casual"), 1)
    assert isinstance(decisions[0], OrderAssigned), "two free cars: above k, anyone may take one"
    assert scorer.asked == []
    (queued,) = d.handle(order("at", 2, CENTRE, "casual"), 2)
    assert isinstance(queued, OrderQueued), "one free car left: the reserve"
    decisions = d.handle(order("loyal", 3, CENTRE, "loyal"), 3)
    assert isinstance(decisions[0], OrderAssigned) and decisions[0].order_id == "loyal"
    assert scorer.asked == [("casual", 2), ("loyal", 3)]


def test_batch_mode_scores_every_order_it_collects() -> None:
    scorer = CountingScorer()
    config = DispatchConfig(pickup_radius_m=3000, max_wait_s=600, batch_window_s=10.0)
    d = Dispatcher(make_policy("retention"), scorer, config)
    d.handle(DriverOnline("car", CENTRE), 0)
    (queued,) = d.handle(order("o1", 1, CENTRE, "c1"), 1)
    assert isinstance(queued, OrderQueued) and scorer.asked == [("c1", 1)]
    assigned = [x for x in d.handle(Tick(), 11) if isinstance(x, OrderAssigned)]
    assert [x.order_id for x in assigned] == ["o1"]


SCORES = [
    PriorityScore(0.0, Tier.NEW, "nobody"),
    PriorityScore(300.0, Tier.VIP, "vip", 1e6, 1e6, 1.0, False),
    PriorityScore(0.0, Tier.AT_RISK, "nan", math.nan, math.nan, math.nan, True),
    PriorityScore(0.0, Tier.OCCASIONAL, "negative", -5.0, -5.0, -0.1, False),
]


@pytest.mark.parametrize("name", POLICY_NAMES)
def test_every_policy_admits_everyone_above_its_supply_threshold(name: str) -> None:
    """What the engine relies on to serve an order unscored (`dispatch.policies`)."""
    policy = make_policy(name)
    threshold = policy.supply_threshold
    lowest = 1 if threshold is None else threshold + 1
    for free_cars in range(lowest, lowest + 5):
        assert all(policy.may_take_car(score, free_cars) for score in SCORES), (name, free_cars)
