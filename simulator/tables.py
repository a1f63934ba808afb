"""The tables an analyst reads, as plain text cells: one source for terminal, Markdown and HTML.

The comparison is deliberately not only "which policy loses fewest
customers". Priority mostly moves failures from one caller to another, so
next to the headline there is always a who-pays view: for every segment, how
its failed orders, waits and failure-caused departures change against the
baseline, with paired intervals, and a sentence naming who gains and who pays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from simulator.measures import METRIC_BY_KEY
from simulator.population import SEGMENTS
from simulator.results import Comparison
from simulator.stats import Estimate


@dataclass(frozen=True, slots=True)
class TextTable:
    title: str
    headers: list[str]
    rows: list[list[str]]
    note: str = ""


def _parts(value: float, unit: str, signed: bool) -> tuple[str, str]:
    sign = "+" if signed else ""
    if unit == "share":
        return f"{value * 100:{sign}.2f}", " pp" if signed else "%"
    if unit == "s":
        return f"{value / 60:{sign}.1f}", " min"
    if unit == "money":
        return f"{value:{sign},.0f}", ""
    return (f"{value:{sign},.1f}" if abs(value) < 100 else f"{value:{sign},.0f}"), ""


def number(value: float, unit: str, signed: bool = False) -> str:
    """One figure in the unit an analyst thinks in: %, percentage points, minutes, money."""
    if not math.isfinite(value):
        return "–"
    text, suffix = _parts(value, unit, signed)
    return text + suffix


def interval(value: Estimate | None, unit: str, signed: bool = False,
             compact: bool = False) -> str:
    """`mean [low, high]` (compact: `mean±half`); the mean alone when the spread is unknown."""
    if value is None:
        return "baseline"
    if not math.isfinite(value.mean):
        return "–"
    text, suffix = _parts(value.mean, unit, signed)
    if not (math.isfinite(value.low) and math.isfinite(value.high)):
        return text if compact else text + suffix
    if compact:  # the unit goes in the column header
        return f"{text}±{_parts(value.half_width, unit, False)[0]}"
    # Every figure shown unsigned is a share, count, wait or sum of fares: never negative, so
    # a t interval reaching below zero is shown cut at zero (results.json keeps the raw bound).
    floor = value.low if signed else max(value.low, 0.0)
    low, high = _parts(floor, unit, signed)[0], _parts(value.high, unit, signed)[0]
    return f"{text}{suffix} [{low}, {high}]"


@dataclass(frozen=True, slots=True)
class _Cells:
    """Formats one comparison's figures: a policy's estimate, or its paired difference."""

    comparison: Comparison
    compact: bool = False

    def value(self, label: str, key: str) -> str:
        estimate = self.comparison.policies[label].metrics[key]
        return interval(estimate, METRIC_BY_KEY[key].unit, compact=self.compact)

    def diff(self, label: str, key: str) -> str:
        return interval(self.comparison.difference(label, key), METRIC_BY_KEY[key].unit,
                        signed=True, compact=self.compact)


def _header(name: str, unit: str, compact: bool) -> str:
    """Compact cells carry no unit, so the header does."""
    shown = {"share": "%", "diff_share": "pp", "s": "min", "diff_s": "min"}.get(unit, "")
    return f"{name} ({shown})" if compact and shown else name


def summary_table(comparison: Comparison, compact: bool = False) -> TextTable:
    cells = _Cells(comparison, compact)
    base = comparison.baseline
    columns = [("lost", "lost.share", False), ("after failures", "lost.share_to_failures", False),
               (f"Δ lost vs {base}", "lost.share", True),
               ("first-order fail", "first_order_failure_rate", False),
               ("failed orders", "orders.failure_rate", False),
               ("utilisation", "utilisation", False)]
    if not compact:
        columns.insert(5, ("revenue", "revenue", False))
    headers = ["policy"] + [_header(name, ("diff_" if diff else "") + METRIC_BY_KEY[key].unit,
                                    compact) for name, key, diff in columns]
    rows = [[label] + [cells.diff(label, key) if diff else cells.value(label, key)
                       for _, key, diff in columns]
            for label in comparison.labels]
    return TextTable("Lost customers per policy", headers, rows,
                     f"Means over {comparison.replications} replications with "
                     f"{comparison.confidence:.0%} intervals; Δ is the paired difference "
                     f"against {base} (common random numbers). Lost: customers who left for good "
                     f"in the window, over customers active at its start.")


WHO_PAYS_FIGURES = (("orders.{}.failure_rate", "failed orders"),
                    ("wait.{}.p90_s", "p90 wait"),
                    ("lost.{}.share_to_failures", "lost after failures"))


def who_pays_table(comparison: Comparison, compact: bool = False) -> TextTable:
    cells = _Cells(comparison, compact)
    headers = ["policy", "segment"] + [name for _, name in WHO_PAYS_FIGURES] + \
              [f"Δ {name}" for _, name in WHO_PAYS_FIGURES]
    rows = []
    for label in comparison.labels:
        for segment in SEGMENTS:
            keys = [pattern.format(segment) for pattern, _ in WHO_PAYS_FIGURES]
            rows.append([label, segment]
                        + [cells.value(label, key) for key in keys]
                        + [cells.diff(label, key) for key in keys])
    return TextTable("Who pays: segments against the baseline", headers, rows,
                     f"Δ is each policy minus {comparison.baseline}, replication by "
                     f"replication. Positive Δ failed orders or wait: that segment pays.")


def _direction(value: Estimate | None) -> int:
    """+1 clearly up, -1 clearly down, 0 when the interval straddles zero."""
    if value is None or value.n == 0 or not math.isfinite(value.mean):
        return 0
    if value.n == 1:
        return (value.mean > 0) - (value.mean < 0)
    return 1 if value.low > 0 else -1 if value.high < 0 else 0


def _verdict(comparison: Comparison, label: str, segment: str) -> tuple[int, str]:
    """Whether a segment pays (+1) or gains (-1): failed orders first, else waits."""
    failures = comparison.difference(label, f"orders.{segment}.failure_rate")
    waits = comparison.difference(label, f"wait.{segment}.p90_s")
    detail = (f"{segment} (failed orders {interval(failures, 'share', True)}, "
              f"p90 wait {interval(waits, 's', True)})")
    return _direction(failures) or _direction(waits), detail


def who_pays_lines(comparison: Comparison, labels: Sequence[str] | None = None) -> list[str]:
    """One sentence per policy: which segments gain and which pay against the baseline.

    Failed orders decide (a refused caller is worse off than a slower one);
    only when they do not clearly move do waits decide.
    """
    lines = []
    for label in comparison.labels if labels is None else labels:
        if label == comparison.baseline:
            continue
        verdicts = [_verdict(comparison, label, segment) for segment in SEGMENTS]
        gains = [detail for sign, detail in verdicts if sign < 0]
        pays = [detail for sign, detail in verdicts if sign > 0]
        lines.append(f"{label} vs {comparison.baseline}: "
                     f"gain: {'; '.join(gains) or 'nobody clearly'}. "
                     f"Pay: {'; '.join(pays) or 'nobody clearly'}.")
    return lines


def who_pays_matrix(comparison: Comparison, compact: bool = True,
                    labels: Sequence[str] | None = None) -> TextTable:
    """Per policy, each segment's change in failed orders and p90 wait: the terminal view."""
    cells = _Cells(comparison, compact)
    headers = ["policy"] + [_header(f"Δ failed {s}", "diff_share", compact) for s in SEGMENTS] + \
              [_header(f"Δ p90 wait {s}", "diff_s", compact) for s in SEGMENTS]
    rows = [[label] + [cells.diff(label, f"orders.{segment}.failure_rate") for segment in SEGMENTS]
            + [cells.diff(label, f"wait.{segment}.p90_s") for segment in SEGMENTS]
            for label in (comparison.labels if labels is None else labels)
            if label != comparison.baseline]
    return TextTable(f"Who pays: change against {comparison.baseline} by segment", headers, rows,
                     "Positive Δ: that segment fails more or waits longer than under "
                     f"{comparison.baseline}; ± is the paired {comparison.confidence:.0%} "
                     "half-width.")


