"""OrderQueue: head-start ordering, lazy deletion, iteration and the starvation bound."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.queue import OrderQueue


def drain(queue: OrderQueue) -> list[str]:
    return [queue.pop() for _ in range(len(queue))]


def test_fifo_when_no_head_starts() -> None:
    """Without head starts orders leave in due order, equal dues in push order."""
    queue = OrderQueue()
    for number, due_at in enumerate([10.0, 5.0, 20.0, 5.0, 7.0]):
        queue.push(f"o{number}", due_at)
    assert drain(queue) == ["o1", "o3", "o4", "o0", "o2"]


def test_head_start_moves_an_order_ahead() -> None:
    """An order served 'as if it had called head_start_s earlier' overtakes later keys only."""
    queue = OrderQueue()
    queue.push("early", 100.0)
    queue.push("mid", 150.0)
    assert queue.push("loyal", 200.0, head_start_s=60.0) == 140.0
    assert drain(queue) == ["early", "loyal", "mid"]


def test_ties_broken_by_seq() -> None:
    """Equal effective_at is broken by the seq passed in, not by push order or id."""
    queue = OrderQueue()
    queue.push("b", 100.0, 0.0, seq=7)
    queue.push("a", 130.0, 30.0, seq=3)
    queue.push("c", 110.0, 10.0, seq=5)
    assert queue.peek_key() == (100.0, 3)
    assert drain(queue) == ["a", "c", "b"]


def test_own_counter_continues_after_explicit_seq() -> None:
    """When seq is omitted the queue numbers pushes after the largest seq it has seen."""
    queue = OrderQueue()
    queue.push("x", 1.0, seq=41)
    queue.push("y", 1.0)
    assert queue.key_of("y") == (1.0, 42)


def test_remove_contains_len_and_accessors() -> None:
    """Removed orders vanish from len, membership and pops; accessors report the stored terms."""
    queue = OrderQueue()
    queue.push("a", 10.0, 5.0)
    queue.push("b", 20.0)
    queue.push("c", 30.0, 25.0)
    assert (queue.due_at_of("c"), queue.head_start_of("c")) == (30.0, 25.0)
    assert queue.key_of("c") == (5.0, 2)
    queue.remove("a")
    assert "a" not in queue and "c" in queue and 42 not in queue
    assert len(queue) == 2
    assert queue.peek() == "c"
    assert drain(queue) == ["c", "b"]
    assert queue.peek() is None and queue.peek_key() is None


def test_reprioritise_keeps_due_and_seq() -> None:
    """A new head start re-keys the order from its original due_at and keeps its tie-breaker."""
    queue = OrderQueue()
    queue.push("a", 100.0)
    queue.push("b", 150.0)
    assert queue.reprioritise("b", 50.0) == 100.0
    assert queue.key_of("b") == (100.0, 1)
    assert queue.due_at_of("b") == 150.0 and queue.head_start_of("b") == 50.0
    assert len(queue) == 2
    assert drain(queue) == ["a", "b"]
    queue.push("c", 100.0, 0.0)
    queue.push("d", 100.0, 0.0)
    queue.reprioritise("d", 0.0)
    assert drain(queue) == ["c", "d"]


def test_an_order_id_can_come_back_after_leaving() -> None:
    """A removed order may be queued again and its old tombstone is not served twice."""
    queue = OrderQueue()
    queue.push("a", 10.0)
    queue.push("b", 20.0)
    queue.remove("a")
    queue.push("a", 30.0)
    assert drain(queue) == ["b", "a"]
    with pytest.raises(IndexError):
        queue.pop()


@pytest.mark.parametrize("head_start_s", [-1.0, 300.5, math.nan, math.inf])
def test_rejects_head_start_outside_cap(head_start_s: float) -> None:
    """push and reprioritise refuse head starts outside [0, max_head_start_s], naming the value."""
    queue = OrderQueue(max_head_start_s=300.0)
    with pytest.raises(ValueError, match="head_start_s"):
        queue.push("a", 1.0, head_start_s)
    queue.push("a", 1.0)
    with pytest.raises(ValueError, match="head_start_s"):
        queue.reprioritise("a", head_start_s)
    assert queue.key_of("a") == (1.0, 0)


def test_error_cases() -> None:
    """Duplicates, NaN dues, unknown ids, empty pops and bad caps raise the documented errors."""
    queue = OrderQueue()
    queue.push("a", 1.0)
    with pytest.raises(ValueError, match="'a'"):
        queue.push("a", 2.0)
    with pytest.raises(ValueError, match="nan"):
        queue.push("b", math.nan)
    for method in (queue.remove, queue.key_of, queue.due_at_of, queue.head_start_of):
        with pytest.raises(KeyError):
            method("zz")
    with pytest.raises(KeyError):
        queue.reprioritise("zz", 1.0)
    queue.pop()
    with pytest.raises(IndexError, match="pop from an empty OrderQueue"):
        queue.pop()
    with pytest.raises(ValueError, match="max_head_start_s"):
        OrderQueue(max_head_start_s=-1.0)
    assert OrderQueue(max_head_start_s=60.0).max_head_start_s == 60.0


def test_compaction_shrinks_heap_and_keeps_contents() -> None:
    """Once tombstones exceed half the heap it is rebuilt from the live orders, contents intact."""
    queue = OrderQueue()
    for number in range(1000):
        queue.push(f"o{number}", float(number), float(number % 7))
    for number in range(0, 1000, 10):
        queue.reprioritise(f"o{number}", 100.0)
    before = queue.heap_size
    for number in range(1000):
        if number % 10:
            queue.remove(f"o{number}")
    assert before == 1100
    assert len(queue) == 100
    assert queue.heap_size <= 2 * len(queue)
    expected = sorted(range(0, 1000, 10), key=lambda number: (number - 100.0, number))
    assert drain(queue) == [f"o{number}" for number in expected]


def test_iteration_is_service_order_and_leaves_heap_untouched() -> None:
    """Iterating yields live orders in pop order, with keys, and does not change the heap."""
    queue = OrderQueue()
    for number in range(50):
        queue.push(f"o{number}", float((number * 37) % 50), float(number % 3) * 20.0)
    for number in range(0, 50, 4):
        queue.remove(f"o{number}")
    queue.reprioritise("o1", 299.0)
    heap_before = list(queue._heap)
    keyed = list(queue.in_service_order())
    ids = list(queue)
    assert queue._heap == heap_before
    assert keyed == sorted(keyed)
    assert [order_id for _, _, order_id in keyed] == ids
    assert [(e, s) for e, s, _ in keyed] == sorted(queue.key_of(order_id) for order_id in ids)
    assert ids == drain(queue)


def test_iteration_stops_early_cheaply() -> None:
    """Taking the first few of a long queue needs no full sort and returns the best ones."""
    queue = OrderQueue()
    for number in range(10_000):
        queue.push(f"o{number}", float(10_000 - number))
    first = []
    for order_id in queue:
        first.append(order_id)
        if len(first) == 3:
            break
    assert first == ["o9999", "o9998", "o9997"]


operations = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.integers(0, 200), st.sampled_from([0.0, 30.0, 120.0, 300.0])),
        st.tuples(st.just("pop"), st.just(0), st.just(0.0)),
        st.tuples(st.just("remove"), st.integers(0, 40), st.just(0.0)),
        st.tuples(st.just("reprioritise"), st.integers(0, 40), st.floats(0.0, 300.0)),
    ),
    max_size=120,
)


@settings(max_examples=200, deadline=None)
@given(operations)
def test_matches_sorted_list_model(ops: list[tuple[str, int, float]]) -> None:
    """Random push/pop/remove/reprioritise sequences pop exactly what a sorted-list model pops."""
    queue = OrderQueue()
    model: dict[str, tuple[float, int, float]] = {}  # id -> (effective_at, seq, due_at)
    pushed = 0
    for op, number, value in ops:
        if op == "push":
            order_id = f"o{pushed}"
            queue.push(order_id, float(number), value)
            model[order_id] = (number - value, pushed, float(number))
            pushed += 1
        elif op == "pop":
            expected = min(model, key=lambda oid: model[oid][:2]) if model else None
            assert queue.peek() == expected
            if expected is None:
                continue
            assert queue.pop() == expected
            del model[expected]
        elif (order_id := f"o{number}") in model:
            if op == "remove":
                queue.remove(order_id)
                del model[order_id]
            else:
                _, seq, due_at = model[order_id]
                queue.reprioritise(order_id, value)
                model[order_id] = (due_at - value, seq, due_at)
            assert queue.heap_size <= 2 * len(model)
        assert len(queue) == len(model)
    assert list(queue) == sorted(model, key=lambda oid: model[oid][:2])
    assert drain(queue) == sorted(model, key=lambda oid: model[oid][:2])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(0.0, 3600.0), st.floats(0.0, 300.0), st.booleans()),
        min_size=1,
        max_size=80,
    )
)
def test_starvation_bound(arrivals: list[tuple[float, float, bool]]) -> None:
    """An order is only ever overtaken by orders due at most max_head_start_s after it."""
    queue = OrderQueue(max_head_start_s=300.0)
    for number, (due_at, head_start_s, pop_after) in enumerate(arrivals):
        queue.push(f"o{number}", due_at, head_start_s)
        while pop_after and queue:
            popped = queue.pop()
            popped_due = due_at_of_popped(arrivals, popped)
            assert all(popped_due <= queue.due_at_of(waiting) + 300.0 for waiting in queue)
            pop_after = False
    while queue:
        waiting_dues = [queue.due_at_of(order_id) for order_id in queue]
        popped_due = due_at_of_popped(arrivals, queue.pop())
        assert popped_due <= min(waiting_dues) + 300.0


def due_at_of_popped(arrivals: list[tuple[float, float, bool]], order_id: str) -> float:
    return arrivals[int(order_id[1:])][0]
