"""The whole calibration: a log in, every scenario key with its estimate out.

`calibrate` runs each estimator on its own rows and gathers the results in
`Calibration.sections`, scenario section -> key -> `Estimate`, in the order
the TOML is written. A part the log cannot inform keeps the simulator's
default and says so; only a log with no usable orders at all is an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from simulator.calibration.churn import ChurnFit, fit_churn, window_days
from simulator.calibration.demand import (
    Population,
    Profile,
    Retries,
    daily_profile,
    fit_population,
    fit_retries,
)
from simulator.calibration.evidence import Estimate, LogArrays, leading, log_arrays
from simulator.calibration.firm_rules import FirmRules, dispatch_section
from simulator.calibration.patience import PatienceFit, fit_patience
from simulator.calibration.shifts import FleetFit, fit_fleet
from simulator.calibration.space import SpaceFit, fit_space
from simulator.calibration.trips import TripFit, fit_trips
from valuation.logrows import OrderLogSource

Sections = dict[str, dict[str, Estimate]]


@dataclass(frozen=True, slots=True)
class Calibration:
    log: LogArrays
    profile: Profile
    population: Population | None
    retries: Retries
    space: SpaceFit
    patience: PatienceFit
    trips: TripFit
    fleet: FleetFit
    churn: ChurnFit
    history_weeks: float
    sections: Sections = field(default_factory=dict)
    population_problem: str = ""  # why `population` is None: fit_population's own words
    firm: FirmRules | None = None  # the live server's dispatch rules; None: flagged defaults


# The customer population (how many are active, their call rates, newcomers) is read from the
# log's first four weeks: over a longer log the customers who leave in its course thin it, a
# time course the fit's per-call dropout does not have, and the estimates drift (84 days of
# river-town read 3,761 customers at 0.66 trips a week for a true 4,000 at 0.6, both
# intervals missing; the first 21 days recover both). Churn has the whole log (churn.py).
POPULATION_WINDOW_S = 28 * 86_400.0


def calibrate(
    source: OrderLogSource, since: float | None = None, until: float | None = None,
    firm: FirmRules | None = None,
) -> Calibration:  # fmt: skip
    log = log_arrays(source, since, until)
    history = log_arrays(source, None, until)
    profile = daily_profile(log)
    problem = ""
    try:
        population: Population | None = fit_population(leading(log, POPULATION_WINDOW_S), profile.week())
    except ValueError as error:
        population, problem = None, str(error)
    parts = dict(
        log=log,
        profile=profile,
        population=population,
        retries=fit_retries(log),
        space=fit_space(log),
        patience=fit_patience(log),
        trips=fit_trips(log),
        fleet=fit_fleet(log, source.sessions),
        churn=fit_churn(history, window_days(log), log.start_at - history.start_at),
        history_weeks=(log.start_at - history.start_at) / 604_800,
        population_problem=problem,
        firm=firm,
    )
    partial = Calibration(**parts)  # type: ignore[arg-type]
    return Calibration(**parts, sections=_sections(partial))  # type: ignore[arg-type]


def _distribution(kind: Estimate, mean: Estimate, sigma: Estimate) -> Estimate:
    value = {"kind": kind.value, "mean_min": round(float(mean.value), 3)}
    if kind.value == "lognormal":
        value["sigma"] = round(float(sigma.value), 3)
    parts = [f"mean_min {mean.comment()}"] + (
        [f"sigma {sigma.comment()}"] if kind.value == "lognormal" else []
    )
    if mean.default:
        return Estimate(value, mean.source, default=True)
    return Estimate(value, f"{kind.value} ({kind.source}); " + "; ".join(parts))


def _demand(c: Calibration) -> dict[str, Estimate]:
    fb = Estimate.fallback
    pop = c.population
    why = c.population_problem
    demand = {
        "customers": _rounded(pop.customers, 0) if pop else fb(1000, why),
        "history_weeks": Estimate(round(c.history_weeks, 2), "the log's span before the window (histories)")
        if c.history_weeks >= 1
        else fb(52.0, "the log has no history before the window"),
        "trips_per_week_mean": pop.trips_per_week_mean if pop else fb(0.8, why),
        "trips_per_week_shape": pop.trips_per_week_shape if pop else fb(0.5, why),
        "regular_min_trips_per_week": fb(1.0, "a reporting boundary, not a fit"),
        "new_customers_per_day": pop.new_customers_per_day if pop else fb(10.0, why),
        **_profiles(c),
        "vip_share": fb(0.02, "the firm's VIP list is not in the log"),
        "retry_probability": c.retries.probability,
        "retry_delay": Estimate(
            {"kind": "exponential", "mean_min": round(float(c.retries.mean_delay_min.value), 3)},
            c.retries.mean_delay_min.comment(),
            default=c.retries.mean_delay_min.default,
        ),
    }
    return demand


def _profiles(c: Calibration) -> dict[str, Estimate]:
    """hourly_profile (weekdays) and weekend_profile, or one profile for every day."""
    p, source = c.profile, c.log.source(c.profile.rows, "first calls (retries excluded) by local hour")
    hourly = [round(float(v), 3) for v in p.hourly]
    if p.weekend_hourly is None:
        why = "the window has no weekend or no weekday: every day as hourly_profile"
        return {
            "hourly_profile": Estimate(hourly, source + ", every day"),
            "weekend_profile": Estimate.fallback(hourly, why),
        }
    return {
        "hourly_profile": Estimate(hourly, source + ", Monday..Friday, mean 1 over the week"),
        "weekend_profile": Estimate(
            [round(float(v), 3) for v in p.weekend_hourly], source + ", Saturday and Sunday, same scale"
        ),
    }


def _sections(c: Calibration) -> Sections:
    log, fb = c.log, Estimate.fallback
    days = round(log.span_s / 86_400, 3)
    south, west, north, east = c.space.box.value
    box_note = c.space.box.source
    return {
        "": {
            "name": Estimate("calibrated", "from keepcab calibrate"),
            "description": Estimate(
                f"calibrated from {log.n:,} orders, {log.date_range()}", log.source(log.n)
            ),
            "seed": fb(1, "any seed"),
            "horizon_days": Estimate(days, f"the log's span, {log.date_range()}"),
            "warmup_days": fb(7.0, "a modelling choice: histories build up first"),
        },
        "city": {
            "south": Estimate(south, box_note),
            "west": Estimate(west, box_note),
            "north": Estimate(north, box_note),
            "east": Estimate(east, box_note),
            "zones": c.space.zones,
        },
        "fleet": {"cars": c.fleet.cars, "shifts": c.fleet.shifts},
        "demand": _demand(c),
        "trips": {
            "duration": _distribution(c.trips.kind, c.trips.mean_min, c.trips.sigma),
            "fare_base": c.trips.fare_base,
            "fare_per_min": c.trips.fare_per_min,
        },
        "patience": {
            "wait": _distribution(c.patience.kind, c.patience.mean_min, c.patience.sigma),
            "short_eta_s": fb(0.0, "quoted ETAs are not in the log"),
            "short_eta_factor": fb(1.0, "quoted ETAs are not in the log"),
        },
        "churn": c.churn.churn,
        "policies": {
            "names": fb(
                ["reject", "fifo", "static_vip", "value", "retention", "reserve"],
                "the policies to compare are the analyst's choice",
            )
        },
        "dispatch": dispatch_section(c.firm, c.space.detour_factor),
        "valuation": c.churn.valuation,
    }


def _rounded(estimate: Estimate, digits: int) -> Estimate:
    return Estimate(int(round(float(estimate.value), digits)), estimate.source, estimate.low, estimate.high)
