from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from dispatch.geo import Grid, haversine_m
from dispatch.waiting import WaitingOrders
from tests.dispatch.helpers import at_km

points = st.builds(at_km, st.floats(-8, 8), st.floats(-8, 8))
entries = st.lists(
    st.tuples(points, st.floats(0, 3000), st.sampled_from([0.0, 60.0, 300.0]), st.booleans()),
    max_size=60,
)


def brute_force(rows, position, radius_m):  # type: ignore[no-untyped-def]
    """The best acceptable order in reach by scanning every waiting order."""
    candidates = [
        (due - head, seq, f"o{seq}")
        for seq, (where, due, head, ok) in enumerate(rows)
        if ok and haversine_m(position, where) <= radius_m
    ]
    return min(candidates)[2] if candidates else None


@settings(max_examples=300, deadline=None)
@given(entries, points, st.sampled_from([500.0, 1500.0, 4000.0, math.inf]),
       st.sampled_from([300.0, 1000.0]))
def test_best_for_equals_a_brute_force_scan(rows, position, radius_m, cell_m) -> None:  # type: ignore[no-untyped-def]
    """The per-cell search finds exactly the order a scan of the whole queue finds."""
    waiting = WaitingOrders(Grid(cell_m), 300.0)
    ok = {}
    for seq, (where, due, head, acceptable) in enumerate(rows):
        waiting.push(f"o{seq}", where, due, head, seq)
        ok[f"o{seq}"] = acceptable
    assert waiting.best_for(position, radius_m, ok.__getitem__) == brute_force(rows, position, radius_m)


def test_removal_empties_cells_and_service_order_spans_cells() -> None:
    """Orders in different cells share one service order; removing the last of a cell drops it."""
    waiting = WaitingOrders(Grid(500.0), 300.0)
    waiting.push("late", at_km(0, 0), 100.0, 0.0, 1)
    waiting.push("early", at_km(5, 5), 50.0, 0.0, 2)
    waiting.push("loyal", at_km(-5, 0), 200.0, 300.0, 3)
    assert [oid for _, _, oid in waiting.in_service_order()] == ["loyal", "early", "late"]
    waiting.remove("early")
    assert "early" not in waiting and len(waiting) == 2
    assert waiting.best_for(at_km(5, 5), 1000.0, lambda _: True) is None
