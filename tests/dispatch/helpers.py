"""Builders shared by the dispatch tests: a small city and terse command makers."""

from __future__ import annotations

from dispatch.commands import PlaceOrder
from dispatch.model import Order, Position, PriorityScore, Tier

CENTRE = Position(55.75, 37.62)


def at_km(north_km: float, east_km: float) -> Position:
    """A point north/east of CENTRE by roughly the given kilometres."""
    return Position(CENTRE.lat + north_km / 111.2, CENTRE.lon + east_km / (111.2 * 0.5628))


def order(
    order_id: str,
    requested_at: float = 0.0,
    where: Position = CENTRE,
    customer_id: str | None = None,
    pickup_at: float | None = None,
) -> PlaceOrder:
    return PlaceOrder(Order(order_id, customer_id, where, requested_at, pickup_at))


def table_scorer(head_starts: dict[str, float], value_at_risk: dict[str, float] | None = None):
    """A scorer reading fixed head starts per customer; unknown customers get zero."""
    risks = value_at_risk or {}

    def scorer(customer_id: str | None, now: float) -> PriorityScore:
        head = head_starts.get(customer_id or "", 0.0)
        tier = Tier.REGULAR if head else Tier.NEW
        return PriorityScore(head, tier, f"test {head:.0f}s", head, risks.get(customer_id or "", 0.0))

    return scorer
