"""How much of a simulated run is the dispatch core itself: the floor under any model.

Issue 15 asks for the `city` study 2.5x faster than b885b47 with the real
Dispatcher in the loop. This bench tells how much of that budget the core takes
before the model spends anything: it runs the scenario once, recording every
command the model gives `Dispatcher.handle` (with its time) and every update the
model makes to the valuation's histories, then replays that log into a fresh
dispatcher over a fresh setup, timed alone. The replay must reproduce every
decision (their reprs are hashed and compared), so it is the same work the run
did in the core and in the valuation, with no kernel, sampling or bookkeeping.

Printed per policy: the baseline commit's whole run and the current whole run
(both from `bench/sim_worker.py` in their own interpreters, CPU seconds), the
current replay, the target (baseline / 2.5) and what the target leaves the model
once the core has had its share. A negative figure means the target cannot be met
by the model alone: the core itself must get faster by that much.

`python bench/simulator_floor.py [--policies fifo,retention,reserve] [--days 30]`;
the LAST line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from baseline import BASELINE_COMMIT, CURRENT, baseline_tree, run_worker  # type: ignore[import-not-found]

from dispatch.commands import Command
from simulator.api import prepare_scenario
from simulator.model import Model
from simulator.scenario import Scenario
from simulator.setup import build_dispatcher, build_setup

TARGET_RATIO = 2.5
Entry = tuple[str, Any, Any, Any]


class RecordingCore:
    """The model's dispatcher and history book, logging every call in the order made."""

    def __init__(self, model: Model, log: list[Entry], digest: Any) -> None:
        self._dispatcher, self._book, self._log, self._digest = model.dispatcher, model._book, log, digest

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dispatcher, name)

    def handle(self, command: Command, now: float) -> list[Any]:
        self._log.append(("handle", command, now, None))
        decisions = self._dispatcher.handle(command, now)
        self._digest.update(repr(decisions).encode())
        return decisions

    def completed(self, customer_id: str, at: float, fare: float) -> None:
        self._log.append(("completed", customer_id, at, fare))
        self._book.completed(customer_id, at, fare)

    def failed(self, customer_id: str, at: float, cause: Any) -> None:
        self._log.append(("failed", customer_id, at, cause))
        self._book.failed(customer_id, at, cause)


def record(scenario: Scenario, policy: str) -> tuple[list[Entry], str]:
    setup = build_setup(scenario)
    model = Model(setup, build_dispatcher(setup, policy))
    log: list[Entry] = []
    digest = hashlib.sha256()
    recorder = RecordingCore(model, log, digest)
    model.dispatcher = recorder  # type: ignore[assignment]
    if model._book is not None:
        model._book = recorder  # type: ignore[assignment]
    model.run()
    return log, digest.hexdigest()


def replay(scenario: Scenario, policy: str, log: list[Entry], keep: bool) -> tuple[float, str]:
    """CPU seconds of the core alone on the recorded log, and (with `keep`) the digest of its
    decisions. The timed pass keeps nothing, as the run kept nothing of them; a second,
    untimed pass with `keep` checks that the replay made the run's decisions."""
    setup = build_setup(scenario)
    dispatcher = build_dispatcher(setup, policy)
    handle, book = dispatcher.handle, setup.book
    digest = hashlib.sha256()
    started = time.process_time()
    for kind, first, second, third in log:
        if kind == "handle":
            decisions = handle(first, second)
            if keep:
                digest.update(repr(decisions).encode())
        elif kind == "completed":
            book.completed(first, second, third)  # type: ignore[union-attr]
        else:
            book.failed(first, second, third)  # type: ignore[union-attr]
    return time.process_time() - started, digest.hexdigest()


def bench_policy(policy: str, days: float, old_tree: Path) -> dict[str, Any]:
    scenario = prepare_scenario("city", days=days)
    baseline = run_worker(old_tree, "city", policy, days)["cpu_s"]
    whole = run_worker(CURRENT, "city", policy, days)["cpu_s"]
    log, recorded = record(scenario, policy)
    core_s, _ = replay(scenario, policy, log, keep=False)
    _, replayed = replay(scenario, policy, log, keep=True)
    target = baseline / TARGET_RATIO
    figures = {
        "baseline_whole_s": round(baseline, 2), "now_whole_s": round(whole, 2),
        "ratio": round(baseline / whole, 3), "core_replay_s": round(core_s, 2),
        "core_share_of_now": round(core_s / whole, 3), "target_s": round(target, 2),
        "left_for_model_s": round(target - core_s, 2), "now_model_s": round(whole - core_s, 2),
        "commands": sum(kind == "handle" for kind, *_ in log), "replay_identical": recorded == replayed,
    }
    print(f"{policy:>9}: baseline {baseline:.2f} s, now {whole:.2f} s ({baseline / whole:.2f}x); "
          f"core alone {core_s:.2f} s ({core_s / whole:.0%} of now); target {target:.2f} s leaves "
          f"{target - core_s:.2f} s for the model, which takes {whole - core_s:.2f} s now; "
          f"replay {'identical' if recorded == replayed else 'DIFFERENT'}", flush=True)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policies", default="fifo,retention,reserve")
    parser.add_argument("--days", type=float, default=30.0, help="measured days (after warm-up)")
    parser.add_argument("--baseline", default=BASELINE_COMMIT)
    args = parser.parse_args(argv)
    old_tree = baseline_tree(args.baseline)
    summary: dict[str, Any] = {"bench": "simulator_floor", "baseline": args.baseline,
                               "measured_days": args.days, "target_ratio": TARGET_RATIO}
    for policy in (name.strip() for name in args.policies.split(",") if name.strip()):
        summary[policy] = bench_policy(policy, args.days, old_tree)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
