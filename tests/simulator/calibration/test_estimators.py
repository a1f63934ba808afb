"""Each estimator on its own, against data drawn from known distributions, and CDNOW."""

from __future__ import annotations

import csv
import importlib.util
import math
from pathlib import Path

import numpy as np
import pytest

from simulator.calibration.demand import daily_profile, fit_population
from simulator.calibration.evidence import log_arrays
from simulator.calibration.patience import fit_patience
from simulator.calibration.shifts import fit_fleet
from simulator.calibration.space import fit_space
from simulator.calibration.trips import fit_trips
from valuation.bgnbd import GammaGamma
from valuation.fit import fit_bgnbd, fit_gamma_gamma
from valuation.logrows import DriverSession, LoggedOrder, OrderLogSource
from valuation.orderlog import Rfm

START = 1_767_571_200.0  # 2026-01-05 00:00 UTC, a Monday
DAY, WEEK = 86_400.0, 604_800.0


def _order(customer: str, at: float, outcome: str = "completed", **kw: float | str) -> LoggedOrder:
    return LoggedOrder(
        customer,
        START + at,
        outcome,
        float(kw.pop("lat", 50.0)),  # type: ignore[arg-type]
        float(kw.pop("lon", 20.0)),
        **kw,
    )  # type: ignore[arg-type]


def test_censored_lognormal_patience_recovers_the_mean_inside_its_interval() -> None:
    """Patience drawn lognormal (mean 12, sigma 0.6), waits censored at a random pickup time."""
    rng = np.random.default_rng(1)
    patience = rng.lognormal(math.log(12) - 0.18, 0.6, 3000) * 60
    pickup = rng.exponential(8 * 60, 3000)
    orders = [
        _order(f"c{i}", i * 600.0, "abandoned", ended_at=START + i * 600.0 + p)
        if p < w
        else _order(f"c{i}", i * 600.0, picked_up_at=START + i * 600.0 + w, fare=5.0)
        for i, (p, w) in enumerate(zip(patience, pickup, strict=True))
    ]
    fit = fit_patience(log_arrays(OrderLogSource(orders)))
    assert fit.kind.value == "lognormal"
    assert fit.mean_min.covers(12.0), fit.mean_min
    assert abs(float(fit.sigma.value) - 0.6) < 0.05
    assert fit.km is not None


def test_exponential_patience_is_chosen_and_recovered() -> None:
    """Exponential patience (mean 7 min) is told apart from lognormal by AIC."""
    rng = np.random.default_rng(2)
    patience, pickup = rng.exponential(7 * 60, 3000), rng.exponential(6 * 60, 3000)
    orders = [
        _order(f"c{i}", i * 600.0, "abandoned", ended_at=START + i * 600.0 + p)
        if p < w
        else _order(f"c{i}", i * 600.0, picked_up_at=START + i * 600.0 + w, fare=5.0)
        for i, (p, w) in enumerate(zip(patience, pickup, strict=True))
    ]
    fit = fit_patience(log_arrays(OrderLogSource(orders)))
    assert fit.kind.value == "exponential" and fit.mean_min.covers(7.0), fit.mean_min


def test_trip_durations_and_fares_are_recovered() -> None:
    """Lognormal trips (mean 14, sigma 0.5) priced 2.5 + 0.9/min plus noise."""
    rng = np.random.default_rng(3)
    minutes = rng.lognormal(math.log(14) - 0.125, 0.5, 4000)
    fares = 2.5 + 0.9 * minutes + rng.normal(0, 0.3, 4000)
    orders = [
        _order(
            f"c{i}",
            i * 600.0,
            picked_up_at=START + i * 600.0 + 60,
            ended_at=START + i * 600.0 + 60 + m * 60,
            fare=f,
        )
        for i, (m, f) in enumerate(zip(minutes, fares, strict=True))
    ]
    fit = fit_trips(log_arrays(OrderLogSource(orders)))
    assert fit.mean_min.covers(14.0) and fit.sigma.covers(0.5)
    assert fit.fare_base.covers(2.5) and fit.fare_per_min.covers(0.9)


