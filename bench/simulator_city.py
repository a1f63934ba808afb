"""The `city` scenario: 30 simulated days (plus the 7-day warm-up) on one core.

Issue 4's target: a 30-day `city` run in under 60 s on one core. Each policy
runs once, in this process, on the scenario's own seed, through
`simulator.replication.simulate_model` (the real Dispatcher and, for the
priority policies, the real valuation in the loop). Figures per policy:
orders placed (warm-up included: those are simulated too) and in the
measured window, kernel events, CPU and wall seconds, orders/s and events/s
on CPU time (the 2-core machine is shared; wall time is printed but is what
the other sessions leave us). Ratios are against `fifo` measured in the same
process (what priority scoring costs), and against the 60 s target.

`python bench/simulator_city.py [--policies fifo,retention] [--days 30]`;
the LAST line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.api import prepare_scenario
from simulator.model import Model
from simulator.replication import simulate_model, summarise

TARGET_S = 60.0
DEFAULT_POLICIES = "fifo,retention,reserve"


def orders_simulated(model: Model) -> int:
    """Every order placed, warm-up included (the model numbers its orders o1, o2, ...)."""
    return model._order_seq  # a bench may read the counter; the model exposes no total


def bench_policy(policy: str, days: float) -> dict[str, Any]:
    scenario = prepare_scenario("city", days=days)
    wall, cpu = time.perf_counter(), time.process_time()
    model = simulate_model(scenario, policy)
    cpu_s, wall_s = time.process_time() - cpu, time.perf_counter() - wall
    result = summarise(model, policy, scenario.seed)
    orders = orders_simulated(model)
    figures = {
        "simulated_days": scenario.warmup_days + scenario.horizon_days,
        "customers_at_start": scenario.demand.customers, "cars": scenario.fleet.cars,
        "orders": orders, "orders_measured": result.orders.placed,
        "kernel_events": model.kernel.events_run,
        "cpu_s": round(cpu_s, 2), "wall_s": round(wall_s, 2),
        "orders_per_cpu_s": round(orders / cpu_s), "events_per_cpu_s": round(
            model.kernel.events_run / cpu_s),
        "lost_share": round(result.lost.share, 5),
        "first_order_failure_rate": round(result.first_order_failure_rate, 4),
        "utilisation": round(result.utilisation, 4),
        "meets_target_cpu": cpu_s < TARGET_S, "meets_target_wall": wall_s < TARGET_S,
    }
    print(f"{policy:>10}: {orders:,} orders ({result.orders.placed:,} measured), "
          f"{model.kernel.events_run:,} events in {cpu_s:.1f} s CPU / {wall_s:.1f} s wall: "
          f"{figures['orders_per_cpu_s']:,} orders/s, {figures['events_per_cpu_s']:,} events/s; "
          f"lost {result.lost.share:.2%}, utilisation {result.utilisation:.1%}", flush=True)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policies", default=DEFAULT_POLICIES)
    parser.add_argument("--days", type=float, default=30.0, help="measured days (after warm-up)")
    args = parser.parse_args(argv)
    policies = [name.strip() for name in args.policies.split(",") if name.strip()]
    figures = {policy: bench_policy(policy, args.days) for policy in policies}
    summary: dict[str, Any] = {"bench": "simulator_city", "measured_days": args.days,
                               "target_s": TARGET_S, **figures}
    if "fifo" in figures:
        for policy in policies:
            ratio = figures[policy]["cpu_s"] / figures["fifo"]["cpu_s"]
            summary[f"{policy}_cpu_vs_fifo"] = round(ratio, 3)
    for policy in policies:
        summary[f"{policy}_cpu_vs_target"] = round(figures[policy]["cpu_s"] / TARGET_S, 3)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
