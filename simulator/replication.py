"""One replication: one scenario, one policy, one seed -> one `SimulationResult`."""

from __future__ import annotations

from simulator.fleet import cars_on_duty_by_hour
from simulator.metrics import (
    SimulationResult,
    daily_series,
    group_rows,
    hourly_series,
    lost_customers,
    lost_future_revenue,
    summarise_orders,
)
from simulator.model import Model
from simulator.population import SEGMENTS, WEEK_S
from simulator.scenario import Scenario
from simulator.setup import build_dispatcher, build_setup


def simulate_model(scenario: Scenario, policy: str, seed: int | None = None) -> Model:
    """Build and run the model; the finished model keeps its rows and customers for analysis."""
    setup = build_setup(scenario, seed)
    model = Model(setup, build_dispatcher(setup, policy))
    model.run()
    return model


def run_replication(scenario: Scenario, policy: str, seed: int | None = None) -> SimulationResult:
    model = simulate_model(scenario, policy, seed)
    return summarise(model, policy, scenario.seed if seed is None else seed)


def summarise(model: Model, policy: str, seed: int) -> SimulationResult:
    setup = model.s
    window, customers, rows = setup.window, setup.customers, model.rows
    by_segment, by_class = group_rows(rows)
    trips = setup.scenario.trips
    mean_fare = trips.fare_base + trips.fare_per_min * trips.duration.mean_min
    horizon_s = setup.scenario.valuation_params().horizon_weeks * WEEK_S
    return SimulationResult(
        scenario=setup.scenario.name, policy=policy, seed=seed, window=window,
        lost=lost_customers(customers, window),
        lost_by_segment={
            name: lost_customers([c for c in customers if c.segment == name], window,
                                 "at risk" if name == "new" else "active at start")
            for name in SEGMENTS},
        orders=summarise_orders(rows),
        orders_by_segment={name: summarise_orders(group) for name, group in by_segment.items()},
        orders_by_class={name: summarise_orders(group) for name, group in by_class.items()},
        first_orders=sum(row.first_order for row in rows),
        first_order_failures=sum(row.first_order and row.outcome != "completed" for row in rows),
        lost_future_revenue=lost_future_revenue(customers, window, mean_fare,
                                                setup.churn.base_rate_per_s, horizon_s),
        revenue=sum(row.fare for row in rows),
        utilisation=setup.cars.utilisation,
        days=daily_series(rows, customers, window),
        hours=hourly_series(rows, window, cars_on_duty_by_hour(setup.scenario.fleet)),
    )
