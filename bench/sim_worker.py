"""One simulation run of one source tree, for benches that compare trees in one run.

`python bench/sim_worker.py TREE SCENARIO POLICY [--days D]` imports `simulator`
from TREE (a checkout of any commit: the current tree or a baseline worktree),
runs the scenario under the policy through `simulator.replication.simulate_model`,
and prints one JSON object: CPU seconds of the run (process time, so the shared
machine's neighbours do not count), orders, kernel events, and a SHA-256 over
every order row (`repr` of each row's fields, so floats are compared bit for bit),
plus the first rows' digests so a bench can say where two trees first differ.
The same worker code runs for every tree; only the simulator under it changes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("tree")
    parser.add_argument("scenario")
    parser.add_argument("policy")
    parser.add_argument("--days", type=float, default=None)
    args = parser.parse_args()
    sys.path.insert(0, args.tree)
    import simulator
    from simulator.api import prepare_scenario
    from simulator.replication import simulate_model

    scenario = prepare_scenario(args.scenario, days=args.days)
    started = time.process_time()
    model = simulate_model(scenario, args.policy)
    cpu_s = time.process_time() - started
    total = hashlib.sha256()
    row_digests = []
    for row in model.rows:
        digest = hashlib.sha256(repr(tuple(row)).encode()).digest()
        total.update(digest)
        row_digests.append(digest.hex()[:16])
    print(json.dumps({
        "tree": args.tree, "module": simulator.__file__, "scenario": args.scenario,
        "policy": args.policy, "cpu_s": cpu_s, "rows": len(model.rows),
        "events": model.kernel.events_run, "rows_sha256": total.hexdigest(),
        "row_digests": row_digests,
    }))


if __name__ == "__main__":
    main()
