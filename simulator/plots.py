"""The report's PNG plots (matplotlib, Agg backend: no display needed).

Every bar carries its confidence interval, and the who-pays plot shows the
paired differences against the baseline per segment, so a reader sees at a
glance that a policy which loses fewer customers overall may do it by making
occasional callers fail and wait more.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from simulator.measures import estimate
from simulator.population import SEGMENTS
from simulator.results import Comparison, PolicyResult
from simulator.stats import Estimate

BASE_GREY = "#b8b8b8"


def _colours(comparison: Comparison) -> dict[str, Any]:
    palette = plt.get_cmap("tab10")
    return {label: palette(index % 10) for index, label in enumerate(comparison.labels)}


def _errors(estimates: list[Estimate], scale: float, floor: float | None) -> list[list[float]]:
    """Asymmetric error bars, cut at `floor` (a share or a wait is never negative); zero
    where the interval is unknown (one replication)."""
    lows = [e.low if floor is None else max(e.low, floor) for e in estimates]
    low = [(e.mean - lo) * scale if e.n > 1 else 0.0 for e, lo in zip(estimates, lows, strict=True)]
    high = [(e.high - e.mean) * scale if e.n > 1 else 0.0 for e in estimates]
    return [low, high]


Pick = Callable[[str, str], Estimate | None]


def _grouped(axis: Any, comparison: Comparison, groups: list[str], estimate: Pick, scale: float,
             labels: list[str], floor: float | None = 0.0) -> None:
    """Bars per group (segment), one per policy, each with its interval."""
    colours = _colours(comparison)
    width = 0.8 / max(1, len(labels))
    for index, label in enumerate(labels):
        found = [estimate(label, group) for group in groups]
        values = [e for e in found if e is not None]
        if len(values) != len(groups):
            continue
        xs = [g + (index - (len(labels) - 1) / 2) * width for g in range(len(groups))]
        axis.bar(xs, [e.mean * scale for e in values], width, capsize=3, color=colours[label],
                 yerr=_errors(values, scale, floor), label=label)
    axis.set_xticks(range(len(groups)), groups)
    axis.grid(axis="y", alpha=0.3)


def _per_segment(axes: Any, comparison: Comparison, labels: list[str], estimate: Pick,
                 scale: float, floor: float | None) -> None:
    """One small panel per segment with its own scale: new customers are few and noisy,
    and must not flatten the occasional and regular panels."""
    colours = _colours(comparison)
    for axis, segment in zip(axes, SEGMENTS, strict=True):
        values = [estimate(label, segment) for label in labels]
        shown = [(label, e) for label, e in zip(labels, values, strict=True) if e is not None]
        xs = range(len(shown))
        axis.bar(xs, [e.mean * scale for _, e in shown], color=[colours[lb] for lb, _ in shown],
                 yerr=_errors([e for _, e in shown], scale, floor), capsize=4)
        axis.set_xticks(xs, [label for label, _ in shown], rotation=30, fontsize=8)
        axis.set_title(segment)
        axis.grid(axis="y", alpha=0.3)
        if floor is None:
            axis.axhline(0, color="black", linewidth=0.8)


def lost_customers_plot(comparison: Comparison, path: Path) -> Path:
    figure = plt.figure(figsize=(13, 4.8))
    grid = figure.add_gridspec(1, 4, width_ratios=[1.6, 1, 1, 1])
    total = figure.add_subplot(grid[0])
    labels = comparison.labels
    failures = [comparison.policies[label].metrics["lost.share_to_failures"] for label in labels]
    base = [comparison.policies[label].metrics["lost.share_base"] for label in labels]
    overall = [comparison.policies[label].metrics["lost.share"] for label in labels]
    colours = _colours(comparison)
    xs = range(len(labels))
    total.bar(xs, [e.mean * 100 for e in base], color=BASE_GREY, label="base churn")
    total.bar(xs, [e.mean * 100 for e in failures], bottom=[e.mean * 100 for e in base],
              color=[colours[label] for label in labels], label="after failures")
    total.errorbar(xs, [e.mean * 100 for e in overall], yerr=_errors(overall, 100, 0.0),
                   fmt="none", ecolor="black", capsize=4)
    total.set_xticks(xs, labels, rotation=30, fontsize=8)
    total.set_ylabel("% of customers at risk")
    total.set_title("Lost customers\n(grey: base churn, no policy prevents it)", fontsize=10)
    total.grid(axis="y", alpha=0.3)
    segments = [figure.add_subplot(grid[i]) for i in (1, 2, 3)]
    _per_segment(segments, comparison, labels, lambda label, segment: comparison.policies[
        label].metrics[f"lost.{segment}.share_to_failures"], 100, 0.0)
    segments[0].set_ylabel("% of the segment lost after failures")
    figure.suptitle("Lost customers per policy (bars: mean; whiskers: "
                    f"{comparison.confidence:.0%} interval over replications)", fontsize=11)
    return _save(figure, path)


def who_pays_plot(comparison: Comparison, path: Path) -> Path:
    figure, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    others = [label for label in comparison.labels if label != comparison.baseline]
    _per_segment(axes[0], comparison, others, lambda label, segment: comparison.difference(
        label, f"orders.{segment}.failure_rate"), 100, None)
    _per_segment(axes[1], comparison, others, lambda label, segment: comparison.difference(
        label, f"wait.{segment}.p90_s"), 1 / 60, None)
    axes[0][0].set_ylabel("Δ failed orders (percentage points)")
    axes[1][0].set_ylabel("Δ p90 pickup wait (minutes)")
    figure.suptitle(f"Who pays: each segment against {comparison.baseline} "
                    "(above 0: that segment fails more / waits longer; paired "
                    f"{comparison.confidence:.0%} intervals)", fontsize=11)
    return _save(figure, path)


def _wait_estimate(comparison: Comparison, level: int) -> Pick:
    return lambda label, segment: comparison.policies[label].metrics[f"wait.{segment}.p{level}_s"]


def waits_plot(comparison: Comparison, path: Path) -> Path:
    figure, axes = plt.subplots(1, 3, figsize=(14, 4.6))
    for axis, level in zip(axes, (50, 90, 99), strict=True):
        _grouped(axis, comparison, list(SEGMENTS), _wait_estimate(comparison, level), 1 / 60,
                 comparison.labels)
        axis.set_title(f"pickup wait p{level}")
    axes[0].set_ylabel("minutes (completed orders)")
    figure.suptitle("Pickup waits by segment (whiskers: "
                    f"{comparison.confidence:.0%} interval over replications)", fontsize=11)
    handles, labels = axes[0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9, frameon=False)
    return _save(figure, path, bottom=0.08)


def _cumulative_lost(result: PolicyResult) -> list[Estimate]:
    """Customers lost by the end of each day: an interval over replications per day."""
    per_run = [np.cumsum([day.lost_customers for day in run.days]) for run in result.runs]
    days = min(len(series) for series in per_run)
    return [estimate([float(series[day]) for series in per_run], result.confidence)
            for day in range(days)]


def lost_per_day_plot(comparison: Comparison, path: Path) -> Path:
    figure, (daily, total) = plt.subplots(1, 2, figsize=(13, 4.6))
    colours = _colours(comparison)
    for label, result in comparison.policies.items():
        series = result.days["lost_customers"]
        days = list(range(1, len(series) + 1))
        daily.plot(days, [e.mean for e in series], marker="o", markersize=3, linewidth=1,
                   color=colours[label], label=label)
        cumulative = _cumulative_lost(result)
        total.plot(days, [e.mean for e in cumulative], color=colours[label], label=label)
        if all(e.n > 1 for e in cumulative):
            total.fill_between(days, [e.low for e in cumulative], [e.high for e in cumulative],
                               color=colours[label], alpha=0.1, linewidth=0)
    daily.set_title("Customers lost per day (mean over replications)")
    total.set_title(f"Customers lost so far (shaded: {comparison.confidence:.0%} interval)")
    for axis in (daily, total):
        axis.set_xlabel("day of the measured window")
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
    daily.set_ylabel("customers")
    total.legend(fontsize=8, loc="upper left")
    return _save(figure, path)


def fleet_view_plot(comparison: Comparison, path: Path) -> Path:
    """The baseline's failed orders and queue by hour of day, against cars on duty."""
    hours = comparison.policies[comparison.baseline].hours
    figure, (top, bottom) = plt.subplots(2, 1, figsize=(8, 6), sharex=True)
    hour = list(range(len(hours.get("failed", []))))
    top.bar(hour, [e.mean for e in hours.get("failed", [])], color="#d62728", alpha=0.7)
    top.set_ylabel("failed orders / day")
    queue = top.twinx()
    queue.plot(hour, [e.mean for e in hours.get("queue_length", [])], color="#1f77b4",
               marker=".")
    queue.set_ylabel("orders waiting (mean)", color="#1f77b4")
    bottom.bar(hour, [e.mean for e in hours.get("cars_on_duty", [])], color="#2ca02c", alpha=0.7)
    bottom.set_ylabel("cars on duty")
    bottom.set_xlabel("hour of day")
    bottom.set_xticks(range(0, 24, 2))
    top.set_title(f"Where the firm is short of cars ({comparison.baseline}): failed orders "
                  "(bars) and queue (line) by hour", fontsize=10)
    for axis in (top, bottom):
        axis.grid(alpha=0.3)
    return _save(figure, path)


def _save(figure: Any, path: Path, bottom: float = 0.0) -> Path:
    """Lay out (leaving `bottom` of the height for a figure legend), write, free the memory."""
    figure.tight_layout(rect=(0.0, bottom, 1.0, 1.0))
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


PLOTS = {"lost_customers.png": lost_customers_plot, "who_pays.png": who_pays_plot,
         "waits_by_segment.png": waits_plot, "lost_per_day.png": lost_per_day_plot,
         "fleet_view.png": fleet_view_plot}
