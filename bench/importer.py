"""Order-export import: validation and store throughput, with a bare-CSV baseline.

`python bench/importer.py [--rows N] [--postgres URL]` writes a synthetic export
(N rows, ~N/8 customers, Russian numbers in mixed spellings, a tenth of rows
failed or cancelled), then measures in one process:
- csv_rows_per_s: a bare `csv.reader` pass over the file (the floor);
- validate_rows_per_s: `read_export` (phone normalisation, times, numbers), and
  its ratio to the bare pass;
- store_rows_per_s on SQLite (and PostgreSQL with --postgres): `store_export`
  plus commit into a freshly migrated database, customers rebuilt included.
The LAST line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from api.db import make_engine, make_session_factory, upgrade_database
from api.import_store import store_export
from api.importer import ImportRow, read_export
from tests.pg_schema import scratch_schema

OUTCOMES = ["completed"] * 18 + ["no_car", "cancelled"]
SPELLINGS = ["8 ({a}) {b}-{c}-{d}", "+7 {a} {b} {c} {d}", "7{a}{b}{c}{d}"]


def write_export(path: Path, rows: int, rng: random.Random) -> None:
    customers = max(rows // 8, 1)
    start = datetime(2025, 1, 1, tzinfo=UTC).timestamp()
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(
            ["phone", "requested_at", "outcome", "fare", "pickup_address", "pickup_lat", "pickup_lon"]
        )
        for _ in range(rows):
            number = f"912{rng.randrange(customers):07d}"
            phone = rng.choice(SPELLINGS).format(a=number[:3], b=number[3:6], c=number[6:8], d=number[8:])
            outcome = rng.choice(OUTCOMES)
            fare = f"{rng.uniform(150, 900):.2f}" if outcome == "completed" else ""
            at = datetime.fromtimestamp(start + rng.uniform(0, 365 * 86400), UTC).isoformat()
            street = f"Lenina {rng.randrange(1, 60)}"
            writer.writerow([phone, at, outcome, fare, street, f"{56.8 + rng.random() / 10:.5f}", "60.6"])


def timed(action: Any) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def store_rate(url: str, rows: list[ImportRow]) -> float:
    upgrade_database(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            elapsed, _ = timed(
                lambda: (
                    store_export(session, rows, file_name="bench.csv", now=datetime.now(UTC)),
                    session.commit(),
                )
            )
    finally:
        engine.dispose()
    return len(rows) / elapsed


def postgres_rate(base: str, rows: list[ImportRow]) -> float:
    with scratch_schema(base, "keepcab_bench") as url:
        return store_rate(url, rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument(
        "--postgres", default=None, help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.csv"
        write_export(path, args.rows, random.Random(7))
        with path.open(encoding="utf-8", newline="") as stream:
            csv_s, _ = timed(lambda: sum(1 for _ in csv.reader(stream)))
        validate_s, export = timed(lambda: read_export(path, "RU", UTC))
        assert not export.problems, export.problems[:3]
        figures: dict[str, Any] = {
            "rows": args.rows,
            "csv_rows_per_s": round(args.rows / csv_s),
            "validate_rows_per_s": round(args.rows / validate_s),
            "validate_vs_csv_ratio": round(csv_s / validate_s, 4),
            "sqlite_store_rows_per_s": round(store_rate(f"sqlite:///{tmp}/bench.db", export.rows)),
        }
        if args.postgres:
            figures["postgres_store_rows_per_s"] = round(postgres_rate(args.postgres, export.rows))
    for name, value in figures.items():
        print(f"{name}: {value}")
    print(json.dumps({"bench_importer": figures}))


if __name__ == "__main__":
    main()
