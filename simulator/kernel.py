"""The discrete-event kernel: one heap, SimPy's ordering, nothing else.

SimPy's `core.py` is the model: every event is keyed `(time, priority,
counter)`, so events at the same time run by priority and then in the order
they were scheduled, and a run is a deterministic function of its seed. What
SimPy adds on top (generator processes, event objects with callback lists,
conditions) costs most of its time per event; the simulator's model is
written as plain callbacks, so the kernel keeps only the heap.

Heap entries are lists `[at, priority, counter, callback, arg]`: lists
compare element-wise in C (no Python `__lt__`), the unique counter stops a
comparison before it reaches the callback, and cancelling an event just
clears its callback slot (lazy deletion; the popped tombstone is skipped).
Cancelling clears the argument too: a model object that keeps the handle of
its own pending event (a trip and its arrival) would otherwise sit in a
reference cycle with it until the tombstone is popped, and the model's runs
must make no cycles at all (`cyclic_gc_paused`).
"""

from __future__ import annotations

import gc
import heapq
import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import numpy as np

URGENT = 0
NORMAL = 1

_T = TypeVar("_T")

EventHandle = list[Any]
"""What `schedule` returns; pass it to `Kernel.cancel`. Do not mutate it."""


class Kernel:
    """An event loop on simulated seconds."""

    __slots__ = ("_counter", "_queue", "events_run", "now")

    def __init__(self, start_at: float = 0.0) -> None:
        self.now = start_at
        self.events_run = 0
        self._queue: list[EventHandle] = []
        self._counter = itertools.count()

    def schedule(self, at: float, callback: Callable[[_T], object], arg: _T,
                 priority: int = NORMAL) -> EventHandle:
        """Run `callback(arg)` at time `at` (never in the past)."""
        if at < self.now:
            raise ValueError(f"cannot schedule at {at} before now ({self.now})")
        entry: EventHandle = [at, priority, next(self._counter), callback, arg]
        heapq.heappush(self._queue, entry)
        return entry

    def heap_and_counter(self) -> tuple[list[EventHandle], Iterator[int]]:
        """The heap and the tie-break counter, for a model that pushes its own entries on
        its innermost path (a trip's arrival and end, the next call): a `schedule` call
        costs a Python frame there, 1.5% of an Erlang A run's instructions for the three
        together (callgrind, session 9). Such a caller pushes
        exactly what `schedule` would, `[at, priority, next(counter), callback, arg]`, and
        only with `at >= now`, which `schedule` would otherwise check."""
        return self._queue, self._counter

    @staticmethod
    def cancel(handle: EventHandle) -> None:
        """Forget a scheduled event; cancelling twice or after it ran does nothing."""
        handle[3] = handle[4] = None

    def peek(self) -> float:
        """Time of the next live event, or infinity when nothing is scheduled."""
        queue = self._queue
        while queue and queue[0][3] is None:
            heapq.heappop(queue)
        return queue[0][0] if queue else math.inf

    def step(self) -> None:
        """Run the next live event; raises IndexError when nothing is scheduled."""
        if self.peek() == math.inf:
            raise IndexError("no events scheduled")
        at, _, _, callback, arg = heapq.heappop(self._queue)
        self.now = at
        self.events_run += 1
        callback(arg)

    def run(self, until: float = math.inf) -> None:
        """Run every event strictly before `until`, then set the clock to `until`.

        Like SimPy, an event at exactly `until` is left for the next run, so
        consecutive runs over [0, t1) and [t1, t2) equal one run over [0, t2).
        This loop is the simulator's hot path: locals instead of attributes.
        """
        queue = self._queue
        pop = heapq.heappop
        ran = 0
        while queue and queue[0][0] < until:
            at, _, _, callback, arg = pop(queue)
            if callback is None:
                continue
            self.now = at
            ran += 1
            callback(arg)
        self.events_run += ran
        if until != math.inf:
            self.now = max(self.now, until)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Run a block with CPython's cyclic garbage collector paused, then restore it.

    A run allocates a few objects per event that outlive a young collection
    (orders, trips, heap entries, rows); the collector scans every such object
    again in each generation it passes through, which measured 7-9% of a `city`
    run's CPU and bought nothing: reference counting frees everything a run
    makes, because a run makes no reference cycles (tests/simulator/
    test_gc_pause.py runs every bundled scenario and finds no cyclic garbage).
    A cycle added later would leak only until the block ends, when the
    collector resumes. The state is restored as found, so a caller that had
    paused it already keeps it paused.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class RandomStreams:
    """One independent numpy Generator per source of randomness, all from one seed.

    Streams are spawned from `SeedSequence(seed)` in the order of `names`,
    so a stream's numbers depend only on the seed and its position: two
    policies run with the same seed see the same arrivals, patiences and
    trip lengths as long as each stream is consumed in the same order
    (common random numbers). Append new names at the end to keep old runs
    reproducible.
    """

    __slots__ = ("_generators",)

    def __init__(self, seed: int, names: Sequence[str]) -> None:
        if len(set(names)) != len(names):
            raise ValueError(f"stream names must be unique: {list(names)}")
        children = np.random.SeedSequence(seed).spawn(len(names))
        self._generators = {name: np.random.Generator(np.random.PCG64(child))
                            for name, child in zip(names, children, strict=True)}

    def __getitem__(self, name: str) -> np.random.Generator:
        return self._generators[name]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._generators)


class BufferedDraws:
    """Scalar draws served from arrays drawn in batches.

    A scalar `Generator` call costs around a microsecond, as much as a whole
    kernel event; drawing a few thousand at once and popping them from a
    Python list costs a few tens of nanoseconds per number. The sequence is
    the generator's own, so it is reproducible from the seed.

    `buffer` holds the numbers still to serve, the next one last. A hot caller
    may `pop()` it directly while it is not empty and call `next()` when it is:
    the same sequence, without a Python call per number.
    """

    __slots__ = ("_batch", "_draw", "_rng", "buffer")

    def __init__(self, rng: np.random.Generator,
                 draw: Callable[[np.random.Generator, int], np.ndarray[Any, Any]],
                 batch: int = 4096) -> None:
        self._rng = rng
        self._draw = draw
        self._batch = batch
        self.buffer: list[float] = []  # always this one list: see the class docstring

    def next(self) -> float:
        buffer = self.buffer
        if not buffer:
            buffer.extend(reversed(self._draw(self._rng, self._batch).tolist()))
        return buffer.pop()


def standard_exponentials(rng: np.random.Generator, size: int) -> np.ndarray[Any, Any]:
    """Exponentials of mean 1; scale by the mean at the point of use."""
    return rng.standard_exponential(size)


def uniforms(rng: np.random.Generator, size: int) -> np.ndarray[Any, Any]:
    return rng.random(size)
