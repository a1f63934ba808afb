"""Shift figures: counted from console events, reset at midnight, read back from the logs."""

from __future__ import annotations

from datetime import datetime

from api.console.figures import ShiftFigures, shift_start


def _noon() -> float:
    return datetime(2026, 9, 21, 12, 0).astimezone().timestamp()


def test_each_outcome_is_counted_once_and_calls_abandoned_separately() -> None:
    """Orders, assignments, refusals, give-ups, and calls lost before an answer (once per call)."""
    figures = ShiftFigures(shift_start(_noon()))
    at = _noon()
    for kind, data in [
        ("order.created", {}),
        ("order.created", {}),
        ("order.assigned", {}),
        ("order.rejected", {"cause": "no_car"}),
        ("order.expired", {"cause": "no_car"}),
        ("order.cancelled", {"cause": "abandoned"}),
        ("order.cancelled", {"cause": None}),
        ("call.abandoned", {"call_id": "c1", "outcome": "abandoned"}),
        ("call.ended", {"call_id": "c1", "outcome": "abandoned"}),
        ("call.ended", {"call_id": "c2", "outcome": "other"}),
    ]:
        figures.count(kind, at, data)
    assert figures.to_json() | {"shift_started_at": 0} == {
        "shift_started_at": 0,
        "orders": 2,
        "assigned": 1,
        "refused": 2,
        "abandoned": 1,
        "calls_abandoned": 1,
    }


def test_the_figures_start_again_on_a_new_day() -> None:
    """An event after midnight opens a new shift with fresh counts."""
    figures = ShiftFigures(shift_start(_noon()))
    figures.count("order.created", _noon(), {})
    tomorrow = _noon() + 86_400.0
    figures.count("order.created", tomorrow, {})
    assert figures.counts.orders == 1
    assert figures.started_at == shift_start(tomorrow) > shift_start(_noon())
