"""Issue 10's polar freeze as a reusable case: the test and bench/pole_search.py build the
same dispatcher, so the bench measures exactly what the test guards."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dispatch.free_index as free_index_module
from dispatch.commands import PlaceOrder
from dispatch.engine import DispatchConfig, Dispatcher
from dispatch.model import Order, Position
from dispatch.policies import make_policy
from dispatch.waiting import WaitingOrders


class CountingCells(dict[Any, Any]):
    """An index's cell dict that counts the cells a search reads."""

    reads = 0

    def get(self, key: Any, default: Any = None) -> Any:
        self.reads += 1
        return super().get(key, default)

    def values(self) -> Any:
        self.reads += len(self)
        return super().values()

    def items(self) -> Any:
        self.reads += len(self)
        return super().items()


@contextmanager
def bucket_reads(index: free_index_module.FreeDriverIndex) -> Iterator[list[int]]:
    """Count the cell buckets a free-car index's lookups read, empty ones included, in
    `reads[0]`: a kept ring hands its buckets to the pass with no dict look-up, so counting
    `get` calls would miss them. The scan of the whole fleet (one dict) reads no bucket."""
    original = free_index_module.collect
    reads = [0]

    def counting(query: Any, cells: Any, k: int, radius_m: float, best: Any) -> None:
        cells = list(cells)
        reads[0] += sum(1 for bucket in cells if bucket is not index.ids)
        original(query, cells, k, radius_m, best)

    free_index_module.collect = counting  # type: ignore[assignment]
    try:
        yield reads
    finally:
        free_index_module.collect = original


def moscow_cells(count: int) -> list[Position]:
    """`count` points in distinct 1 km cells around Moscow, as in the reported freeze."""
    side = math.ceil(math.sqrt(count))
    return [Position(55.70 + 0.011 * (i // side), 37.50 + 0.02 * (i % side)) for i in range(count)]


def queued_in_moscow(count: int = 130) -> Dispatcher:
    """A dispatcher with `count` orders queued in distinct 1 km cells around Moscow."""
    dispatcher = Dispatcher(make_policy("fifo"), config=DispatchConfig(pickup_radius_m=5000.0))
    for i, where in enumerate(moscow_cells(count)):
        dispatcher.handle(PlaceOrder(Order(f"o{i}", None, where, 0.0)), 0.0)
    assert dispatcher.queue_length == count
    return dispatcher


def count_waiting_reads(dispatcher: Dispatcher) -> CountingCells:
    """Swap the waiting index's cells for a counting copy and return it."""
    waiting = dispatcher._match.waiting
    assert isinstance(waiting, WaitingOrders)
    waiting._cells = counting = CountingCells(waiting._cells)
    return counting
