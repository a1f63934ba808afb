"""Reading another system's order export: every row validated before anything is written.

A firm moving to keepcab brings years of orders in a CSV export; those orders
are its customers' histories, so the first scores are right on day one. The
file is checked completely first: with any bad row nothing is imported and
every problem is listed as `file:line:column: problem`, so a whole export can
be fixed in one pass; `--skip-bad` imports the good rows instead and keeps the
bad ones (with their problems) in a rejects file.

The format (columns, outcomes, time formats, examples) is in docs/import.md.
Text cells pass the same check as the live API (`api.routers.fields`): a NUL
or another control character is a row problem, not a failed write. Times
after the import started are refused: a history cannot hold the future, and
a trip dated 2100 would decay as if it had just happened for decades. A file
that is not UTF-8 is read in the legacy code page that gives the most
plausible words (`api.import_encoding`; Russian Excel saves cp1251) and the
CLI says which; if none fits, the problem
says how to re-save it as UTF-8. `fare` is optional: a completed order without
one counts at the population's mean fare, as a live trip completed without a
fare does (`api.aggregates`).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TypeVar

from api.import_cells import parse_number, parse_outcome, parse_text, parse_time
from api.import_encoding import decode_export
from api.models.customers import MAX_ADDRESS_CHARS
from api.phones import NumberKind, normalise_phone
from api.routers.fields import forbidden_character
from dispatch.model import FailureCause, OrderStatus

REQUIRED_COLUMNS = ("phone", "requested_at", "outcome", "pickup_lat", "pickup_lon")
OPTIONAL_COLUMNS = ("fare", "pickup_address", "name", "external_id")
MAX_EXTERNAL_ID_CHARS = 150
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    column: str
    message: str

    def render(self, file_name: str) -> str:
        return f"{file_name}:{self.line}:{self.column}: {self.message}"


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One valid order of the export; `e164` is None for a withheld number."""

    line: int
    e164: str | None
    raw_phone: str
    requested_at: datetime
    status: OrderStatus
    cause: FailureCause | None
    fare: float | None
    lat: float
    lon: float
    address: str | None
    name: str | None
    external_id: str | None
    key: str  # identity within one import (external id, or the row's content); never stored

    @property
    def stored_key(self) -> str | None:
        """The idempotency key kept on the order: only the other system's own order id.

        A key derived from the caller's number, time and place would let anyone
        holding the table confirm a guessed number after the customer is
        erased, so rows without an external id are recognised on a second
        import by their plain columns instead (`api.import_store`).
        """
        return None if self.external_id is None else f"import:{self.external_id}"


@dataclass(slots=True)
class ParsedExport:
    header: list[str]
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    rejected: dict[int, list[str]] = field(default_factory=dict)  # line -> the row as read
    fatal: bool = False  # the file itself is unusable (header, encoding): nothing can import
    encoding: str = "utf-8"  # what the file was read as
    first_line_by_key: dict[str, int] = field(default_factory=dict)


def order_key(external_id: str | None, e164: str | None, at: datetime, lat: float, lon: float) -> str:
    """The row's identity within one import (duplicates in a file); never written to the store."""
    if external_id:
        return f"import:{external_id}"
    return f"row:{e164 or '-'}|{at.isoformat()}|{lat:.6f}|{lon:.6f}"


def _text_problems(cells: dict[str, str], line: int) -> list[RowProblem]:
    """The live API's text rule on every cell: no NUL, no other control character."""
    problems = []
    for column, text in cells.items():
        found = forbidden_character(text)
        if found is not None:
            problems.append(RowProblem(line, column, f"control character {found} is not allowed"))
    return problems


