"""Hypothesis strategies shared by the valuation tests: histories built from real updates."""

from __future__ import annotations

from hypothesis import strategies as st

from dispatch.model import FailureCause
from valuation.history import (
    CustomerHistory,
    new_history,
    record_cancelled,
    record_completed,
    record_failed,
)
from valuation.params import WEEK_S

causes = st.sampled_from(list(FailureCause))
gaps_s = st.floats(min_value=0.0, max_value=30 * WEEK_S, allow_nan=False)
fares = st.floats(min_value=0.0, max_value=200.0, allow_nan=False)

event = st.one_of(
    st.tuples(st.just("completed"), gaps_s, fares, st.booleans()),
    st.tuples(st.just("failed"), gaps_s, causes),
    st.tuples(st.just("cancelled"), gaps_s),
)


@st.composite
def histories(draw: st.DrawFn, max_events: int = 25) -> tuple[CustomerHistory, float]:
    """A history folded from random outcomes, and the time of its last event."""
    h, at_s = new_history(), draw(st.floats(min_value=0.0, max_value=1e9, allow_nan=False))
    for item in draw(st.lists(event, max_size=max_events)):
        at_s += item[1]
        if item[0] == "completed":
            h = record_completed(h, at_s, item[2], very_late=item[3])
        elif item[0] == "failed":
            h = record_failed(h, at_s, item[2])
        else:
            h = record_cancelled(h, at_s)
    return h, at_s
