"""Reading another system's order export: every row validated before anything is written.

A firm moving to keepcab brings years of orders in a CSV export; those orders
are its customers' histories, so the first scores are right on day one. The
file is checked completely first: with any bad row nothing is imported and
every problem is listed as `file:line:column: problem`, so a whole export can
be fixed in one pass; `--skip-bad` imports the good rows instead and keeps the
bad ones (with their problems) in a rejects file.

Columns (header names, any order, case-insensitive; `,` `;` or tab separated,
UTF-8 with or without BOM): `phone`, `requested_at`, `outcome`, `pickup_lat`,
`pickup_lon` are required; `fare`, `pickup_address`, `name`, `external_id` are
optional. `outcome` is `completed`, `cancelled` (by the customer) or a failure
cause: `no_car`, `abandoned`, `rejected_by_policy`, `dispatcher_cancelled`,
`driver_no_show`. Times are ISO 8601, `DD.MM.YYYY HH:MM[:SS]` or unix seconds;
times without a zone are read in the zone given on the command line. A
withheld number imports as an anonymous order; an unreadable one is a problem.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import TypeVar

from api.models.customers import MAX_ADDRESS_CHARS
from api.phones import CallerNumber, NumberKind, normalise_phone
from dispatch.model import FailureCause, OrderStatus

REQUIRED_COLUMNS = ("phone", "requested_at", "outcome", "pickup_lat", "pickup_lon")
OPTIONAL_COLUMNS = ("fare", "pickup_address", "name", "external_id")
OUTCOMES: dict[str, tuple[OrderStatus, FailureCause | None]] = {
    "completed": (OrderStatus.COMPLETED, None),
    "cancelled": (OrderStatus.CANCELLED, None),
    "canceled": (OrderStatus.CANCELLED, None),
    **{cause.value: (cause.terminal_status, cause) for cause in FailureCause},
}
DAY_FIRST_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)
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
    key: str  # idempotency key: importing the same export twice adds nothing


@dataclass(slots=True)
class ParsedExport:
    header: list[str]
    rows: list[ImportRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    rejected: dict[int, list[str]] = field(default_factory=dict)  # line -> the row as read
    fatal: bool = False  # the file itself is unusable (header, encoding): nothing can import


@lru_cache(maxsize=1 << 16)
def _normalise_cached(raw: str, region: str) -> CallerNumber:
    """Regulars repeat their number on every row; libphonenumber is most of the validation time."""
    return normalise_phone(raw, region)


def _read_moment(text: str) -> datetime | None:
    if text.replace(".", "", 1).isdigit():
        return datetime.fromtimestamp(float(text), UTC)
    try:
        return datetime.fromisoformat(text)  # fast, so tried before the day-first patterns
    except ValueError:
        pass
    for pattern in DAY_FIRST_FORMATS:
        try:
            return datetime.strptime(text, pattern)
        except ValueError:
            continue
    return None


def parse_time(text: str, zone: tzinfo) -> datetime:
    if not text:
        raise ValueError("missing")
    moment = _read_moment(text)
    if moment is None:
        raise ValueError(f"{text!r} is not a time (ISO 8601, DD.MM.YYYY HH:MM or unix seconds)")
    moment = moment.replace(tzinfo=zone) if moment.tzinfo is None else moment
    if moment < EARLIEST:
        raise ValueError(f"{text!r} is before {EARLIEST.year}")
    return moment.astimezone(UTC)


def parse_number(text: str, low: float, high: float) -> float:
    """A decimal number in [low, high]; a decimal comma (`350,50`) is accepted."""
    if not text:
        raise ValueError("missing")
    try:
        value = float(text.replace(",", ".") if text.count(",") == 1 and "." not in text else text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{text!r} is outside [{low:g}, {high:g}]")
    return value


def parse_outcome(text: str) -> tuple[OrderStatus, FailureCause | None]:
    outcome = OUTCOMES.get(text.casefold())
    if outcome is None:
        choices = ", ".join(sorted(key for key in OUTCOMES if key != "canceled"))
        raise ValueError(f"{text!r} is not an outcome ({choices})")
    return outcome


def parse_text(text: str, max_chars: int) -> str | None:
    if len(text) > max_chars:
        raise ValueError(f"longer than {max_chars} characters")
    return text or None


def order_key(external_id: str | None, e164: str | None, at: datetime, lat: float, lon: float) -> str:
    if external_id:
        return f"import:{external_id}"
    basis = f"{e164 or '-'}|{at.isoformat()}|{lat:.6f}|{lon:.6f}"
    return "import:sha256:" + hashlib.sha256(basis.encode()).hexdigest()[:40]


def parse_row(cells: dict[str, str], line: int, region: str, zone: tzinfo) -> ImportRow | list[RowProblem]:
    """One row as an `ImportRow`, or every problem it has (not just the first)."""
    problems: list[RowProblem] = []

    def take(column: str, parse: Callable[[str], T]) -> T | None:
        try:
            return parse(cells.get(column, "").strip())
        except ValueError as error:
            problems.append(RowProblem(line, column, str(error)))
            return None

    number = _normalise_cached(cells.get("phone", ""), region)
    if number.kind is NumberKind.INVALID:
        problems.append(RowProblem(line, "phone", f"{number.raw!r} is not a phone number ({number.problem})"))
    requested_at = take("requested_at", lambda text: parse_time(text, zone))
    outcome = take("outcome", parse_outcome)
    lat = take("pickup_lat", lambda text: parse_number(text, -90.0, 90.0))
    lon = take("pickup_lon", lambda text: parse_number(text, -180.0, 180.0))
    fare = take("fare", lambda text: parse_number(text, 0.0, 1e9) if text else None)
    address = take("pickup_address", lambda text: parse_text(text, MAX_ADDRESS_CHARS))
    name = take("name", lambda text: parse_text(text, 200))
    external_id = take("external_id", lambda text: parse_text(text, MAX_EXTERNAL_ID_CHARS))
    fare_unreadable = any(problem.column == "fare" for problem in problems)
    completed = outcome is not None and outcome[0] is OrderStatus.COMPLETED
    if completed and fare is None and not fare_unreadable:
        problems.append(RowProblem(line, "fare", "missing (a completed order has a fare)"))
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


def _records(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        delimiter = _delimiter(stream.readline())
        stream.seek(0)
        reader = csv.reader(stream, delimiter=delimiter)
        for cells in reader:
            if any(cell.strip() for cell in cells):
                yield reader.line_num, cells


def read_export(path: Path, region: str, zone: tzinfo) -> ParsedExport:
    """Validate the whole file; rows with problems go to `rejected`, never to `rows`."""
    try:
        records = list(_records(path))
    except (UnicodeDecodeError, csv.Error) as error:
        return ParsedExport([], problems=[RowProblem(1, "file", str(error))], fatal=True)
    if not records:
        return ParsedExport([], problems=[RowProblem(1, "file", "empty file")], fatal=True)
    header = [name.strip().casefold() for name in records[0][1]]
    export = ParsedExport(header, problems=_header_problems(header))
    export.fatal = bool(export.problems)
    first_line_by_key: dict[str, int] = {}
    for line, cells in records[1:] if not export.fatal else []:
        result: ImportRow | list[RowProblem]
        if len(cells) != len(header):
            result = [RowProblem(line, "row", f"{len(cells)} fields, the header has {len(header)}")]
        else:
            result = parse_row(dict(zip(header, cells, strict=True)), line, region, zone)
        if isinstance(result, ImportRow) and result.key in first_line_by_key:
            column = "external_id" if "external_id" in header else "requested_at"
            seen_at = first_line_by_key[result.key]
            result = [RowProblem(line, column, f"the same order as line {seen_at}")]
        if isinstance(result, ImportRow):
            first_line_by_key[result.key] = line
            export.rows.append(result)
        else:
            export.problems.extend(result)
            export.rejected[line] = cells
    return export


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
