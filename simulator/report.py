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
import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from simulator.results import Comparison
from simulator.tables import (
    TextTable,
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


@dataclass(frozen=True, slots=True)
class Heading:
    text: str


@dataclass(frozen=True, slots=True)
class Paragraph:
    text: str


@dataclass(frozen=True, slots=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True, slots=True)
class Image:
    file: str
    alt: str


Block = Heading | Paragraph | Bullets | Image | TextTable


def write_report(comparison: Comparison, out: Path) -> list[Path]:
    """Write every file into `out` (created if needed); returns the paths written."""
    from simulator.plots import PLOTS  # matplotlib is imported only when plotting

    out.mkdir(parents=True, exist_ok=True)
    written = [_write_json(comparison, out / "results.json"),
               _write_csv(comparison.rows(), out / "results.csv"),
               _write_csv(comparison.day_rows(), out / "days.csv")]
    written += [plot(comparison, out / name) for name, plot in PLOTS.items()]
    blocks = report_blocks(comparison)
    title = f"keepcab simulation: {comparison.scenario}"
    (out / "report.md").write_text(render_markdown(title, blocks), encoding="utf-8")
    (out / "report.html").write_text(render_html(title, blocks), encoding="utf-8")
    return [*written, out / "report.md", out / "report.html"]


def _write_json(comparison: Comparison, path: Path) -> Path:
    path.write_text(json.dumps(comparison.to_dict(runs=True), indent=1, allow_nan=False),
                    encoding="utf-8")
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
        Heading("Failed orders by cause"), failures_table(comparison),
        Heading("Revenue and fleet"), money_table(comparison),
        Heading("Per day"), Image("lost_per_day.png", "Lost customers per day"),
        Heading("How to read this"),
        Bullets([
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
        ]),
    ]


def _markdown_table(table: TextTable) -> list[str]:
    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"

    lines = [f"**{table.title}**", "", line(table.headers),
             "|" + "|".join(["---"] + ["---:"] * (len(table.headers) - 1)) + "|"]
    lines += [line(row) for row in table.rows]
    return lines + (["", f"*{table.note}*"] if table.note else [])


def render_markdown(title: str, blocks: list[Block]) -> str:
    lines = [f"# {title}", ""]
    for block in blocks:
        if isinstance(block, Heading):
            lines.append(f"## {block.text}")
        elif isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Bullets):
            lines += [f"- {item}" for item in block.items]
        elif isinstance(block, Image):
            lines.append(f"![{block.alt}]({block.file})")
        else:
            lines += _markdown_table(block)
        lines.append("")
    return "\n".join(lines)


_STYLE = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;
color:#222}table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f3f3f3}
caption{font-weight:bold;text-align:left;padding:.3em 0}img{max-width:100%}
.note{color:#666;font-size:.85em}code{background:#f3f3f3;padding:0 .2em}"""


def _html_text(text: str) -> str:
    """Escape, then turn Markdown `code` spans into <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{part}</code>" if index % 2 else part
                   for index, part in enumerate(parts))


def _html_table(table: TextTable) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in table.headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
                   for row in table.rows)
    note = f'<p class="note">{_html_text(table.note)}</p>' if table.note else ""
    return (f"<table><caption>{html.escape(table.title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>{note}")


def html_tables(comparison: Comparison) -> str:
    """The headline and who-pays tables as an HTML fragment (a notebook's view of a result)."""
    return "\n".join(_html_table(table) for table in
                     (summary_table(comparison), who_pays_matrix(comparison, compact=False)))


def render_html(title: str, blocks: list[Block]) -> str:
    parts = [f"<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>"]
    for block in blocks:
        if isinstance(block, Heading):
            parts.append(f"<h2>{html.escape(block.text)}</h2>")
        elif isinstance(block, Paragraph):
            parts.append(f"<p>{_html_text(block.text)}</p>")
        elif isinstance(block, Bullets):
            parts.append("<ul>" + "".join(f"<li>{_html_text(item)}</li>" for item in block.items)
                         + "</ul>")
        elif isinstance(block, Image):
            parts.append(f'<p><img src="{html.escape(block.file)}" alt="{html.escape(block.alt)}">'
                         "</p>")
        else:
            parts.append(_html_table(block))
    return "\n".join([*parts, "</body></html>"])
