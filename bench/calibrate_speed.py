"""Time to calibrate a 200,000-order log (issue 12): read + validate the CSV, then every fit.

    python bench/calibrate_speed.py [--orders 200000]

The log is synthetic (numpy, seeded): Gamma-Poisson callers in four areas, 85%
completed, 10% abandoned, 5% no car, 200 drivers in two shifts. Prints seconds
for reading and for calibrating separately (a single run on a shared machine:
a figure, not a threshold).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.log_source import read_csv_log
from simulator.calibration.build import calibrate
from simulator.calibration.churn import fit_churn, window_days
from simulator.calibration.evidence import log_arrays
from simulator.export_log import ORDER_COLUMNS, wall_clock, write_log_files

WEEKS = 8


def order_rows(orders: int, rng: np.random.Generator) -> Iterator[tuple[str, ...]]:
    weeks, customers = WEEKS, int(orders / WEEKS / 0.6)
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
    for i in range(len(owner)):
        at = float(t[i])
        cells = dict.fromkeys(ORDER_COLUMNS, "")
        cells.update(customer_id=f"u{owner[i]}", requested_at=wall_clock(at))
        cells.update(pickup_lat=f"{lat[i]:.6f}", pickup_lon=f"{lon[i]:.6f}")
        driver = f"d{rng.integers(200)}"
        if roll[i] < 0.85:
            cells.update(outcome="completed", fare=f"{3 + 0.8 * trip_s[i] / 60:.2f}", driver_id=driver)
            cells.update(assigned_at=wall_clock(at), picked_up_at=wall_clock(at + pickup_s[i]))
            cells.update(ended_at=wall_clock(at + pickup_s[i] + trip_s[i]))
        elif roll[i] < 0.95:
            cells.update(outcome="abandoned", assigned_at=wall_clock(at), driver_id=driver)
            cells.update(ended_at=wall_clock(at + pickup_s[i] * 2))
        else:
            cells.update(outcome="no_car", ended_at=wall_clock(at))
        yield tuple(cells[name] for name in ORDER_COLUMNS)


def shifts() -> Iterator[tuple[str, float, float]]:
    """200 drivers: 120 on from 06:00, 80 from 16:00, ten hours a day."""
    for day in range(WEEKS * 7):
        for d in range(200):
            start = day * 86_400 + (6 * 3600 if d < 120 else 16 * 3600)
            yield f"d{d}", float(start), float(start + 10 * 3600)


def write_log(directory: Path, orders: int, rng: np.random.Generator) -> None:
    write_log_files(directory, order_rows(orders, rng), shifts())


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
