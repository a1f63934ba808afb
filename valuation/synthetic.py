"""Order logs drawn from the valuation model itself, with known parameters.

Used to check that the fits recover what generated the data, and to give the
benchmark a realistic customer base. The generative story is the one `score`
assumes: per customer an order rate lam ~ Gamma(r, alpha) per week, a leaving
chance p ~ Beta(a, b), a mean fare nu ~ Gamma-Gamma; orders arrive as a Poisson
process; each order fails with `fail_prob` (a no-car refusal); after an order of
severity w the customer leaves with probability
1 - (1 - p) * exp(-w * (k0 * (1 + k1 * phi) / (1 + k_prior_trips * n) + k_new * [n = 0]))
with n the trips completed before this order (`valuation.params.failure_hazard`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from valuation.orderlog import COMPLETED, FAILED, OrderLog
from valuation.params import WEEK_S, ValuationParams, failure_hazard


@dataclass(frozen=True, slots=True)
class Population:
    """How the synthetic firm acquires customers and fails them."""

    n_customers: int
    horizon_weeks: float = 78.0  # observation ends here
    acquisition_weeks: float = 52.0  # first orders spread uniformly over this span
    fail_prob: float = 0.0


@dataclass(slots=True)
class _Active:
    """Customers still ordering, as parallel arrays (shrinks as they leave)."""

    ids: NDArray[np.int64]
    at_w: NDArray[np.float64]
    lam: NDArray[np.float64]
    p: NDArray[np.float64]
    nu: NDArray[np.float64]
    phi: NDArray[np.float64]
    last_w: NDArray[np.float64]
    trips: NDArray[np.int64]

    def keep(self, mask: NDArray[np.bool_]) -> _Active:
        return _Active(*(getattr(self, f)[mask] for f in _Active.__dataclass_fields__))


def draw_order_log(
    params: ValuationParams, population: Population, rng: np.random.Generator
) -> OrderLog:
    """Simulates every customer until they leave or the horizon ends; times in seconds from 0."""
    n = population.n_customers
    act = _Active(
        ids=np.arange(n, dtype=np.int64),
        at_w=rng.uniform(0.0, population.acquisition_weeks, n),
        lam=rng.gamma(params.r, 1.0 / params.alpha, n),
        p=rng.beta(params.a, params.b, n),
        nu=rng.gamma(params.gg_q, 1.0 / params.gg_gamma, n),
        phi=np.zeros(n),
        last_w=np.zeros(n),
        trips=np.zeros(n, dtype=np.int64),
    )
    chunks: list[tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.int8],
                       NDArray[np.float64], NDArray[np.float64]]] = []
    first = True
    while len(act.ids):
        failed = rng.random(len(act.ids)) < population.fail_prob
        fare = np.where(failed, 0.0, rng.gamma(params.gg_p, 1.0 / act.nu))
        severity = np.where(failed, params.severity_no_car, 0.0)
        phi = act.phi * np.exp2(-(act.at_w - act.last_w) / params.failure_half_life_weeks)
        hazard = failure_hazard(phi, act.trips, *params.hazard_ks)
        base = np.zeros(len(act.p)) if first else act.p  # BG/NBD: no dropout after the first
        leaves = rng.random(len(act.ids)) < -np.expm1(np.log1p(-base) - severity * hazard)
        chunks.append((act.ids, act.at_w * WEEK_S,
                       np.where(failed, FAILED, COMPLETED).astype(np.int8), fare, severity))
        act.phi, act.last_w = phi + severity, act.at_w.copy()
        act.trips = act.trips + (~failed)
        act.at_w = act.at_w + rng.exponential(1.0, len(act.ids)) / act.lam
        act = act.keep(~leaves & (act.at_w <= population.horizon_weeks))
        first = False
    if not chunks:
        chunks.append((np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int8), np.zeros(0),
                       np.zeros(0)))
    ids, at_s, outcome, fares, severities = (np.concatenate(part) for part in zip(*chunks,
                                                                              strict=True))
    return OrderLog.from_arrays(ids, at_s, outcome, fares, severities, n_customers=n)
