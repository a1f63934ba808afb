"""Plots of the studies: the frontier, a sweep's metrics against the varied key, the fleet view.

The frontier's bars are the paired intervals against fifo, drawn around each
point: what decides whether a point really differs from fifo is the paired
difference, not the two policies' own (much wider) intervals.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from simulator.frontier import BASELINE, LIVE_DEFAULT, STATUS_QUO, Frontier
from simulator.plots import _save
from simulator.stats import Estimate
from simulator.sweep import Sweep

_MARKERS = {BASELINE: ("s", "fifo (baseline)"), STATUS_QUO: ("X", "reject (status quo)"),
            LIVE_DEFAULT: ("^", "retention (live default)")}


def _half(diff: Estimate | None, scale: float) -> float:
    return diff.half_width * scale if diff is not None and diff.n > 1 else 0.0


def frontier_plot(frontier: Frontier, path: Path) -> Path:
    """Lost customers (x) against lost future revenue (y), Pareto set joined."""
    figure, axis = plt.subplots(figsize=(8, 5.5))
    for point in frontier.points:
        marker, name = _MARKERS.get(point.label, ("o", None))
        colour = "#d62728" if point.pareto else "#7f7f7f"
        axis.errorbar(point.lost.mean * 100, point.revenue.mean,
                      xerr=_half(point.d_lost, 100), yerr=_half(point.d_revenue, 1.0),
                      fmt=marker, color=colour, ecolor=colour, alpha=0.8, capsize=3,
                      markersize=8 if name else 6, label=name)
        axis.annotate(point.label, (point.lost.mean * 100, point.revenue.mean), fontsize=7,
                      xytext=(4, 4), textcoords="offset points")
    front = frontier.pareto
    axis.plot([p.lost.mean * 100 for p in front], [p.revenue.mean for p in front], "-",
              color="#d62728", alpha=0.6, label="Pareto set")
    axis.set_xlabel("customers lost (% of those active at the start)")
    axis.set_ylabel(f"lost future revenue ({frontier.comparison.currency})")
    axis.set_title("Customers kept against revenue kept (bars: paired 95% interval vs fifo)",
                   fontsize=10)
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    return _save(figure, path)


def sweep_plot(sweep: Sweep, key: str, label: str, unit: str, path: Path) -> Path:
    """One metric against the first varied key: a line per policy and other-key combination."""
    figure, axis = plt.subplots(figsize=(7, 4.5))
    scale = 100.0 if unit == "share" else 1 / 60 if unit == "s" else 1.0
    for name, points in sweep.lines(key).items():
        xs = [x for x, _ in points]
        axis.errorbar(xs, [e.mean * scale for _, e in points], capsize=3, marker="o",
                      yerr=[e.half_width * scale if e.n > 1 else 0.0 for _, e in points],
                      label=name)
    axis.set_xlabel(sweep.keys[0])
    axis.set_ylabel(f"{label} ({ {'share': '%', 's': 'min'}.get(unit, unit) })")
    axis.grid(alpha=0.3)
    axis.legend(fontsize=8)
    return _save(figure, path)
