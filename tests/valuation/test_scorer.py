"""make_scorer: the dispatch core always gets an answer, for any id, at any time."""

from __future__ import annotations

from dispatch.model import FailureCause, PriorityScore, Tier
from valuation.history import CustomerHistory, new_history, record_completed, record_failed
from valuation.params import DEFAULT_PARAMS, WEEK_S
from valuation.score import score
from valuation.scorer import make_scorer


def _store() -> dict[str, CustomerHistory]:
    regular = new_history()
    for i in range(20):
        regular = record_completed(regular, i * WEEK_S / 2, 18.0)
    return {"+15550001": regular,
            "+15550002": record_failed(regular, 10 * WEEK_S, FailureCause.NO_CAR)}


def test_known_customer_gets_their_own_score() -> None:
    """The PriorityScore carries the valuation score's head start, tier, reason and values."""
    store = _store()
    scorer = make_scorer(store.get, DEFAULT_PARAMS)
    now = 10 * WEEK_S + 60
    expected = score(store["+15550002"], now, DEFAULT_PARAMS)
    result = scorer("+15550002", now)
    assert isinstance(result, PriorityScore)
    assert (result.head_start_s, result.tier, result.reason, result.value,
            result.value_at_risk) == (expected.head_start_s, expected.tier, expected.reason,
                                      expected.value, expected.value_at_risk)
    assert result.tier is Tier.AT_RISK


def test_unknown_and_withheld_callers_get_the_newcomer_score() -> None:
    """An id the store lacks and a withheld number (None) both get the prior with the floor."""
    scorer = make_scorer(_store().get, DEFAULT_PARAMS)
    for caller in ("+15559999", None):
        result = scorer(caller, 1e9)
        assert result.tier is Tier.NEW
        assert result.head_start_s >= DEFAULT_PARAMS.first_order_floor_s


def test_failing_store_falls_back_and_says_so() -> None:
    """A lookup that raises never blocks an order: newcomer score, reason flags the outage."""

    def broken(customer_id: str) -> CustomerHistory | None:
        raise KeyError(customer_id)

    result = make_scorer(broken, DEFAULT_PARAMS)("+15550001", 0.0)
    assert result.tier is Tier.NEW and result.reason.startswith("history unavailable; new:")


def test_vip_list_gives_vip_tier_and_cap() -> None:
    """Only ids on the static list are VIP, and they get the full head start."""
    scorer = make_scorer(_store().get, DEFAULT_PARAMS, vip_ids=frozenset({"+15550001"}))
    vip, other = scorer("+15550001", 11 * WEEK_S), scorer("+15559999", 11 * WEEK_S)
    assert vip.tier is Tier.VIP and vip.head_start_s == DEFAULT_PARAMS.max_head_start_s
    assert other.tier is Tier.NEW
    assert scorer(None, 0.0).tier is Tier.NEW


def test_without_explanations_the_numbers_are_the_same_and_the_reason_is_the_tier() -> None:
    """explain=False (the simulator's scorer) changes the reason line only."""
    store = _store()
    full = make_scorer(store.get, DEFAULT_PARAMS)
    bare = make_scorer(store.get, DEFAULT_PARAMS, explain=False)
    for caller in ("+15550001", "+15550002", "+15559999", None):
        now = 10 * WEEK_S + 60
        explained, plain = full(caller, now), bare(caller, now)
        assert plain.reason == plain.tier.value
        assert explained.reason != plain.reason
        assert (plain.head_start_s, plain.tier, plain.value, plain.value_at_risk, plain.leave_rise,
                plain.first_order) == (explained.head_start_s, explained.tier, explained.value,
                                       explained.value_at_risk, explained.leave_rise,
                                       explained.first_order)
