"""Churn: whether customers came back after a completed vs a failed order.

Two views of one piece of evidence. The report's table: for every order
whose whole follow-up window lies inside the log, did the same customer
order again within it, split by outcome and by trips completed before (in
the log), with binomial intervals. The scenario's numbers: the valuation's
own maximum-likelihood fit (`valuation.fit.fit_params`: BG/NBD, Gamma-Gamma,
the failure hazard k0, k1, k_new, k_prior_trips, and c), mapped onto the
simulator's `[churn]` so the two sections say the same thing:

    rise_per_failure_per_week      = k0 / (memory_half_life_days / ln 2 / 7)
    first_failure_leave_probability = 1 - exp(-k_new)
    prior_trips_halving            = 1 / k_prior_trips   (inf when 0)

(a failure of severity 1 then makes a customer with n trips leave with
probability 1 - exp(-k0 / (1 + n k_prior_trips)) in both models). With the
direct fit (`departures.py`, 20 failures or more) `[churn]` comes from it,
memory_half_life_days included where the log bounds it; the came-back
table stays as the report's raw evidence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray
from scipy.stats import binomtest

from dispatch.model import FailureCause
from simulator.calibration.departures import DepartureFit, fit_departures
from simulator.calibration.evidence import Estimate, LogArrays
from simulator.population import YEAR_S
from valuation.fit import fit_bgnbd, fit_gamma_gamma, fit_value_per_s
from valuation.orderlog import (
    CANCELLED,
    COMPLETED,
    FAILED,
    OrderLog,
    OrderRecord,
    order_log_from_records,
    rfm_summary,
)
from valuation.params import DEFAULT_PARAMS, WEEK_S, ValuationParams
from valuation.replay import replay
from valuation.retention import fit_retention
from valuation.score import score_many

PRIOR_GROUPS = ((0, 0, "new (0 trips)"), (1, 4, "1-4 trips"), (5, 19, "5-19 trips"), (20, 10**9, "20+ trips"))
DEFAULT_MEMORY_DAYS = 14.0
MEMORY_NOTE = (
    "the push's time course: its profile-likelihood 95% interval is not bounded inside "
    "0.5..365 days on this log (docs/calibrate.md: log length)"
)


@dataclass(frozen=True, slots=True)
class ReturnRow:
    group: str
    outcome: str  # "completed" or "failed"
    orders: int
    returned: int
    low: float
    high: float

    @property
    def rate(self) -> float:
        return self.returned / self.orders if self.orders else math.nan


@dataclass(frozen=True, slots=True)
class ChurnFit:
    table: list[ReturnRow]
    window_days: float
    churn: dict[str, Estimate]
    valuation: dict[str, Estimate]
    rows_used: int


def window_days(log: LogArrays) -> float:
    return float(min(56.0, max(log.span_s / 86_400 / 3, 1.0)))


def return_table(log: LogArrays, window_s: float) -> tuple[list[ReturnRow], int]:
    keep = (log.customer >= 0) & ~log.retry
    cust, t = log.customer[keep], log.t[keep]
    outcome, done = log.outcome[keep], log.completed[keep]
    order = np.lexsort((t, cust))
    cust, t, outcome, done = cust[order], t[order], outcome[order], done[order]
    gap = np.full(len(t), np.inf)
    same = cust[1:] == cust[:-1]
    gap[:-1] = np.where(same, t[1:] - t[:-1], np.inf)
    starts = np.r_[True, ~same]
    before: NDArray[np.int64] = np.cumsum(done) - done  # trips before, within the customer
    before -= np.maximum.accumulate(np.where(starts, before, 0))
    usable = t + window_s <= log.span_s
    failed = np.isin(
        outcome, ("no_car", "abandoned", "rejected_by_policy", "dispatcher_cancelled", "driver_no_show")
    )
    rows = []
    for low, high, name in PRIOR_GROUPS:
        group = usable & (before >= low) & (before <= high)
        for label, mask in (("completed", group & done), ("failed", group & failed)):
            n, k = int(mask.sum()), int((mask & (gap <= window_s)).sum())
            ci = binomtest(k, n).proportion_ci() if n else None
            rows.append(ReturnRow(name, label, n, k, ci.low if ci else math.nan, ci.high if ci else math.nan))
    return rows, int(usable.sum())


def _records(log: LogArrays) -> list[OrderRecord]:
    codes = {"completed": COMPLETED, "cancelled": CANCELLED}
    records = []
    for c, t, outcome, fare in zip(log.customer, log.t, log.outcome, log.fare, strict=True):
        if c < 0:
            continue
        code = codes.get(str(outcome), FAILED)
        records.append(
            OrderRecord(
                f"c{c}",
                float(t),
                code,
                float(fare) if np.isfinite(fare) else 0.0,
                FailureCause(str(outcome)) if code == FAILED else None,
            )
        )
    return records


def fit_churn(log: LogArrays, window: float, from_s: float = 0.0) -> ChurnFit:
    """`log`: the whole history; `window`: the report table's follow-up in days; `from_s`:
    the calibration window's start in `log`'s time (gaps before it only set the state)."""
    table, used = return_table(log, window * 86_400)
    failures = int(log.failed[log.customer >= 0].sum())
    defaults = {
        "base_departures_per_year": Estimate.fallback(0.5),
        "rise_per_failure_per_week": Estimate.fallback(0.05),
        "memory_half_life_days": Estimate.fallback(DEFAULT_MEMORY_DAYS, "the push's time course"),
        "first_failure_leave_probability": Estimate.fallback(0.3),
        "prior_trips_halving": Estimate.fallback(math.inf),
    }
    direct = fit_departures(log, DEFAULT_MEMORY_DAYS, from_s) if failures >= 20 else None
    try:
        order_log, _ = order_log_from_records(_records(log))
        params, c_fitted = valuation_fit(order_log, log.span_s, window / 7, direct)
    except (ValueError, FloatingPointError):
        return ChurnFit(table, window, defaults, {}, used)
    source = log.source(len(log.t), "orders, every gap to the next order up to the log's end")
    valuation = _valuation_estimates(params, log.source(len(log.t)), source if direct else None)
    if not c_fitted:  # the simulator fits c at time 0 itself
        del valuation["value_per_s"]
    churn = {**defaults, **(_churn_estimates(direct, source) if direct else {})}
    return ChurnFit(table, window, churn, valuation, used)


def _churn_estimates(fit: DepartureFit, source: str) -> dict[str, Estimate]:
    """The direct fit in the simulator's units, with its profile-likelihood intervals."""
    via = f"censored time-to-next-order fit, {source}"
    if not fit.memory_fitted:
        via += f"; the best fit at memory_half_life_days {DEFAULT_MEMORY_DAYS:g}, intervals over any memory"

    def estimate(name: str, scale: float = 1.0) -> Estimate:
        low, high = fit.interval(name)
        return Estimate(fit.value(name) * scale, via, low * scale, high * scale)

    k, (k_low, k_high) = fit.value("k_prior_trips"), fit.interval("k_prior_trips")

    def halving(rate: float) -> float:
        return 1 / rate if rate > 1e-12 else math.inf

    half_life = math.log(2) * 7  # memory (weeks, mean life) -> half-life (days)
    memory = (
        estimate("memory_weeks", half_life)
        if fit.memory_fitted
        else Estimate.fallback(DEFAULT_MEMORY_DAYS, MEMORY_NOTE)
    )
    return {
        "base_departures_per_year": estimate("base_per_week", YEAR_S / WEEK_S),
        "rise_per_failure_per_week": estimate("rise_per_week"),
        "memory_half_life_days": memory,
        "first_failure_leave_probability": estimate("first_failure"),
        "prior_trips_halving": Estimate(
            halving(k), f"1 / k_prior_trips, {via}", halving(k_high), halving(k_low)
        ),
    }


