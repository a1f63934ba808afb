"""Address suggestions per keystroke: the in-memory book against the store scan it replaced.

Builds a book of `--addresses` distinct addresses (streets x house numbers,
Zipf-like use counts, the shape of a firm's pickups) in a fresh SQLite file's
`pickup_addresses`, loads it the way the server does (`AddressIndex.load`),
and replays keystrokes: every prefix of sample addresses, as an operator types
them. For each keystroke it times `AddressBook.suggest` and, on the same
store, the query the console used before (`address_key LIKE '%typed%' ORDER BY
use_count DESC LIMIT 8`, a scan of the table per keystroke). Prints p50/p99
per size and the ratio old/new; the last line is one JSON object.

    python bench/places.py --addresses 10000 100000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlmodel import col, select  # noqa: E402

from api.db import make_engine, make_session_factory, upgrade_database  # noqa: E402
from api.models import Customer, PickupAddress, address_key  # noqa: E402
from api.places.index import AddressIndex  # noqa: E402

KINDS = ["ул.", "пр.", "пер.", "бул."]
STEMS = [
    "Ленина",
    "Малышева",
    "Мира",
    "Луначарского",
    "Белинского",
    "Щорса",
    "Восточная",
    "Куйбышева",
    "Челюскинцев",
]


def street_names(count: int, rng: random.Random) -> list[str]:
    names = set()
    while len(names) < count:
        stem = (
            rng.choice(STEMS)
            + rng.choice(["", "ская", "ова", "ина"])
            + rng.choice(["", f" {rng.randint(1, 30)}-я"])
        )
        names.add(f"{rng.choice(KINDS)} {stem}{rng.randint(1, 99)}")
    return sorted(names)


def fill(url: str, addresses: int, rng: random.Random) -> list[str]:
    streets = street_names(max(1, addresses // 150), rng)
    texts = [f"{s}, {n}" for s in streets for n in range(1, 151)][:addresses]
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        session.add(Customer(id="bench"))
        session.commit()
        rows = [
            {
                "customer_id": "bench",
                "address_key": address_key(t),
                "text": t,
                "lat": 56.8,
                "lon": 60.6,
                "use_count": max(1, int(200 / (1 + rng.paretovariate(1.2)))),
            }
            for t in texts
        ]
        session.execute(PickupAddress.__table__.insert(), rows)  # type: ignore[attr-defined]
        session.commit()
    engine.dispose()
    return texts


def keystrokes(texts: list[str], rng: random.Random, samples: int) -> list[str]:
    typed = []
    for t in rng.sample(texts, min(samples, len(texts))):
        words = t.split(" ", 1)[1]  # operators type the street, not "ул."
        typed.extend(words[:n] for n in range(1, min(len(words), 14) + 1))
    return typed


def timed(fn: Any, queries: list[str]) -> list[float]:
    out = []
    for q in queries:
        start = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - start) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


def run(addresses: int, samples: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'places.db'}"
        upgrade_database(url)
        texts = fill(url, addresses, rng)
        engine = make_engine(url)
        index = AddressIndex(make_session_factory(engine))
        start = time.perf_counter()
        index.load()
        load_s = time.perf_counter() - start
        queries = keystrokes(texts, rng, samples)
        new = timed(lambda q: index.book.suggest(q, 8), queries)
        with make_session_factory(engine)() as session:

            def old(q: str) -> None:
                key = address_key(q)
                query = select(PickupAddress).where(col(PickupAddress.address_key).contains(key))
                session.exec(query.order_by(col(PickupAddress.use_count).desc()).limit(8)).all()

            scan = timed(old, queries)
            plan = session.execute(
                text("EXPLAIN QUERY PLAN SELECT * FROM pickup_addresses WHERE address_key LIKE '%a%'")
            ).all()
        engine.dispose()
    return {
        "addresses": len(index.book),
        "keystrokes": len(queries),
        "load_s": round(load_s, 2),
        "book_p50_ms": round(pct(new, 50), 3),
        "book_p99_ms": round(pct(new, 99), 3),
        "scan_p50_ms": round(pct(scan, 50), 3),
        "scan_p99_ms": round(pct(scan, 99), 3),
        "scan_plan": " / ".join(str(row[-1]) for row in plan),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addresses", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--samples", type=int, default=60, help="addresses typed out, prefix by prefix")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    results = []
    for size in args.addresses:
        r = run(size, args.samples, args.seed)
        results.append(r)
        print(
            f"{r['addresses']:>8} addresses, {r['keystrokes']} keystrokes: book p50 {r['book_p50_ms']} ms "
            f"p99 {r['book_p99_ms']} ms | store scan p50 {r['scan_p50_ms']} ms p99 {r['scan_p99_ms']} ms "
            f"(x{r['scan_p99_ms'] / max(r['book_p99_ms'], 1e-6):.0f} at p99) | load {r['load_s']} s"
            f" | plan: {r['scan_plan']}"
        )
    if len(results) > 1:
        growth = results[-1]["book_p99_ms"] / max(results[0]["book_p99_ms"], 1e-6)
        print(
            f"book p99 grows x{growth:.2f} for "
            f"x{results[-1]['addresses'] / results[0]['addresses']:.0f} addresses"
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
