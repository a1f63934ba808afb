"""The waiting-order heap: a head start, never a re-sorted list.

Every order is keyed once, at enqueue, by `(effective_at, seq)` with
`effective_at = due_at - head_start_s`. Everyone ages at the same rate, so the
passage of time never changes the relative order of two keys and the heap never
needs re-sorting; a loyal caller is served "as if they had called head_start_s
earlier".

Starvation guarantee: because every head start lies in `[0, max_head_start_s]`,
an order can be overtaken only by orders due at most `max_head_start_s` after it.
If A leaves the queue before B while both wait, then
`due_A - h_A <= due_B - h_B`, hence `due_A <= due_B + h_A - h_B <= due_B + max_head_start_s`.
Consequently no order waits more than `max_head_start_s` longer than it would
under plain FIFO by due time.

Cancellation and re-prioritisation are lazy: the live key of every order sits in
a dict, and a heap entry that is not the live one (a tombstone) is skipped when it
surfaces. When a remove or re-prioritisation leaves tombstones making up more than
half the heap, the heap is rebuilt from the dict, so memory and pop cost stay
proportional to the live orders (pops only ever shed tombstones, so they need no check).

Heap entries are plain tuples `(effective_at, seq, order_id, due_at, head_start_s)`
(the last two ride along for re-prioritisation and the console; comparisons never
reach them while seqs are unique) and the dict holds the very tuple object that is
live, so telling a live entry from a tombstone is an identity check: one tuple per
push, no per-entry objects, nothing allocated on pop.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from heapq import heapify, heappop, heappush

_Entry = tuple[float, int, str, float, float]


class OrderQueue:
    """Waiting orders in the order cars will be given to them.

    `seq` breaks ties between equal `effective_at`. The engine passes one global
    arrival counter to every queue it owns (one per grid cell) so that they all
    share one total order; when `seq` is omitted the queue numbers pushes itself.
    Do not mutate the queue while iterating over it.
    """

    __slots__ = ("_heap", "_live", "_max_head_start_s", "_next_seq")

    def __init__(self, max_head_start_s: float = 300.0) -> None:
        if not 0.0 <= max_head_start_s < math.inf:
            raise ValueError(f"max_head_start_s must be finite and >= 0, got {max_head_start_s!r}")
        self._max_head_start_s = float(max_head_start_s)
        self._heap: list[_Entry] = []
        self._live: dict[str, _Entry] = {}
        self._next_seq = 0

    @property
    def max_head_start_s(self) -> float:
        return self._max_head_start_s

    def push(self, order_id: str, due_at: float, head_start_s: float = 0.0, seq: int | None = None) -> float:
        """Enqueue an order and return its effective_at; the key is frozen from now on."""
        if not 0.0 <= head_start_s <= self._max_head_start_s:
            raise ValueError(f"head_start_s must be in [0, {self._max_head_start_s}], got {head_start_s!r}")
        if due_at != due_at:
            raise ValueError(f"due_at must be a number, got {due_at!r}")
        next_seq = self._next_seq
        if seq is None:
            seq = next_seq
        entry = (due_at - head_start_s, seq, order_id, due_at, head_start_s)
        if self._live.setdefault(order_id, entry) is not entry:
            raise ValueError(f"order {order_id!r} is already queued")
        if seq >= next_seq:
            self._next_seq = seq + 1
        heappush(self._heap, entry)
        return entry[0]

    def pop(self) -> str:
        """Remove and return the best waiting order, skipping tombstones as they surface."""
        heap = self._heap
        live = self._live
        while heap:
            entry = heappop(heap)
            order_id = entry[2]
            current = live.pop(order_id, None)
            if current is entry:
                return order_id
            if current is not None:  # a tombstone of a re-prioritised order: keep the live one
                live[order_id] = current
        raise IndexError("pop from an empty OrderQueue")

    def head_entry(self) -> _Entry | None:
        """The best waiting order's live heap entry `(effective_at, seq, order_id, due_at,
        head_start_s)`, or None: the cheapest look at the head (tombstones on top are
        dropped). A freed car's search reads every head in its box, a few per order, so
        this is the loop itself, not a call to it."""
        heap = self._heap
        live = self._live
        while heap:
            head = heap[0]
            if live.get(head[2]) is head:
                return head
            heappop(heap)
        return None

    def peek(self) -> str | None:
        """The best waiting order without removing it, or None when nothing waits."""
        head = self.head_entry()
        return None if head is None else head[2]

    def peek_key(self) -> tuple[float, int] | None:
        """`(effective_at, seq)` of the best waiting order, or None when nothing waits."""
        head = self.head_entry()
        return None if head is None else (head[0], head[1])

    def remove(self, order_id: str) -> None:
        """Withdraw an order (cancelled, abandoned, assigned elsewhere) in O(1) amortised."""
        if order_id not in self._live:
            raise KeyError(order_id)
        del self._live[order_id]
        self._compact_if_mostly_stale()

    def reprioritise(self, order_id: str, head_start_s: float) -> float:
        """Give a waiting order a new head start; it keeps its due_at and its seq.

        The new key is pushed and the old entry becomes a tombstone, so this is
        O(log n) and never re-sorts the heap.
        """
        old = self._live.get(order_id)
        if old is None:
            raise KeyError(order_id)
        if not 0.0 <= head_start_s <= self._max_head_start_s:
            raise ValueError(f"head_start_s must be in [0, {self._max_head_start_s}], got {head_start_s!r}")
        due_at = old[3]
        effective_at = due_at - head_start_s
        entry = (effective_at, old[1], order_id, due_at, head_start_s)
        self._live[order_id] = entry
        heappush(self._heap, entry)
        self._compact_if_mostly_stale()
        return effective_at

    def _compact_if_mostly_stale(self) -> None:
        heap = self._heap
        if 2 * (len(heap) - len(self._live)) > len(heap):
            heap[:] = self._live.values()
            heapify(heap)

    def key_of(self, order_id: str) -> tuple[float, int]:
        entry = self._live[order_id]
        return entry[0], entry[1]

    def head_start_of(self, order_id: str) -> float:
        return self._live[order_id][4]

    def due_at_of(self, order_id: str) -> float:
        return self._live[order_id][3]

    def __contains__(self, order_id: object) -> bool:
        return order_id in self._live

    def __len__(self) -> int:
        return len(self._live)

    def __iter__(self) -> Iterator[str]:
        """Order ids in service order, without touching the heap."""
        for entry in self.in_service_order():
            yield entry[2]

    def in_service_order(self) -> Iterator[tuple[float, int, str]]:
        """`(effective_at, seq, order_id)` in service order, without touching the heap.

        The heap array is walked as the tree it is, with a small frontier heap of
        indices: the first k orders cost O(k log k), so the console can show the
        head of a long queue cheaply.
        """
        heap = self._heap
        live = self._live
        size = len(heap)
        if not size:
            return
        frontier: list[tuple[_Entry, int]] = [(heap[0], 0)]
        while frontier:
            entry, index = heappop(frontier)
            if live.get(entry[2]) is entry:
                yield entry[0], entry[1], entry[2]
            for child in (2 * index + 1, 2 * index + 2):
                if child < size:
                    heappush(frontier, (heap[child], child))

    @property
    def heap_size(self) -> int:
        """Entries in the heap including tombstones (for tests and metrics)."""
        return len(self._heap)
