"""ValuationParams: the issue's defaults, validation and a deterministic JSON round trip."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from valuation.params import DEFAULT_PARAMS, ValuationParams, failure_hazard

positive = st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False)


def test_defaults_are_the_issue_starting_points() -> None:
    """r, alpha, a, b, k's, cap and floor start where issue 3 says."""
    p = DEFAULT_PARAMS
    assert (p.r, p.alpha, p.a, p.b) == (0.5, 2.0, 0.8, 3.0)
    assert (p.k0, p.k1, p.k_new) == (0.15, 1.0, 0.25)
    assert p.k_prior_trips == 0.0  # softening by prior trips is off unless configured or fitted
    assert (p.max_head_start_s, p.first_order_floor_s) == (300.0, 180.0)
    assert (p.value_half_life_weeks, p.failure_half_life_weeks, p.horizon_weeks) == (52, 2, 26)
    assert p.severity_no_car == p.severity_rejected_by_policy == 1.0
    assert p.severity_dispatcher_cancelled == p.severity_driver_no_show == 0.7


@given(r=positive, alpha=positive, k0=positive, gg_q=st.floats(1.001, 100.0), c=positive)
def test_json_round_trip_is_exact(r: float, alpha: float, k0: float, gg_q: float, c: float) -> None:
    """Any valid parameter set survives to_json/from_json bit for bit."""
    params = ValuationParams(r=r, alpha=alpha, k0=k0, gg_q=gg_q, value_per_s=c)
    assert ValuationParams.from_json(params.to_json()) == params


def test_json_is_deterministic_and_sorted() -> None:
    """Equal parameters give byte-equal files with sorted keys, so fits diff cleanly."""
    text = DEFAULT_PARAMS.to_json()
    assert text == ValuationParams().to_json()
    keys = list(json.loads(text))
    assert keys == sorted(keys)


def test_missing_keys_default_and_unknown_keys_fail() -> None:
    """An older file lacking a field still loads; a misspelt field is refused."""
    assert ValuationParams.from_json('{"r": 0.7}') == dataclasses.replace(DEFAULT_PARAMS, r=0.7)
    with pytest.raises(ValueError, match="unknown"):
        ValuationParams.from_json('{"rr": 0.7}')
    with pytest.raises(ValueError, match="schema"):
        ValuationParams.from_json('{"schema": "other/9"}')


def test_params_saved_before_softening_load_unchanged() -> None:
    """A file written before k_prior_trips existed loads with the softening off."""
    old = json.loads(DEFAULT_PARAMS.to_json())
    del old["k_prior_trips"]
    loaded = ValuationParams.from_json(json.dumps(old))
    assert loaded == DEFAULT_PARAMS and loaded.k_prior_trips == 0.0
    soft = ValuationParams(k_prior_trips=0.05)
    assert ValuationParams.from_json(soft.to_json()).k_prior_trips == 0.05


def test_failure_hazard_softens_with_trips_and_spares_newcomers() -> None:
    """The hazard halves at 1/k_prior_trips trips, never reaches zero, and is unsoftened at 0 trips."""
    phi = np.array([0.0, 0.0, 0.0, 1.5])
    trips = np.array([0, 20, 10_000, 20])
    soft = failure_hazard(phi, trips, 0.15, 1.0, 0.25, 0.05)
    assert soft.tolist() == pytest.approx([0.15 + 0.25, 0.075, 0.15 / 501, 0.15 * 2.5 / 2])
    assert np.all(soft > 0)
    off = failure_hazard(phi, trips, 0.15, 1.0, 0.25, 0.0)
    assert off.tolist() == [0.15 + 0.25, 0.15, 0.15, 0.15 * (1.0 + 1.5)]
    assert failure_hazard(0.0, 0, 0.15, 1.0, 0.25, 0.05) == 0.15 + 0.25


@pytest.mark.parametrize(
    "change", [{"r": 0.0}, {"gg_q": 1.0}, {"k0": -0.1}, {"max_head_start_s": float("nan")},
               {"k_prior_trips": -0.05}, {"k_prior_trips": float("inf")}]
)
def test_invalid_values_are_rejected(change: dict[str, float]) -> None:
    """Parameters that would break the formulas cannot be constructed."""
    with pytest.raises(ValueError):
        ValuationParams(**change)


def test_floor_never_exceeds_cap() -> None:
    """A floor above the cap is clamped, so the starvation bound still holds."""
    assert ValuationParams(first_order_floor_s=900.0).effective_floor_s == 300.0
    assert DEFAULT_PARAMS.population_mean_fare == pytest.approx(15.0)