def headline_lines(comparison: Comparison) -> list[str]:
    """Per policy: customers lost, and whether clearly more or fewer than the baseline."""
    base, cells = comparison.baseline, _Cells(comparison)
    verdicts = {1: "clearly more than", -1: "clearly fewer than", 0: "no clear difference from"}
    lines = []
    for label in comparison.labels:
        lost = cells.value(label, "lost.share")
        after = cells.value(label, "lost.share_to_failures")
        first = cells.value(label, "first_order_failure_rate")
        line = f"{label}: lost {lost} of customers at risk, {after} after failures; " \
               f"first-order failure rate {first}"
        diff = comparison.difference(label, "lost.share")
        if diff is not None:
            line += (f"; Δ lost {interval(diff, 'share', signed=True)}: "
                     f"{verdicts[_direction(diff)]} {base}")
        lines.append(line + ".")
    return lines


def failures_table(comparison: Comparison, compact: bool = False) -> TextTable:
    cells = _Cells(comparison, compact)
    causes = ["abandoned", "expired", "refused_no_car", "refused_by_policy"]
    headers = ["policy", "orders placed"] + [cause.replace("_", " ") for cause in causes]
    rows = [[label, cells.value(label, "orders.placed")]
            + [cells.value(label, f"failed.{cause}") for cause in causes]
            for label in comparison.labels]
    return TextTable("Failed orders by cause (per replication)", headers, rows)