def test_population_fit_recovers_customers_rates_and_newcomers() -> None:
    """Gamma(0.8, rate 1.6/week) Poisson callers, 3000 at the start and 20 newcomers a day, 4 weeks."""
    rng = np.random.default_rng(4)
    span, orders = 4 * WEEK, []
    rates = rng.gamma(0.8, 1 / 1.6, 3000) / WEEK
    joined = [(0.0, r) for r in rates]
    newcomer_times = np.sort(rng.uniform(0, span, rng.poisson(20 * 28)))
    joined += [(float(t), float(rng.gamma(0.8, 1 / 1.6) / WEEK)) for t in newcomer_times]
    for i, (t0, rate) in enumerate(joined):
        calls = list(t0 + np.cumsum(rng.exponential(1 / rate, 60)))
        times = ([t0] if t0 > 0 else []) + [t for t in calls if t < span]
        orders += [_order(f"c{i}", t) for t in times]
    orders.append(_order("last", span - 1.0))
    log = log_arrays(OrderLogSource(orders))
    fit = fit_population(log, np.ones(24))
    for estimate in (fit.customers, fit.trips_per_week_mean, fit.new_customers_per_day):
        assert estimate.high is not None and estimate.high < 3 * float(estimate.value)  # informative
    assert fit.customers.covers(3000), fit.customers
    assert fit.trips_per_week_mean.covers(0.5), fit.trips_per_week_mean
    assert fit.trips_per_week_shape.covers(0.8), fit.trips_per_week_shape
    assert fit.new_customers_per_day.covers(20), fit.new_customers_per_day


def test_newcomers_leaving_after_their_first_call_do_not_bend_the_rate_shape() -> None:
    """As above over 12 weeks, but 40% of newcomers never call again after their first call
    (a failed first order): the shape (1.2) and newcomers per day (20) stay in their intervals."""
    rng = np.random.default_rng(6)
    span, orders = 12 * WEEK, []
    joined = [(0.0, float(r) / WEEK) for r in rng.gamma(1.2, 0.6 / 1.2, 3000)]
    newcomer_times = np.sort(rng.uniform(0, span, rng.poisson(20 * 84)))
    joined += [(float(t), float(rng.gamma(1.2, 0.6 / 1.2) / WEEK)) for t in newcomer_times]
    for i, (t0, rate) in enumerate(joined):
        calls = [t for t in t0 + np.cumsum(rng.exponential(1 / rate, 80)) if t < span]
        if t0 > 0 and rng.uniform() < 0.4:
            calls = []
        orders += [_order(f"c{i}", t) for t in ([t0] if t0 > 0 else []) + calls]
    orders.append(_order("last", span - 1.0))
    fit = fit_population(log_arrays(OrderLogSource(orders)), np.ones(24))
    assert fit.trips_per_week_shape.covers(1.2), fit.trips_per_week_shape
    assert fit.new_customers_per_day.covers(20.0), fit.new_customers_per_day
    assert fit.customers.covers(3000), fit.customers


def test_weekday_and_weekend_profiles_are_read_on_one_scale() -> None:
    """Two weeks of calls: weekdays flat, weekends only 18-24 h at three times a weekday's
    hourly rate; the profile gives both curves so that a week of them has mean 1."""
    rng = np.random.default_rng(7)
    orders = []
    for day in range(14):
        weekend = day % 7 >= 5  # START is a Monday
        hours = np.arange(18, 24) if weekend else np.arange(24)
        for hour in hours:
            for at in rng.uniform(0, 3600, rng.poisson(150 if weekend else 50)):
                orders.append(_order(f"c{len(orders)}", day * DAY + hour * 3600 + float(at)))
    profile = daily_profile(log_arrays(OrderLogSource(orders)))
    assert profile.weekend_hourly is not None
    week = np.array(profile.week())
    assert len(week) == 168 and week.mean() == pytest.approx(1.0)
    expected = np.r_[np.full(120, 10.0), np.tile(np.r_[np.zeros(18), np.full(6, 30.0)], 2)]
    assert week == pytest.approx(expected / expected.mean(), rel=0.12)
    assert week[120:].sum() / week.sum() == pytest.approx(360 / 1560, rel=0.05)


