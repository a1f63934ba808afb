"""The report's blocks and their two renderings, Markdown and HTML (built once, shown twice).

Every report (a comparison, a frontier, a sweep) is a list of blocks, so a new
section is a function returning blocks, and the renderers never change.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from simulator.tables import TextTable


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


def write_documents(out: Path, title: str, blocks: list[Block]) -> list[Path]:
    """report.md and report.html from the same blocks."""
    (out / "report.md").write_text(render_markdown(title, blocks), encoding="utf-8")
    (out / "report.html").write_text(render_html(title, blocks), encoding="utf-8")
    return [out / "report.md", out / "report.html"]


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


def html_table(table: TextTable) -> str:
    head = "".join(f"<th>{html.escape(cell)}</th>" for cell in table.headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
                   for row in table.rows)
    note = f'<p class="note">{_html_text(table.note)}</p>' if table.note else ""
    return (f"<table><caption>{html.escape(table.title)}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>{note}")


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
            parts.append(html_table(block))
    return "\n".join([*parts, "</body></html>"])
