"""Dispatch-core benchmarks: figures and ratios against baselines measured in the same run.

`python bench/dispatch.py [--quick]` prints one human line per figure and, as its
LAST line, one JSON object merging every bench_* result.

bench_queue: OrderQueue push+pop pairs per second on a realistic stream (orders
arriving in due order, a share of them with a head start, ~10,000 waiting at any
time) against a bare heapq of tuples doing the same pushes and pops. The ratio is
what the queue's bookkeeping (duplicate check, validation, live-key dict, lazy
deletion) costs; the target is >= 0.5.
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
    started = time.perf_counter()
    for order_id, due_at, head_start_s in stream[:waiting]:
        push(order_id, due_at, head_start_s)
    for order_id, due_at, head_start_s in stream[waiting:]:
        push(order_id, due_at, head_start_s)
        pop()
    return time.perf_counter() - started


def _run_bare_heapq(stream: list[tuple[str, float, float]], waiting: int) -> float:
    heap: list[tuple[float, int, str]] = []
    heappush = heapq.heappush
    heappop = heapq.heappop
    started = time.perf_counter()
    seq = 0
    for order_id, due_at, head_start_s in stream[:waiting]:
        heappush(heap, (due_at - head_start_s, seq, order_id))
        seq += 1
    for order_id, due_at, head_start_s in stream[waiting:]:
        heappush(heap, (due_at - head_start_s, seq, order_id))
        seq += 1
        heappop(heap)
    return time.perf_counter() - started


def bench_queue(quick: bool = False) -> dict[str, Any]:
    """Best of several alternating runs of OrderQueue and bare heapq on one stream."""
    pushes, waiting, repeats = (40_000, 2_000, 3) if quick else (200_000, 10_000, 5)
    stream = _order_stream(pushes, seed=20261123)
    queue_s = bare_s = float("inf")
    for _ in range(repeats):
        queue_s = min(queue_s, _run_order_queue(stream, waiting))
        bare_s = min(bare_s, _run_bare_heapq(stream, waiting))
    pairs = pushes - waiting
    queue_rate = pairs / queue_s
    bare_rate = pairs / bare_s
    ratio = queue_rate / bare_rate
    print(
        f"OrderQueue: {queue_rate:,.0f} push+pop pairs/s ({pushes:,} pushes, ~{waiting:,} waiting)"
    )
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


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller run for smoke checks")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"quick": args.quick}
    results.update(bench_queue(quick=args.quick))
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
