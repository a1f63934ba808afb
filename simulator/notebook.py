"""What a notebook shows for a comparison: the headline and who-pays tables, not the repr.

A subclass above the report layer, so that `simulator.results` stays plain data
that nothing it imports reads back (issue 13 §5: no import cycle).
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.report import html_tables
from simulator.results import Comparison


@dataclass(frozen=True, slots=True, repr=False)
class ShownComparison(Comparison):
    """A `Comparison` that renders itself as HTML tables in Jupyter."""

    def _repr_html_(self) -> str:
        return html_tables(self)
