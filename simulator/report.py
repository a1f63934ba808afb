"""The files of `keepcab simulate --out DIR`: data for tools, a report for people.

results.json (settings, estimates, paired differences and every replication),
results.csv (one row per policy and metric, the same rows as
`Comparison.to_dataframe()`), days.csv (the per-day series), report.md and
report.html (the same document: built once as blocks, rendered twice) and
the PNG plots they show. The report opens with the headline and goes
straight to who pays, because that is what a policy change is argued over.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from simulator.queue_tables import fleet_view_table, queue_table
from simulator.render import Block, Bullets, Heading, Image, Paragraph, html_table, write_documents
from simulator.results import Comparison
from simulator.tables import (
    failures_table,
    headline_lines,
    lost_by_segment_table,
    money_table,
    summary_table,
    waits_table,
    who_pays_lines,
    who_pays_matrix,
    who_pays_table,
)


def write_report(comparison: Comparison, out: Path, study: Study | None = None) -> list[Path]:
    """Write every file into `out` (created if needed); returns the paths written.

    A study (a frontier, a sweep) adds its own sections before the comparison's,
    its plots and CSV files, and its data under its name in results.json.
    """
    from simulator.plots import PLOTS  # matplotlib is imported only when plotting

    out.mkdir(parents=True, exist_ok=True)
    data = comparison.to_dict(runs=True)
    if study is not None:
        data[study.name] = study.data
    written = [_write_json(data, out / "results.json"),
               _write_csv(comparison.rows(), out / "results.csv"),
               _write_csv(comparison.day_rows(), out / "days.csv")]
    if study is not None:
        written += [plot(out / name) for name, plot in study.plots.items()]
        written += [_write_csv(rows, out / name) for name, rows in study.csv.items()]
    written += [plot(comparison, out / name) for name, plot in PLOTS.items()]
    blocks = [*(study.blocks if study else []), *report_blocks(comparison)]
    title = f"keepcab {study.name if study else 'simulation'}: {comparison.scenario}"
    return [*written, *write_documents(out, title, blocks)]


@dataclass(frozen=True, slots=True)
class Study:
    """What a study adds to a comparison's report: sections, plots, CSV rows and data."""

    name: str
    blocks: list[Block]
    plots: dict[str, Callable[[Path], Path]] = field(default_factory=dict)
    csv: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)


def _write_json(data: dict[str, Any], path: Path) -> Path:
    path.write_text(json.dumps(data, indent=1, allow_nan=False), encoding="utf-8")
    return path


def _write_csv(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    with path.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]) if rows else [])
        writer.writeheader()
        writer.writerows(rows)
    return path


def report_blocks(comparison: Comparison) -> list[Block]:
    """The report as a sequence of blocks, in reading order."""
    base = comparison.baseline
    return [
        Paragraph(f"Scenario `{comparison.scenario}`: {comparison.horizon_days:g} measured days "
                  f"after {comparison.warmup_days:g} warm-up days, {comparison.replications} "
                  f"replications per policy from root seed {comparison.seed}, policies "
                  f"{', '.join(comparison.labels)}. Intervals are {comparison.confidence:.0%} "
                  f"Student t intervals over replications; every Δ is the paired difference "
                  f"against `{base}` on common random numbers."),
        Heading("Headline"), Bullets(headline_lines(comparison)), summary_table(comparison),
        Heading("Who pays"),
        Paragraph("Priority mostly moves failures from one caller to another. Against "
                  f"`{base}`, segment by segment (a segment gains or pays only when its "
                  "paired interval excludes zero; failed orders decide before waits):"),
        Bullets(who_pays_lines(comparison)),
        Image("who_pays.png", "Change in failed orders and p90 wait per segment"),
        who_pays_table(comparison),
        Heading("Lost customers"),
        Image("lost_customers.png", "Lost customers per policy with intervals"),
        lost_by_segment_table(comparison),
        Heading("Waits by segment"),
        Image("waits_by_segment.png", "Pickup wait percentiles per segment"),
        waits_table(comparison),
        Heading("Queue by segment and class"), queue_table(comparison),
        Heading("Fleet view"),
        Image("fleet_view.png", "Failed orders and queue by hour against cars on duty"),
        fleet_view_table(comparison),
        Heading("Failed orders by cause"), failures_table(comparison),
        Heading("Revenue and fleet"), money_table(comparison),
        Heading("Per day"), Image("lost_per_day.png", "Lost customers per day"),
        *parameter_blocks(comparison),
        Heading("How to read this"), Bullets(list(HOW_TO_READ)),
    ]


HOW_TO_READ = (
    "Lost: customers who left for good inside the measured window, as a share of the "
    "customers active at the window's start (the churn rate firms report; newcomers who "
    "joined and left inside the window count as lost). The new segment has nobody at "
    "the start, so its share is over every newcomer at risk.",
    "After failures: departures the model attributes to a failed order (no car, "
    "refused, abandoned); base churn is what no dispatch policy prevents.",
    "Segments: new = joined during the run; occasional / regular = existing customers "
    "below / above the scenario's `regular_min_trips_per_week`.",
    "Waits are pickup waits of completed orders; failed orders are counted separately.",
    "Data: results.json (with every replication), results.csv (one row per policy "
    "and metric), days.csv (per-day series).",
)


def parameter_blocks(comparison: Comparison) -> list[Block]:
    """Every scenario parameter as run, and each policy's own changed keys."""
    own = [f"policy `{label}`: " + ", ".join(f"`{k}` = {v}" for k, v in result.params.items())
           for label, result in comparison.policies.items() if result.params]
    return [
        Heading("Scenario parameters used"),
        Paragraph(f"Money is in {comparison.currency or 'the scenario currency'}. Every "
                  "parameter of the scenario as run (a policy's own changes are listed with it):"),
        Bullets([f"`{key}` = {value}" for key, value in comparison.setting_rows()] + own)]


def html_tables(comparison: Comparison) -> str:
    """The headline and who-pays tables as an HTML fragment (a notebook's view of a result)."""
    return "\n".join(html_table(table) for table in
                     (summary_table(comparison), who_pays_matrix(comparison, compact=False)))
