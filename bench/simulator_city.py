"""The `city` scenario, 30 measured + 7 warm-up days per policy: now against a baseline commit.

Issue 15's target: at least 2.5x less CPU than commit b885b47 on fifo, retention
and reserve, measured in the same run on the same machine. Each run is one
fresh interpreter (`bench/sim_worker.py`) importing the simulator either from
this tree or from a git worktree of the baseline (`bench/baseline.py`); the two
alternate within every round (the order flips each round), so drifting load on
the shared machine hits both alike. Per policy the bench prints every run's CPU
seconds (process time of `simulate_model`: the real Dispatcher and, for the
priority policies, the real valuation in the loop), the median of each tree,
their ratio, orders/s, and whether the order rows hash the same (they must:
speed work does not change results).

`python bench/simulator_city.py [--policies fifo,retention,reserve] [--days 30]
[--rounds 3] [--baseline b885b47]`; the LAST line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
from typing import Any

from baseline import BASELINE_COMMIT, CURRENT, baseline_tree, run_worker  # type: ignore[import-not-found]

TARGET_RATIO = 2.5
DEFAULT_POLICIES = "fifo,retention,reserve"


def bench_policy(policy: str, days: float, rounds: int, old_tree: Any) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {"baseline": [], "now": []}
    for round_number in range(rounds):
        order = ["baseline", "now"] if round_number % 2 == 0 else ["now", "baseline"]
        for which in order:
            tree = old_tree if which == "baseline" else CURRENT
            run = run_worker(tree, "city", policy, days)
            runs[which].append(run)
            print(f"  {policy:>9} round {round_number + 1} {which:>8}: {run['cpu_s']:.2f} s CPU, "
                  f"{run['rows']:,} rows", flush=True)
    old = statistics.median(run["cpu_s"] for run in runs["baseline"])
    new = statistics.median(run["cpu_s"] for run in runs["now"])
    hashes = {run["rows_sha256"] for which in runs.values() for run in which}
    rows = runs["now"][0]["rows"]
    figures = {
        "baseline_cpu_s": [round(run["cpu_s"], 2) for run in runs["baseline"]],
        "now_cpu_s": [round(run["cpu_s"], 2) for run in runs["now"]],
        "baseline_median_s": round(old, 2), "now_median_s": round(new, 2),
        "ratio": round(old / new, 3), "meets_target": old / new >= TARGET_RATIO,
        "rows": rows, "orders_per_cpu_s_now": round(rows / new),
        "rows_identical": len(hashes) == 1,
    }
    print(f"{policy:>9}: baseline {old:.2f} s, now {new:.2f} s CPU (medians of {rounds}): "
          f"{old / new:.2f}x (target {TARGET_RATIO}x); rows "
          f"{'identical' if len(hashes) == 1 else 'DIFFERENT'}", flush=True)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policies", default=DEFAULT_POLICIES)
    parser.add_argument("--days", type=float, default=30.0, help="measured days (after warm-up)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--baseline", default=BASELINE_COMMIT)
    args = parser.parse_args(argv)
    old_tree = baseline_tree(args.baseline)
    policies = [name.strip() for name in args.policies.split(",") if name.strip()]
    summary: dict[str, Any] = {"bench": "simulator_city", "baseline": args.baseline,
                               "measured_days": args.days, "rounds": args.rounds,
                               "target_ratio": TARGET_RATIO}
    for policy in policies:
        summary[policy] = bench_policy(policy, args.days, args.rounds, old_tree)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