def waits_table(comparison: Comparison, compact: bool = False) -> TextTable:
    cells = _Cells(comparison, compact)
    headers = ["policy", "segment", "p50", "p90", "p99"]
    rows = [[label, segment or "all"]
            + [cells.value(label, f"wait{'.' + segment if segment else ''}.p{level}_s")
               for level in (50, 90, 99)]
            for label in comparison.labels for segment in ("", *SEGMENTS)]
    return TextTable("Pickup waits of completed orders", headers, rows)


def lost_by_segment_table(comparison: Comparison, compact: bool = False) -> TextTable:
    cells = _Cells(comparison, compact)
    headers = ["policy", "segment", "customers", "lost", "after failures", "base churn",
               f"Δ after failures vs {comparison.baseline}"]
    rows = [[label, segment,
             cells.value(label, f"lost.{segment}.base"),
             cells.value(label, f"lost.{segment}.share"),
             cells.value(label, f"lost.{segment}.share_to_failures"),
             cells.value(label, f"lost.{segment}.share_base"),
             cells.diff(label, f"lost.{segment}.share_to_failures")]
            for label in comparison.labels for segment in SEGMENTS]
    return TextTable("Lost customers by segment", headers, rows,
                     "Base churn is the departures no policy can prevent.")


def money_table(comparison: Comparison, compact: bool = False) -> TextTable:
    cells = _Cells(comparison, compact)
    headers = ["policy", "revenue", f"Δ revenue vs {comparison.baseline}",
               "lost future revenue", f"Δ lost future revenue vs {comparison.baseline}",
               "utilisation"]
    rows = [[label, cells.value(label, "revenue"),
             cells.diff(label, "revenue"),
             cells.value(label, "lost_future_revenue"),
             cells.diff(label, "lost_future_revenue"),
             cells.value(label, "utilisation")]
            for label in comparison.labels]
    return TextTable("Revenue and fleet", headers, rows,
                     "Lost future revenue: expected fares over the valuation horizon of every "
                     "customer a failure drove away.")
