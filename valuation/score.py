"""Value, retention risk and head start of a caller at the moment they call.

The caller is ordering, so they are alive by definition and the BG/NBD closed
forms simplify (weeks as the unit, x = decayed repeat orders, age = decayed tenure):

    lam   = (r + x) / (alpha + age)              expected orders per week
    p     = a / (a + b + x)                      chance of leaving after an ordinary order
                                                 (after this one: 0 if it is the first,
                                                 as BG/NBD has no dropout after it)
    fare  = Gamma-Gamma shrinkage of the mean fare toward the population mean
    V     = fare * (1 - exp(-lam * p * tau)) / p expected value over the horizon tau
    kappa = 1 - exp(-k0 * (1 + k1 * phi) / (1 + k_prior_trips * completed)
                    - k_new * [no completed trip])  extra leaving if this order fails;
                                                 prior trips soften it (0 = off)
    VaR   = V * (1 - p_now) * kappa              value lost if this order fails
    head  = min(cap, VaR / c), at least the first-order floor for newcomers, cap for VIPs

Ranking by VaR rather than V follows Aflaki & Popescu (2014): serve first the caller
whose failure costs the most future value. None of this is ever shown to a customer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from numpy.typing import NDArray

from dispatch.model import Tier
from dispatch.values import record
from valuation.history import NO_HISTORY, CustomerHistory, HistoryArrays
from valuation.params import WEEK_S, ValuationParams, failure_hazard

TIER_ORDER: tuple[Tier, ...] = (Tier.NEW, Tier.OCCASIONAL, Tier.REGULAR, Tier.AT_RISK, Tier.VIP)
"""Index = tier code in `ScoreArrays.tier_code`."""
_CODE = {tier: code for code, tier in enumerate(TIER_ORDER)}
_NEW, _OCCASIONAL, _REGULAR, _AT_RISK, _VIP = TIER_ORDER  # bound once: an enum lookup is slow
WEEKS_PER_MONTH = 365.25 / 12 / 7
LN2 = math.log(2.0)
_expm1 = math.expm1  # one global lookup, not a module's attribute, per call
F = TypeVar("F", float, NDArray[np.float64])


@record
class CustomerScore:
    value: float
    p_leave_if_served: float
    p_leave_if_failed: float
    value_at_risk: float
    head_start_s: float
    tier: Tier
    reason: str
    orders_per_week: float = 0.0
    first_order: bool = False


@dataclass(frozen=True, slots=True)
class ScoreArrays:
    value: NDArray[np.float64]
    p_leave_if_served: NDArray[np.float64]
    p_leave_if_failed: NDArray[np.float64]
    value_at_risk: NDArray[np.float64]
    head_start_s: NDArray[np.float64]
    tier_code: NDArray[np.int8]
    orders_per_week: NDArray[np.float64]

    def tier(self, index: int) -> Tier:
        return TIER_ORDER[int(self.tier_code[index])]


def score(
    history: CustomerHistory | None, now_s: float, params: ValuationParams, vip: bool = False
) -> CustomerScore:
    """Scores one caller; None (never seen, or a withheld number) gets the population prior."""
    h = history if history is not None else NO_HISTORY
    value, p_now, kappa, at_risk, head, tier, lam = assess(h, now_s, params, vip)
    return CustomerScore(
        value=value,
        p_leave_if_served=p_now,
        p_leave_if_failed=p_now + (1.0 - p_now) * kappa,
        value_at_risk=at_risk,
        head_start_s=head,
        tier=tier,
        reason=render_reason(tier, h, lam, head, now_s),
        orders_per_week=lam,
        first_order=h.completed == 0,
    )


Assessment = tuple[float, float, float, float, float, Tier, float]
"""(value, p_now, kappa, value at risk, head start, tier, orders per week) of one caller."""


def assess(h: CustomerHistory, now_s: float, params: ValuationParams, vip: bool) -> Assessment:
    """The numbers behind `score`, as a tuple: the dispatcher's scorer builds its own value
    from them (`valuation.scorer`), so scoring a call builds one object, not two."""
    return assess_prepared(h, now_s, vip, Prepared(params))


class Prepared:
    """The parts of `assess` that depend on params alone, worked out once per params: the
    dispatcher's scorer asks on every call (each is the same operation on the same
    operands as in the formula, so the same double)."""

    __slots__ = ("a_plus_b", "floor_s", "params", "rate")

    def __init__(self, params: ValuationParams) -> None:
        self.params = params
        self.rate = LN2 / params.value_half_life_weeks
        self.a_plus_b = params.a + params.b  # p's denominator a + b + x adds left to right
        self.floor_s = params.effective_floor_s


def assess_prepared(h: CustomerHistory, now_s: float, vip: bool, prepared: Prepared) -> Assessment:
    """`assess` in one body: the head start and tier are inlined, and `max(d, 0.0)` /
    `min(cap, d)` are written as the conditionals the builtins evaluate (same result, NaN
    and -0.0 included): a Python call costs as much as several lines of the arithmetic."""
    params, rate = prepared.params, prepared.rate
    since_s = now_s - h.last_event_at
    since_event_w = (0.0 if since_s < 0.0 else since_s) / WEEK_S
    long_decay = 2.0 ** (-since_event_w / params.value_half_life_weeks)
    short_decay = 2.0 ** (-since_event_w / params.failure_half_life_weeks)
    x = h.repeat_orders * long_decay
    seen = h.orders > 0
    tenure_s = now_s - h.first_seen_at
    tenure_w = (0.0 if tenure_s < 0.0 else tenure_s) / WEEK_S if seen else 0.0
    age = -_expm1(-rate * tenure_w) / rate
    fare = _expected_fare(h.fare_sum * long_decay, h.fare_count * long_decay, params)
    lam = (params.r + x) / (params.alpha + age)
    p = params.a / (prepared.a_plus_b + x)
    p_now = p if seen else 0.0  # BG/NBD: nobody leaves right after a first order
    trips = lam * params.horizon_weeks
    exposure = trips * p
    survival = -_expm1(-exposure) / exposure if exposure > 0 else 1.0
    value = fare * trips * survival
    phi = h.phi * short_decay
    completed = h.completed
    hazard = failure_hazard(phi, completed, params.k0, params.k1, params.k_new, params.k_prior_trips)
    kappa = -_expm1(-hazard)
    at_risk = value * (1.0 - p_now) * kappa
    cap = params.max_head_start_s
    if vip:  # VaR in seconds, capped; newcomers get at least the floor, VIPs the cap
        return value, p_now, kappa, at_risk, cap, _VIP, lam
    head = at_risk / params.value_per_s
    head = head if head < cap else cap
    if completed == 0:
        floor_s = prepared.floor_s
        head = floor_s if floor_s > head else head
        tier = _AT_RISK if phi >= params.at_risk_phi else _NEW
    else:
        tier = (_AT_RISK if phi >= params.at_risk_phi
                else _REGULAR if lam >= params.regular_orders_per_week else _OCCASIONAL)
    return value, p_now, kappa, at_risk, head, tier, lam


def _expected_fare(fare_sum: F, fare_count: F, params: ValuationParams) -> F:
    """Gamma-Gamma posterior mean: the customer's own mean fare shrunk toward the population's."""
    return params.gg_p * (params.gg_gamma + fare_sum) / (params.gg_p * fare_count + params.gg_q - 1.0)


def score_many(
    histories: HistoryArrays,
    now_s: float,
    params: ValuationParams,
    vip: NDArray[np.bool_] | None = None,
) -> ScoreArrays:
    """`score` over arrays, same formulas; reasons are left out (render them per row)."""
    since_event_w = np.maximum(now_s - histories.last_event_at, 0.0) / WEEK_S
    long_decay = np.exp2(-since_event_w / params.value_half_life_weeks)
    short_decay = np.exp2(-since_event_w / params.failure_half_life_weeks)
    x = histories.repeat_orders * long_decay
    rate = LN2 / params.value_half_life_weeks
    seen = histories.orders > 0
    tenure_w = np.where(seen, np.maximum(now_s - histories.first_seen_at, 0.0) / WEEK_S, 0.0)
    age = -np.expm1(-rate * tenure_w) / rate
    fare = _expected_fare(histories.fare_sum * long_decay, histories.fare_count * long_decay, params)
    lam = (params.r + x) / (params.alpha + age)
    p = params.a / (params.a + params.b + x)
    p_now = np.where(seen, p, 0.0)
    trips = lam * params.horizon_weeks
    exposure = trips * p
    survival = np.divide(-np.expm1(-exposure), exposure, out=np.ones_like(exposure), where=exposure > 0)
    value = fare * trips * survival
    phi = histories.phi * short_decay
    newcomer = histories.completed == 0
    hazard = failure_hazard(phi, histories.completed, *params.hazard_ks)
    kappa = -np.expm1(-hazard)
    at_risk = value * (1.0 - p_now) * kappa
    is_vip = np.zeros(len(histories), dtype=bool) if vip is None else vip
    head = _head_starts(at_risk, newcomer, is_vip, params)
    return ScoreArrays(
        value=value,
        p_leave_if_served=p_now,
        p_leave_if_failed=p_now + (1.0 - p_now) * kappa,
        value_at_risk=at_risk,
        head_start_s=head,
        tier_code=_tier_codes(is_vip, phi, newcomer, lam, params),
        orders_per_week=lam,
    )


def _head_starts(
    at_risk: NDArray[np.float64],
    newcomer: NDArray[np.bool_],
    vip: NDArray[np.bool_],
    params: ValuationParams,
) -> NDArray[np.float64]:
    """`_head_start` over arrays."""
    head = np.minimum(params.max_head_start_s, at_risk / params.value_per_s)
    head = np.where(newcomer, np.maximum(head, params.effective_floor_s), head)
    result: NDArray[np.float64] = np.where(vip, params.max_head_start_s, head)
    return result


def _tier_codes(
    vip: NDArray[np.bool_],
    phi: NDArray[np.float64],
    newcomer: NDArray[np.bool_],
    lam: NDArray[np.float64],
    params: ValuationParams,
) -> NDArray[np.int8]:
    codes = np.where(
        lam >= params.regular_orders_per_week, _CODE[Tier.REGULAR], _CODE[Tier.OCCASIONAL]
    ).astype(np.int8)
    codes[newcomer] = _CODE[Tier.NEW]
    codes[phi >= params.at_risk_phi] = _CODE[Tier.AT_RISK]
    codes[vip] = _CODE[Tier.VIP]
    return codes


def render_reason(
    tier: Tier, h: CustomerHistory, orders_per_week: float, head_start_s: float, now_s: float
) -> str:
    """One line an operator reads in a second, e.g. `regular: 28 trips (3.1/mo), ... -> +5 min`."""
    if h.orders == 0:
        activity = "first order, no history"
    elif h.completed == 0:
        activity = f"no completed trip yet ({h.orders} orders)"
    else:
        activity = f"{h.completed} trips ({orders_per_week * WEEKS_PER_MONTH:.1f}/mo)"
    failures = ""
    if h.failed > 0:
        failures = f", {h.failed} failed, last {_ago(now_s - h.last_failed_at)} ago"
    return f"{tier.value}: {activity}{failures} -> {_head_start_words(head_start_s)}"


def _ago(elapsed_s: float) -> str:
    hours = max(elapsed_s, 0.0) / 3600.0
    if hours < 1.0:
        return f"{max(elapsed_s, 0.0) / 60.0:.0f} min"
    if hours < 48.0:
        return f"{hours:.0f} h"
    if hours < 24.0 * 60:
        return f"{hours / 24.0:.0f} d"
    return f"{hours / 24.0 / (365.25 / 12):.0f} mo"


def _head_start_words(head_start_s: float) -> str:
    if head_start_s < 0.5:
        return "no head start"
    if head_start_s < 90.0:
        return f"+{head_start_s:.0f} s"
    return f"+{head_start_s / 60.0:.0f} min"
