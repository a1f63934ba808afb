"""Adapter from valuation to the dispatch core's `Scorer` callable.

The core asks `(customer_id, now) -> PriorityScore` on every order and must never
be refused an answer: an unknown id, a withheld number or a failing history store
all fall back to the newcomer score (prior value, first-order floor) so an order
is never blocked by valuation.
"""

from __future__ import annotations

from collections.abc import Callable

from dispatch.model import PriorityScore, Scorer, Tier
from valuation.history import NO_HISTORY, CustomerHistory
from valuation.params import ValuationParams
from valuation.score import CustomerScore, Prepared, assess_prepared, render_reason

HistoryLookup = Callable[[str], CustomerHistory | None]
_TIER_NAMES = {tier: tier.value for tier in Tier}  # `Tier.value` costs two Python calls per read


def to_priority_score(customer_score: CustomerScore) -> PriorityScore:
    return PriorityScore(
        head_start_s=customer_score.head_start_s,
        tier=customer_score.tier,
        reason=customer_score.reason,
        value=customer_score.value,
        value_at_risk=customer_score.value_at_risk,
        leave_rise=customer_score.p_leave_if_failed - customer_score.p_leave_if_served,
        first_order=customer_score.first_order,
    )


def make_scorer(
    lookup: HistoryLookup,
    params: ValuationParams,
    vip_ids: frozenset[str] = frozenset(),
    explain: bool = True,
) -> Scorer:
    """Builds the scorer; `lookup` returns None (or raises) for customers it does not know.

    `explain=False` leaves the operator's reason line out (the reason is the tier's name
    alone) for a caller that shows no operator screen: the simulator, where rendering
    the line was about 2.5% of a `city` run and nothing ever read it. The numbers are
    the same either way.
    """
    prepared = Prepared(params)  # the parts of the score that depend on params alone, once

    def scorer(customer_id: str | None, now: float) -> PriorityScore:
        history: CustomerHistory | None = None
        unavailable = False
        if customer_id is not None:
            try:
                history = lookup(customer_id)
            except Exception:  # the dispatcher must still get an answer; see module doc
                unavailable = True
        h = NO_HISTORY if history is None else history
        vip = customer_id is not None and customer_id in vip_ids
        value, p_now, kappa, at_risk, head, tier, lam = assess_prepared(h, now, vip, prepared)
        reason = render_reason(tier, h, lam, head, now) if explain else _TIER_NAMES[tier]
        if unavailable:
            reason = f"history unavailable; {reason}"
        # leave_rise as `to_priority_score` computes it from a CustomerScore, bit for bit
        leave_rise = (p_now + (1.0 - p_now) * kappa) - p_now
        return PriorityScore(head, tier, reason, value, at_risk, leave_rise, h.completed == 0)

    return scorer
