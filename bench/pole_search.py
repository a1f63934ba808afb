"""Issue 10's polar freeze: cells read and decision time near the poles against 55 N.

A dispatcher holds 130 orders queued in distinct 1 km cells around Moscow; a
driver comes online (and goes offline again) at a position with no order in
reach, so the freed car's search reads its whole search box and finds nothing.
Positions: a sweep of latitudes from 80 to 90 N and S (every 0.01 degree, at
longitudes 37.6 and 180) to find the one that reads most cells, the reported
freeze (89.5, 37.6), the poles, and 55 N (the same search at a city latitude).
Per position: cells read (dict look-ups of the waiting index) and CPU
microseconds per DriverOnline decision (median of 7 batches of 200).
`python bench/pole_search.py`; the LAST line is one JSON object.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dispatch.commands import DriverOffline, DriverOnline
from dispatch.engine import Dispatcher
from dispatch.model import Position
from tests.dispatch.polar_case import CountingCells, count_waiting_reads, queued_in_moscow


def cells_read(dispatcher: Dispatcher, counting: CountingCells, p: Position) -> int:
    before = counting.reads
    dispatcher.handle(DriverOnline("probe", p), 1.0)
    dispatcher.handle(DriverOffline("probe"), 1.0)
    return counting.reads - before


def decision_us(dispatcher: Dispatcher, p: Position, batches: int = 7, per_batch: int = 200) -> float:
    times = []
    for _ in range(batches):
        started = time.process_time()
        for _ in range(per_batch):
            dispatcher.handle(DriverOnline("probe", p), 1.0)
            dispatcher.handle(DriverOffline("probe"), 1.0)
        times.append((time.process_time() - started) / per_batch * 1e6)
    return statistics.median(times)


def main() -> None:
    dispatcher = queued_in_moscow()
    counting = count_waiting_reads(dispatcher)
    sweep = [Position(sign * (80.0 + i / 100.0), lon)
             for sign in (1, -1) for i in range(1001) for lon in (37.6, 180.0)]
    worst = max(sweep, key=lambda p: cells_read(dispatcher, counting, p))
    named = {"worst of sweep": worst, "reported (89.5, 37.6)": Position(89.5, 37.6),
             "north pole": Position(90.0, 0.0), "south pole, antimeridian": Position(-90.0, 180.0),
             "55 N": Position(55.0, 37.6)}
    summary: dict[str, Any] = {"bench": "pole_search", "orders_queued": 130, "radius_m": 5000.0}
    for label, p in named.items():
        cells = cells_read(dispatcher, counting, p)
        micros = decision_us(dispatcher, p)
        summary[label] = {"lat": p.lat, "lon": p.lon, "cells_read": cells, "decision_us": round(micros, 1)}
        print(f"{label:>26} ({p.lat:.2f}, {p.lon:.1f}): {cells} cells read, {micros:.1f} us CPU "
              "per online+offline", flush=True)
    base = summary["55 N"]
    for label in named:
        summary[label]["vs_55N_cells"] = round(summary[label]["cells_read"] / base["cells_read"], 2)
        summary[label]["vs_55N_time"] = round(summary[label]["decision_us"] / base["decision_us"], 2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