def parse_row(
    cells: dict[str, str], line: int, region: str, zone: tzinfo, latest: datetime | None = None
) -> ImportRow | list[RowProblem]:
    """One row as an `ImportRow`, or every problem it has (not just the first)."""
    problems = _text_problems(cells, line)
    if problems:
        return problems

    def take(column: str, parse: Callable[[str], T]) -> T | None:
        try:
            return parse(cells.get(column, "").strip())
        except ValueError as error:
            problems.append(RowProblem(line, column, str(error)))
            return None

    number = normalise_phone(cells.get("phone", ""), region)
    if number.kind is NumberKind.INVALID:
        problems.append(RowProblem(line, "phone", f"{number.raw!r} is not a phone number ({number.problem})"))
    requested_at = take("requested_at", lambda text: parse_time(text, zone, latest))
    outcome = take("outcome", parse_outcome)
    lat = take("pickup_lat", lambda text: parse_number(text, -90.0, 90.0))
    lon = take("pickup_lon", lambda text: parse_number(text, -180.0, 180.0))
    fare = take("fare", lambda text: parse_number(text, 0.0, 1e9) if text else None)
    address = take("pickup_address", lambda text: parse_text(text, MAX_ADDRESS_CHARS))
    name = take("name", lambda text: parse_text(text, 200))
    external_id = take("external_id", lambda text: parse_text(text, MAX_EXTERNAL_ID_CHARS))
    if problems or requested_at is None or outcome is None or lat is None or lon is None:
        return problems
    return ImportRow(
        line=line,
        e164=number.e164,
        raw_phone=number.raw,
        requested_at=requested_at,
        status=outcome[0],
        cause=outcome[1],
        fare=fare,
        lat=lat,
        lon=lon,
        address=address,
        name=name,
        external_id=external_id,
        key=order_key(external_id, number.e164, requested_at, lat, lon),
    )


def _delimiter(first_line: str) -> str:
    return max((",", ";", "\t"), key=first_line.count)


def _header_problems(header: list[str]) -> list[RowProblem]:
    problems = [
        RowProblem(1, name, "missing required column") for name in REQUIRED_COLUMNS if name not in header
    ]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(RowProblem(1, name, "column appears twice"))
        seen.add(name)
    return problems


def _records(text: str) -> Iterator[tuple[int, list[str]]]:
    stream = io.StringIO(text, newline="")
    delimiter = _delimiter(stream.readline())
    stream.seek(0)
    reader = csv.reader(stream, delimiter=delimiter)
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield reader.line_num, cells


def read_export(path: Path, region: str, zone: tzinfo, now: datetime | None = None) -> ParsedExport:
    """Validate the whole file; rows with problems go to `rejected`, never to `rows`.

    `now` is when the import started (default: the wall clock): rows after it are problems.
    """
    latest = now or datetime.now(UTC)
    try:
        text, encoding = decode_export(path.read_bytes(), region)
        records = list(_records(text))
    except UnicodeDecodeError as error:
        return ParsedExport([], problems=[RowProblem(1, "file", error.reason)], fatal=True)
    except csv.Error as error:
        return ParsedExport([], problems=[RowProblem(1, "file", str(error))], fatal=True)
    if not records:
        return ParsedExport([], problems=[RowProblem(1, "file", "empty file")], fatal=True)
    header = [name.strip().casefold() for name in records[0][1]]
    export = ParsedExport(header, problems=_header_problems(header), encoding=encoding)
    export.fatal = bool(export.problems)
    for line, cells in records[1:] if not export.fatal else []:
        _add_record(export, line, cells, region, zone, latest)
    return export


def _add_record(
    export: ParsedExport, line: int, cells: list[str], region: str, zone: tzinfo, latest: datetime
) -> None:
    header = export.header
    result: ImportRow | list[RowProblem]
    if len(cells) != len(header):
        result = [RowProblem(line, "row", f"{len(cells)} fields, the header has {len(header)}")]
    else:
        result = parse_row(dict(zip(header, cells, strict=True)), line, region, zone, latest)
    if isinstance(result, ImportRow) and result.key in export.first_line_by_key:
        column = "external_id" if "external_id" in header else "requested_at"
        seen_at = export.first_line_by_key[result.key]
        result = [RowProblem(line, column, f"the same order as line {seen_at}")]
    if isinstance(result, ImportRow):
        export.first_line_by_key[result.key] = line
        export.rows.append(result)
    else:
        export.problems.extend(result)
        export.rejected[line] = cells


def write_rejects(path: Path, export: ParsedExport) -> int:
    """The rejected rows as read, with their line and problems in front; returns how many."""
    problems_by_line: dict[int, list[str]] = {}
    for problem in export.problems:
        problems_by_line.setdefault(problem.line, []).append(f"{problem.column}: {problem.message}")
    with path.open("w", encoding="utf-8", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["line", "problems", *export.header])
        for line, cells in sorted(export.rejected.items()):
            writer.writerow([line, "; ".join(problems_by_line.get(line, [])), *cells])
    return len(export.rejected)
