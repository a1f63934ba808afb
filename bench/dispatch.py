"""Dispatch-core benchmarks: figures and ratios against baselines measured in the same run.

`python bench/dispatch.py [--quick]` prints one human line per figure and, as its
LAST line, one JSON object merging every bench_* result. Times are process CPU
time (the machine is shared, so wall time would measure the neighbours), best of
several runs alternating the contender and its baseline.

bench_queue: OrderQueue push+pop pairs per second on a realistic stream (orders
arriving in due order, a share of them with a head start, ~10,000 waiting at any
time) against a bare heapq of tuples doing the same pushes and pops. The ratio is
what the queue's bookkeeping (duplicate check, validation, live-key dict, lazy
deletion) costs; the target is >= 0.5.

bench_nearest: FreeDriverIndex.nearest lookups per second on 2,000 free cars spread
over a ~45 km city against a brute-force haversine scan of the same fleet, which is
what the index replaces (its answers are identical by construction and by test).

bench_dispatcher (bench/dispatch_latency.py): decision latency on a surge.
bench_batch (bench/dispatch_batch.py): one batch of 1,000 waiting orders and 500
free cars, against greedy matching making the same assignments.
"""

from __future__ import annotations

import argparse
import heapq
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dispatch_batch import bench_batch  # type: ignore[import-not-found]  # bench/ sibling
from dispatch_latency import bench_dispatcher  # type: ignore[import-not-found]  # bench/ sibling

from dispatch.free_index import FreeDriverIndex
from dispatch.geo import haversine_m
from dispatch.model import Position
from dispatch.queue import OrderQueue

QUEUE_TARGET_RATIO = 0.5


def _order_stream(pushes: int, seed: int) -> list[tuple[str, float, float]]:
    """(order_id, due_at, head_start_s): Poisson-ish arrivals, 30% of callers with a head start."""
    rng = random.Random(seed)
    stream = []
    due_at = 0.0
    for number in range(pushes):
        due_at += rng.expovariate(2.0)
        head_start_s = rng.uniform(0.0, 300.0) if rng.random() < 0.3 else 0.0
        stream.append((f"o{number}", due_at, head_start_s))
    return stream


def _run_order_queue(stream: list[tuple[str, float, float]], waiting: int) -> float:
    queue = OrderQueue()
    push = queue.push
    pop = queue.pop
    started = time.process_time()
    for order_id, due_at, head_start_s in stream[:waiting]:
        push(order_id, due_at, head_start_s)
    for order_id, due_at, head_start_s in stream[waiting:]:
        push(order_id, due_at, head_start_s)
        pop()
    return time.process_time() - started


def _run_bare_heapq(stream: list[tuple[str, float, float]], waiting: int) -> float:
    heap: list[tuple[float, int, str]] = []
    heappush = heapq.heappush
    heappop = heapq.heappop
    started = time.process_time()
    seq = 0
    for order_id, due_at, head_start_s in stream[:waiting]:
        heappush(heap, (due_at - head_start_s, seq, order_id))
        seq += 1
    for order_id, due_at, head_start_s in stream[waiting:]:
        heappush(heap, (due_at - head_start_s, seq, order_id))
        seq += 1
        heappop(heap)
    return time.process_time() - started


def bench_queue(quick: bool = False) -> dict[str, Any]:
    """Best of several alternating runs of OrderQueue and bare heapq on one stream."""
    pushes, waiting, repeats = (40_000, 2_000, 7) if quick else (200_000, 10_000, 7)
    stream = _order_stream(pushes, seed=20261123)
    queue_s = bare_s = float("inf")
    for _ in range(repeats):
        queue_s = min(queue_s, _run_order_queue(stream, waiting))
        bare_s = min(bare_s, _run_bare_heapq(stream, waiting))
    pairs = pushes - waiting
    queue_rate = pairs / queue_s
    bare_rate = pairs / bare_s
    ratio = queue_rate / bare_rate
    print(f"OrderQueue: {queue_rate:,.0f} push+pop pairs/s ({pushes:,} pushes, ~{waiting:,} waiting)")
    print(f"bare heapq: {bare_rate:,.0f} push+pop pairs/s (same stream)")
    verdict = "ok" if ratio >= QUEUE_TARGET_RATIO else "BELOW TARGET"
    print(f"ratio OrderQueue/heapq: {ratio:.3f} (target >= {QUEUE_TARGET_RATIO}) {verdict}")
    return {
        "queue_pairs_per_s": round(queue_rate),
        "heapq_pairs_per_s": round(bare_rate),
        "queue_vs_heapq_ratio": round(ratio, 3),
        "queue_target_ratio": QUEUE_TARGET_RATIO,
        "queue_pushes": pushes,
        "queue_waiting": waiting,
    }


def _city_points(count: int, rng: random.Random) -> list[Position]:
    return [Position(59.9 + rng.uniform(-0.2, 0.2), 30.3 + rng.uniform(-0.4, 0.4)) for _ in range(count)]


def bench_nearest(quick: bool = False) -> dict[str, Any]:
    """Nearest free car (k=1, 3 km pickup radius) by the grid index and by a full scan."""
    rng = random.Random(20261124)
    fleet = {f"d{number}": where for number, where in enumerate(_city_points(2_000, rng))}
    queries = _city_points(500 if quick else 3_000, rng)
    index = FreeDriverIndex(cell_m=500.0)
    for driver_id, where in fleet.items():
        index.upsert(driver_id, where)
    started = time.process_time()
    for p in queries:
        index.nearest(p, 1, 3_000.0)
    index_rate = len(queries) / (time.process_time() - started)
    scanned = queries[: len(queries) // 10]
    started = time.process_time()
    for p in scanned:
        min((haversine_m(p, where), driver_id) for driver_id, where in fleet.items())
    scan_rate = len(scanned) / (time.process_time() - started)
    print(f"FreeDriverIndex.nearest: {index_rate:,.0f} lookups/s (2,000 free cars, 500 m cells)")
    print(f"brute-force scan: {scan_rate:,.0f} lookups/s; speed-up {index_rate / scan_rate:.1f}x")
    return {
        "nearest_lookups_per_s": round(index_rate),
        "scan_lookups_per_s": round(scan_rate),
        "nearest_speedup": round(index_rate / scan_rate, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run for smoke checks")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"quick": args.quick}
    results.update(bench_queue(quick=args.quick))
    results.update(bench_nearest(quick=args.quick))
    results.update(bench_dispatcher(quick=args.quick))
    results.update(bench_batch(quick=args.quick))
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
