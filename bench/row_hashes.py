"""Order rows of the bundled scenarios, hashed, for the current tree against a baseline commit.

Speed work must not change results: `python bench/row_hashes.py` runs each
scenario under each policy with the baseline commit's code and with the current
tree's (each in its own interpreter, `bench/sim_worker.py`), hashes every order
row (`repr` of its fields: floats bit for bit) and prints both hashes, the row
counts, and for a mismatch the first row that differs. Exit status 1 on any
mismatch. The LAST line printed is one JSON object.

`--scenarios small-town,erlang-a,city --policies fifo,retention,reserve
[--city-days 30] [--baseline b885b47]`
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from baseline import BASELINE_COMMIT, CURRENT, baseline_tree, run_worker  # type: ignore[import-not-found]


def first_difference(a: list[str], b: list[str]) -> int | None:
    for index, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return index
    return None if len(a) == len(b) else min(len(a), len(b))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="small-town,erlang-a,city")
    parser.add_argument("--policies", default="fifo,retention,reserve")
    parser.add_argument("--city-days", type=float, default=None, help="measured days of city")
    parser.add_argument("--baseline", default=BASELINE_COMMIT)
    args = parser.parse_args(argv)
    old_tree = baseline_tree(args.baseline)
    summary: dict[str, Any] = {"bench": "row_hashes", "baseline": args.baseline}
    mismatches = 0
    for scenario in args.scenarios.split(","):
        days = args.city_days if scenario == "city" else None
        for policy in args.policies.split(","):
            old = run_worker(old_tree, scenario, policy, days)
            new = run_worker(CURRENT, scenario, policy, days)
            same = old["rows_sha256"] == new["rows_sha256"]
            mismatches += not same
            differs_at = first_difference(old["row_digests"], new["row_digests"])
            where = "" if same else f"; first differing row {differs_at}"
            print(f"{scenario:>10} {policy:>9}: {new['rows']:,} rows, baseline {old['rows_sha256'][:16]} "
                  f"now {new['rows_sha256'][:16]} {'identical' if same else 'DIFFERENT'}{where}", flush=True)
            summary[f"{scenario}/{policy}"] = {"rows": new["rows"], "baseline": old["rows_sha256"],
                                               "now": new["rows_sha256"], "identical": same}
    summary["identical"] = mismatches == 0
    print(json.dumps(summary))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
