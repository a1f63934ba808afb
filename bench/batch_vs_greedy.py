"""Batch matching against greedy matching on a bundled scenario, paired on common random numbers.

`python bench/batch_vs_greedy.py [--scenario city] [--policies fifo,retention]
[--replications 3] [--days 7] [--window 5] [--jobs 2]` runs every policy twice
through `simulator.compare` on the same replication seeds: once with the
scenario as it is (`[dispatch] matching = "nearest"`, greedy) and once with
`matching = "batch"` and the window given. Replication r of both sees the same
callers, so the batch-minus-greedy difference is paired replication by
replication (`simulator.measures.paired`, a Student t interval). Printed per
policy: pickup wait p50/p90, failed-order share, lost customers, lost future
revenue, utilisation; the LAST line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from simulator.api import compare, prepare_scenario
from simulator.measures import paired
from simulator.scenario import Scenario

KEYS = ("wait.p50_s", "wait.p90_s", "orders.failure_rate", "failed.abandoned", "failed.expired",
        "lost.share", "lost_future_revenue", "utilisation", "orders.placed")


def with_matching(scenario: Scenario, matching: str, window_s: float) -> Scenario:
    dispatch = scenario.dispatch.model_copy(update={"matching": matching,
                                                    "batch_window_s": window_s})
    return scenario.model_copy(update={"dispatch": dispatch})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="city")
    parser.add_argument("--policies", default="fifo,retention")
    parser.add_argument("--replications", type=int, default=3)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--window", type=float, default=5.0)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    base = prepare_scenario(args.scenario, args.days)
    policies = args.policies.split(",")
    started = time.perf_counter()
    runs = {mode: compare(with_matching(base, mode, args.window), policies,
                          replications=args.replications, jobs=args.jobs)
            for mode in ("nearest", "batch")}
    wall_s = time.perf_counter() - started
    table: dict[str, Any] = {}
    for policy in policies:
        greedy, batch = runs["nearest"].policies[policy], runs["batch"].policies[policy]
        for key in KEYS:
            diff = paired(batch.values(key), greedy.values(key))
            table[f"{policy}.{key}"] = {
                "greedy": greedy.metrics[key].mean, "batch": batch.metrics[key].mean,
                "diff": diff.mean, "low": diff.low, "high": diff.high}
            print(f"{policy:10} {key:22} greedy {greedy.metrics[key].mean:12.4f}  "
                  f"batch {batch.metrics[key].mean:12.4f}  "
                  f"Δ {diff.mean:+10.4f} [{diff.low:+.4f}, {diff.high:+.4f}]")
    settings = {"scenario": args.scenario, "policies": policies, "days": args.days,
                "warmup_days": base.warmup_days, "replications": args.replications,
                "window_s": args.window, "seed": base.seed, "wall_s": round(wall_s, 1)}
    print(f"{args.replications} replications x {args.days:g} measured days (+{base.warmup_days:g} "
          f"warm-up), window {args.window:g} s, {wall_s:.0f} s wall with {args.jobs} jobs")
    print(json.dumps({"settings": settings, "paired": table}, sort_keys=True))


if __name__ == "__main__":
    main()
