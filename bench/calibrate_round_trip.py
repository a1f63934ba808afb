"""Figures for issue 12: per round-trip scenario the true and recovered value of every
parameter with its interval, the policy ranking true vs calibrated, one report headline.

    python bench/calibrate_round_trip.py [--replications 8] [--days 14] [--log-days 21] [--no-ranking]

`--log-days` sets how long the simulated firm is logged (the scenarios' own 21 days by
default; 84 shows what twelve weeks identify, docs/calibrate.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.log_source import read_csv_log
from simulator.api import compare
from simulator.calibration.build import calibrate
from simulator.calibration.firm_rules import SETTING_OF, FirmRules
from simulator.calibration.report import write_report
from simulator.calibration.toml_out import scenario_toml
from simulator.export_log import export_logs
from simulator.scenario import Scenario, load_scenario, parse_scenario

HERE = Path(__file__).parent.parent / "tests" / "simulator" / "calibration"
SINCE = datetime(2026, 1, 5, tzinfo=UTC).timestamp()


def truths(s: Scenario) -> dict[tuple[str, str], object]:
    d, t, p, c = s.demand, s.trips, s.patience, s.churn
    return {
        ("demand", "customers"): d.customers,
        ("demand", "trips_per_week_mean"): d.trips_per_week_mean,
        ("demand", "trips_per_week_shape"): d.trips_per_week_shape,
        ("demand", "new_customers_per_day"): d.new_customers_per_day,
        ("demand", "retry_probability"): d.retry_probability,
        ("demand", "retry_delay"): d.retry_delay.mean_min,
        ("trips", "duration"): t.duration.mean_min,
        ("trips", "fare_base"): t.fare_base,
        ("trips", "fare_per_min"): t.fare_per_min,
        ("patience", "wait"): f"{p.wait.kind} {p.wait.mean_min}",
        ("fleet", "cars"): s.fleet.cars,
        ("fleet", "shifts"): [(x.start_h, x.hours, x.share) for x in s.fleet.shifts],
        ("city", "zones"): [(z.lat, z.lon, z.radius_m, z.weight) for z in s.city.zones],
        ("churn", "rise_per_failure_per_week"): c.rise_per_failure_per_week,
        ("churn", "first_failure_leave_probability"): c.first_failure_leave_probability,
        ("churn", "prior_trips_halving"): c.prior_trips_halving,
        ("churn", "base_departures_per_year"): c.base_departures_per_year,
        ("churn", "memory_half_life_days"): c.memory_half_life_days,
    }


def ranking(scenario: Scenario, replications: int, days: float) -> dict[tuple[str, str], tuple[float, ...]]:
    comparison = compare(scenario, ["fifo", "reject", "retention"], replications=replications, days=days)
    out = {}
    for label in ("reject", "retention"):
        for key in ("lost.count", "lost_future_revenue"):
            diff = comparison.difference(label, key)
            assert diff is not None
            out[(label, key)] = (diff.mean, diff.low, diff.high)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--replications", type=int, default=8)
    parser.add_argument("--days", type=float, default=14.0)
    parser.add_argument("--log-days", type=float, default=None)
    parser.add_argument("--no-ranking", action="store_true")
    args = parser.parse_args()
    summary: dict[str, object] = {}
    for name in ("river-town", "hill-city"):
        truth = load_scenario(HERE / f"{name}.toml")
        if args.log_days:
            truth = truth.model_copy(update={"horizon_days": args.log_days})
        with tempfile.TemporaryDirectory() as tmp:
            export_logs(truth, ["fifo"], Path(tmp))
            source = read_csv_log(Path(tmp) / "orders.csv", ZoneInfo("UTC"), "RU", Path(tmp) / "drivers.csv")
            # the firm knows its own rules (pickup radius, max wait...): calibrate reads them from
            # KEEPCAB_*; here they are the truth's, as a firm's live settings would be
            firm = FirmRules(truth.dispatch.config(), frozenset(SETTING_OF.values()))
            result = calibrate(source, since=SINCE, firm=firm)
            write_report(result, Path(tmp) / "report")
            headline = (Path(tmp) / "report" / "report.md").read_text().splitlines()[2:4]
        print(f"\n## {name}\n\n| parameter | true | recovered (95% interval) |\n|---|---|---|")
        for (section, key), true in truths(truth).items():
            estimate = result.sections[section][key]
            shown = estimate.value if isinstance(estimate.value, list | dict) else ""
            print(f"| {section}.{key} | {true} | {shown} {estimate.comment()[:120]} |")
        print("\nheadline:", *headline, sep="\n")
        if args.no_ranking:
            continue
        calibrated = parse_scenario(scenario_toml(result))
        true_rank = ranking(truth, args.replications, args.days)
        cal_rank = ranking(calibrated, args.replications, args.days)
        print("\n| policy - fifo | metric | true mean (95%) | calibrated mean (95%) |\n|---|---|---|---|")
        for k, v in true_rank.items():
            w = cal_rank[k]
            print(
                f"| {k[0]} | {k[1]} | {v[0]:.1f} ({v[1]:.1f}..{v[2]:.1f}) "
                f"| {w[0]:.1f} ({w[1]:.1f}..{w[2]:.1f}) |"
            )
            summary[f"{name}:{k[0]}:{k[1]}"] = {"true": v, "calibrated": w}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