def test_zones_are_found_where_the_pickups_are() -> None:
    """Two uniform discs of pickups give two zones at their centres, weights about 0.7 / 0.3."""
    rng = np.random.default_rng(5)
    orders = []
    for i in range(2000):
        lat0, lon0, radius = (50.05, 19.90, 1500) if i % 10 < 7 else (50.02, 20.05, 800)
        r, a = radius * math.sqrt(rng.uniform()), rng.uniform(0, 2 * math.pi)
        lat = lat0 + math.degrees(r * math.cos(a) / 6_371_008.8)
        lon = lon0 + math.degrees(r * math.sin(a) / (6_371_008.8 * math.cos(math.radians(lat0))))
        orders.append(_order(f"c{i}", i * 60.0, lat=lat, lon=lon))
    zones = fit_space(log_arrays(OrderLogSource(orders))).zones.value
    assert len(zones) == 2
    assert abs(zones[0]["lat"] - 50.05) < 0.003 and abs(zones[0]["lon"] - 19.90) < 0.004
    assert abs(zones[0]["radius_m"] - 1500) < 150 and abs(zones[0]["weight"] - 0.7) < 0.03


def test_shifts_come_from_driver_sessions() -> None:
    """Six drivers 6-14 and four 14-22, every day for a week, with a few minutes of overtime."""
    sessions = [
        DriverSession(
            f"d{i}",
            START + day * DAY + start * 3600,
            START + day * DAY + (start + 8) * 3600 + 300 * (day % 2),
        )
        for i, start in enumerate([6] * 6 + [14] * 4)
        for day in range(7)
    ]
    orders = [_order("c", 3600.0 * h) for h in range(24 * 7)]
    fit = fit_fleet(log_arrays(OrderLogSource(orders)), sessions)
    assert fit.cars.value == 10
    assert fit.shifts.value == [
        {"start_h": 6.0, "hours": 8.0, "share": 0.6},
        {"start_h": 14.0, "hours": 8.0, "share": 0.4},
    ]


def _cdnow(name: str) -> list[dict[str, str]]:
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("lifetimes (test extra) is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / name
    with path.open(encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def test_bgnbd_on_cdnow_reproduces_fader_hardie_lee_2005() -> None:
    """r=0.243, alpha=4.414, a=0.793, b=2.426 on the CDNOW summary lifetimes ships."""
    rows = _cdnow("cdnow_customers_summary.csv")
    x, t_x, T = (np.array([float(r[k]) for r in rows]) for k in ("frequency", "recency", "T"))
    fit = fit_bgnbd(Rfm(x, t_x, T, x, np.zeros(len(x))))
    assert (fit.r, fit.alpha, fit.a, fit.b) == pytest.approx((0.243, 4.414, 0.793, 2.426), abs=2e-3)


def test_gamma_gamma_on_cdnow_reproduces_the_published_estimates() -> None:
    """p=6.25, q=3.74, gamma=15.44 on CDNOW's repeat customers (Fader, Hardie & Lee 2005)."""
    rows = [r for r in _cdnow("cdnow_customers_summary_with_transactions.csv") if float(r["x"]) > 0]
    n = np.array([float(r["x"]) for r in rows])
    mean = np.array([float(r["zbar"]) for r in rows])
    fit: GammaGamma = fit_gamma_gamma(Rfm(n, n, n, n, mean))
    assert (fit.p, fit.q, fit.gamma) == pytest.approx((6.25, 3.74, 15.44), abs=0.02)
