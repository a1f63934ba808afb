"""Time to calibrate a 200,000-order log (issue 12): read + validate the CSV, then every fit.

    python bench/calibrate_speed.py [--orders 200000]

The log is synthetic (numpy, seeded): Gamma-Poisson callers in four areas, 85%
completed, 10% abandoned, 5% no car, 200 drivers in two shifts. Prints seconds
for reading and for calibrating separately (a single run on a shared machine:
a figure, not a threshold).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.log_source import read_csv_log
from simulator.calibration.build import calibrate
from simulator.calibration.churn import fit_churn, window_days
from simulator.calibration.evidence import log_arrays

EPOCH = datetime(2026, 1, 5)


def iso(seconds: float) -> str:
    return (EPOCH + timedelta(seconds=float(seconds))).isoformat(timespec="seconds")


def write_log(directory: Path, orders: int, rng: np.random.Generator) -> None:
    weeks, customers = 8, int(orders / 8 / 0.6)
    rates = rng.gamma(0.6, 1.0, customers)  # mean 0.6 per week
    counts = rng.poisson(rates * weeks)
    owner = np.repeat(np.arange(customers), counts)[:orders]
    t = np.sort(rng.uniform(0, weeks * 7 * 86_400, len(owner)))
    centres = np.array([[50.06, 19.94], [50.07, 19.99], [50.10, 19.95], [50.02, 19.96]])
    area = rng.integers(0, 4, len(owner))
    lat = centres[area, 0] + rng.normal(0, 0.008, len(owner))
    lon = centres[area, 1] + rng.normal(0, 0.012, len(owner))
    roll = rng.uniform(size=len(owner))
    pickup_s, trip_s = rng.exponential(300, len(owner)), rng.lognormal(6.6, 0.5, len(owner))
    with (directory / "orders.csv").open("w", newline="", encoding="utf-8") as stream:
        out = csv.writer(stream)
        out.writerow(
            [
                "phone",
                "customer_id",
                "requested_at",
                "outcome",
                "fare",
                "pickup_lat",
                "pickup_lon",
                "assigned_at",
                "picked_up_at",
                "ended_at",
                "driver_id",
            ]
        )
        for i in range(len(owner)):
            at = t[i]
            driver = f"d{rng.integers(200)}"
            if roll[i] < 0.85:
                end = at + pickup_s[i] + trip_s[i]
                row = [
                    "completed",
                    f"{3 + 0.8 * trip_s[i] / 60:.2f}",
                    iso(at),
                    iso(at + pickup_s[i]),
                    iso(end),
                    driver,
                ]
            elif roll[i] < 0.95:
                row = ["abandoned", "", iso(at), "", iso(at + pickup_s[i] * 2), driver]
            else:
                row = ["no_car", "", "", "", iso(at), ""]
            out.writerow(
                ["", f"u{owner[i]}", iso(at), row[0], row[1], f"{lat[i]:.6f}", f"{lon[i]:.6f}", *row[2:]]
            )
    with (directory / "drivers.csv").open("w", newline="", encoding="utf-8") as stream:
        out = csv.writer(stream)
        out.writerow(["driver_id", "online_at", "offline_at"])
        for d in range(200):
            start = 6 * 3600 if d < 120 else 16 * 3600
            for day in range(weeks * 7):
                out.writerow([f"d{d}", iso(day * 86_400 + start), iso(day * 86_400 + start + 10 * 3600)])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--orders", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        write_log(directory, args.orders, np.random.default_rng(12))
        started = time.perf_counter()
        source = read_csv_log(directory / "orders.csv", ZoneInfo("UTC"), "RU", directory / "drivers.csv")
        read_s = time.perf_counter() - started
        started = time.perf_counter()
        result = calibrate(source)
        fit_s = time.perf_counter() - started
        log = log_arrays(source)
        started = time.perf_counter()
        fit_churn(log, window_days(log))  # the churn step alone, again (its share of calibrate)
        churn_s = time.perf_counter() - started
    print(
        f"orders {len(source.orders):,}  customers {result.population.seen if result.population else 0:,}  "
        f"read+validate {read_s:.1f} s  calibrate {fit_s:.1f} s (churn fit {churn_s:.1f} s)  "
        f"total {read_s + fit_s:.1f} s"
    )
    print(
        json.dumps({"orders": len(source.orders), "read_s": read_s, "calibrate_s": fit_s, "churn_s": churn_s})
    )


if __name__ == "__main__":
    main()
