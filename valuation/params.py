"""Population and policy parameters of the valuation model, with JSON persistence.

One frozen value holds every number the score depends on, so a fit produces a
single artefact an analyst can diff, review and roll back. Defaults are the
starting points of issue 3 and docs/valuation.md; every one of them is meant to
be refitted from the firm's own order log (`valuation.fit`).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray

WEEK_S = 7 * 24 * 3600.0
"""Seconds per week: callers speak seconds, the model thinks in weeks."""

PARAMS_SCHEMA = "keepcab.valuation.params/1"
Floats = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ValuationParams:
    """Everything `score` needs besides a customer's own history."""

    # BG/NBD (Fader, Hardie & Lee 2005): order rate ~ Gamma(r, alpha) per week,
    # chance of leaving after an order ~ Beta(a, b).
    r: float = 0.5
    alpha: float = 2.0
    a: float = 0.8
    b: float = 3.0
    # Gamma-Gamma fare model: population mean fare = gg_p * gg_gamma / (gg_q - 1).
    # A guess (mean 15 currency units) until fitted on the firm's fares.
    gg_p: float = 6.0
    gg_q: float = 4.0
    gg_gamma: float = 7.5
    # Extra leaving caused by failing an order: kappa = 1 - exp(-severity * hazard),
    # hazard = k0 * (1 + k1 * phi) / (1 + k_prior_trips * completed) + k_new * [completed == 0].
    # Assumptions (no published figure exists), refitted by `valuation.fit.fit_retention`.
    k0: float = 0.15
    k1: float = 1.0
    k_new: float = 0.25
    # Prior trips soften a failure durably (Knox & van Oest 2014): 1 / the number of completed
    # trips that halves a failure's push (the simulator's 1 / prior_trips_halving). A rate, not
    # a halving count, so that "off" is a finite 0 that the fit can reach at its bound.
    k_prior_trips: float = 0.0
    horizon_weeks: float = 26.0  # tau: how far ahead value is counted
    value_half_life_weeks: float = 52.0  # forgetting of orders, tenure and fares
    failure_half_life_weeks: float = 2.0  # forgetting of failures (phi)
    max_head_start_s: float = 300.0
    first_order_floor_s: float = 180.0  # 0 disables the newcomer floor
    # c: value at risk worth one second of head start. 0.125 puts the caller-weighted 95th
    # percentile of a synthetic base drawn from these defaults at the cap (VaR ~ 38 -> 300 s).
    value_per_s: float = 0.125
    # Failure severities (weights in phi and in the failure hazard).
    severity_no_car: float = 1.0
    severity_rejected_by_policy: float = 1.0
    severity_dispatcher_cancelled: float = 0.7
    severity_driver_no_show: float = 0.7
    severity_abandoned: float = 0.8
    severity_very_late: float = 0.5
    # Tier thresholds for the operator's word.
    at_risk_phi: float = 0.5  # one no-car failure stays above this for one failure half-life
    regular_orders_per_week: float = 0.5  # about 2 orders a month

    def __post_init__(self) -> None:
        for spec in fields(self):
            value = getattr(self, spec.name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{spec.name} must be finite and >= 0, got {value!r}")
        for name in ("r", "alpha", "a", "b", "gg_p", "gg_gamma", "horizon_weeks",
                     "value_half_life_weeks", "failure_half_life_weeks", "value_per_s"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0")
        if self.gg_q <= 1:
            raise ValueError("gg_q must be > 1 for the population mean fare to exist")

    @property
    def population_mean_fare(self) -> float:
        return self.gg_p * self.gg_gamma / (self.gg_q - 1.0)

    @property
    def effective_floor_s(self) -> float:
        """The newcomer floor never exceeds the cap, so the starvation bound holds."""
        return min(self.first_order_floor_s, self.max_head_start_s)

    @property
    def hazard_ks(self) -> tuple[float, float, float, float]:
        """k0, k1, k_new, k_prior_trips in `failure_hazard`'s order."""
        return self.k0, self.k1, self.k_new, self.k_prior_trips

    def to_json(self) -> str:
        """Deterministic text: sorted keys, so two equal fits give byte-equal files."""
        body: dict[str, Any] = {"schema": PARAMS_SCHEMA, **asdict(self)}
        return json.dumps(body, sort_keys=True, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> ValuationParams:
        """Missing keys take defaults (older files stay readable); unknown keys are an error."""
        raw = json.loads(text)
        if not isinstance(raw, dict):
            raise ValueError("valuation params JSON must be an object")
        schema = raw.pop("schema", PARAMS_SCHEMA)
        if schema != PARAMS_SCHEMA:
            raise ValueError(f"unsupported params schema {schema!r}")
        known = {spec.name for spec in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown valuation params: {', '.join(unknown)}")
        return cls(**{name: float(value) for name, value in raw.items()})


DEFAULT_PARAMS = ValuationParams()


@overload
def failure_hazard(phi: float, completed: int, k0: float, k1: float, k_new: float,
                   k_prior_trips: float) -> float: ...


@overload
def failure_hazard(phi: Floats, completed: NDArray[np.int64] | Floats, k0: float, k1: float,
                   k_new: float, k_prior_trips: float) -> Floats: ...


def failure_hazard(phi: Any, completed: Any, k0: float, k1: float, k_new: float,
                   k_prior_trips: float) -> Any:
    """What a failure of weight 1 adds to the hazard of leaving, in one place so that the
    score, the synthetic generator and the retention fit cannot drift apart.

    `completed` is the plain count of trips before this order: prior purchases soften a
    failure durably (Knox & van Oest 2014), so unlike phi it does not fade. With
    k_prior_trips = 0 the division is by exactly 1.0, so the unsoftened hazard comes back
    bit for bit; a newcomer (0 trips) is never softened either way.
    """
    return k0 * (1.0 + k1 * phi) / (1.0 + k_prior_trips * completed) + k_new * (completed == 0)