def valuation_fit(
    log: OrderLog, end_at: float, window_weeks: float, direct: DepartureFit | None = None
) -> tuple[ValuationParams, bool]:
    """`valuation.fit.fit_params` step by step, so that a log too short to set c still
    gives the BG/NBD, Gamma-Gamma and hazard fits; (params, whether c was fitted).
    With a direct departure fit, its hazard replaces the came-back one (the same
    mapping as `[churn]`), so c is set on the hazard the simulator will run."""
    rfm = rfm_summary(log, end_at)
    bg, gg = fit_bgnbd(rfm), fit_gamma_gamma(rfm)
    params = replace(
        DEFAULT_PARAMS,
        r=bg.r,
        alpha=bg.alpha,
        a=bg.a,
        b=bg.b,
        gg_p=gg.p,
        gg_q=max(gg.q, 1.0 + 1e-6),
        gg_gamma=gg.gamma,
    )
    params = fit_retention(log, params, end_at, window_weeks)
    if direct is not None:
        params = replace(params, **_hazard(direct))
    _, final = replay(log, params)
    seen = final.orders > 0
    scores = score_many(final, end_at, params)
    try:
        c = fit_value_per_s(scores.value_at_risk[seen], scores.orders_per_week[seen], params)
    except ValueError:
        return params, False
    return replace(params, value_per_s=c), True


def _hazard(fit: DepartureFit) -> dict[str, float]:
    """The valuation's k0, k_new, k_prior_trips from the simulator's parameters (docs/calibrate.md)."""
    return {
        "k0": fit.value("rise_per_week") * fit.memory_weeks,
        "k_new": -math.log1p(-fit.value("first_failure")),
        "k_prior_trips": fit.value("k_prior_trips"),
        "k1": 0.0,  # the simulator's pushes add up, one per failure, whatever came before
    }


def _base(params: ValuationParams, source: str) -> Estimate:
    per_year = params.a / (params.a + params.b) * params.r / params.alpha * (365.25 * 86_400 / WEEK_S)
    return Estimate(per_year, f"BG/NBD dropout E[p] x E[orders/year] (rough), {source}")


def _valuation_estimates(params: ValuationParams, source: str, direct: str | None) -> dict[str, Estimate]:
    fitted = ("r", "alpha", "a", "b", "gg_p", "gg_q", "gg_gamma", "value_per_s")
    result = {name: Estimate(float(getattr(params, name)), f"valuation.fit, {source}") for name in fitted}
    why = "fewer than 20 failed orders"
    for name in ("k0", "k1", "k_new", "k_prior_trips"):
        result[name] = (
            Estimate(float(getattr(params, name)), f"from [churn]'s direct fit (docs/calibrate.md), {direct}")
            if direct
            else Estimate.fallback(float(getattr(DEFAULT_PARAMS, name)), why)
        )
    return result


__all__ = ["ChurnFit", "ReturnRow", "fit_churn"]
