"""Order logs for `keepcab calibrate`: the import CSV (extended) and the live database.

The simulator, where the calibration lives, may not import `api`; these
readers reach it through the `keepcab.log_sources` entry-point group and hand
over `valuation.logrows` values, so both sources meet in one row type.

The CSV is the `keepcab import orders` format, validated by the importer
itself (same `file:line:column: problem` errors, same hardening), plus
optional columns: `assigned_at`, `picked_up_at`, `ended_at` (times, as
`requested_at`), `dropoff_lat`, `dropoff_lon`, `driver_id`, `customer_id`.
A drivers file has `driver_id`, `online_at`, `offline_at`. Customers are
pseudonymised on reading (a keyed hash of customer_id or the E.164 number),
so no number leaves this module.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TypeVar

from api import importer
from api.import_cells import parse_number, parse_time
from api.importer import ImportRow, RowProblem, read_export
from api.settings import DISPATCH_CONFIG_FIELDS, Settings
from dispatch.config import DispatchConfig
from dispatch.model import TERMINAL_ORDER_STATUSES
from valuation.logrows import DriverSession, LoggedOrder, OrderLogSource

TIME_COLUMNS = ("assigned_at", "picked_up_at", "ended_at")
EXTENDED_COLUMNS = (*TIME_COLUMNS, "dropoff_lat", "dropoff_lon", "driver_id", "customer_id")
DRIVER_COLUMNS = ("driver_id", "online_at", "offline_at")
T = TypeVar("T")


class LogSourceError(ValueError):
    """A log that cannot be read; `problems` are `file:line:column: problem` lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def pseudonym(identity: str) -> str:
    return hashlib.sha256(b"keepcab-calibrate|" + identity.encode()).hexdigest()[:16]


def _offset_s(at: float, zone: tzinfo) -> float:
    offset = datetime.fromtimestamp(at, UTC).astimezone(zone).utcoffset()
    return offset.total_seconds() if offset is not None else 0.0


def _extended(
    cells: dict[str, str], line: int, zone: tzinfo, base: ImportRow
) -> tuple[dict[str, float | str], list[RowProblem]]:
    """The optional columns of one row, each checked as the importer checks its own."""
    problems: list[RowProblem] = []

    def take(column: str, parse: Callable[[str], T], empty: T) -> T:
        text = cells.get(column, "").strip()
        if not text:
            return empty
        try:
            return parse(text)
        except ValueError as error:
            problems.append(RowProblem(line, column, str(error)))
            return empty

    values: dict[str, float | str] = {
        name: take(name, lambda text: parse_time(text, zone).timestamp(), math.nan) for name in TIME_COLUMNS
    }
    values["dropoff_lat"] = take("dropoff_lat", lambda t: parse_number(t, -90.0, 90.0), math.nan)
    values["dropoff_lon"] = take("dropoff_lon", lambda t: parse_number(t, -180.0, 180.0), math.nan)
    values["driver_id"] = cells.get("driver_id", "").strip()
    previous, previous_name = base.requested_at.timestamp(), "requested_at"
    for name in TIME_COLUMNS:
        value = values[name]
        if isinstance(value, float) and not math.isnan(value):
            if value < previous:
                problems.append(RowProblem(line, name, f"before {previous_name}"))
            previous, previous_name = value, name
    return values, problems


def _records(path: Path, region: str) -> Iterator[tuple[int, list[str]]]:
    """The file's rows exactly as the importer reads them (its decoding and delimiter rules),
    so line numbers and cells match its own."""
    return importer._records(importer.decode_export(path.read_bytes(), region)[0])


def read_csv_log(path: Path, zone: tzinfo, region: str, drivers: Path | None = None) -> OrderLogSource:
    """Every row checked first (importer rules plus the optional columns); any problem raises."""
    export = read_export(path, region, zone)
    problems = list(export.problems)
    orders: list[LoggedOrder] = []
    if not export.fatal:
        header = export.header
        cells_by_line = {
            line: dict(zip(header, cells, strict=False)) for line, cells in _records(path, region)
        }
        for row in export.rows:
            cells = cells_by_line[row.line]
            values, extra = _extended(cells, row.line, zone, row)
            problems.extend(extra)
            identity = cells.get("customer_id", "").strip() or row.e164 or ""
            orders.append(_order(row, values, pseudonym(identity) if identity else "", zone))
    if problems:
        raise LogSourceError([p.render(str(path)) for p in sorted(problems, key=lambda p: p.line)])
    sessions = read_drivers(drivers, zone, region) if drivers is not None else []
    present = frozenset(name for name in EXTENDED_COLUMNS if name in export.header)
    return OrderLogSource(orders, sessions, f"{path.name}", present | ({"drivers"} if drivers else set()))


def _order(row: ImportRow, values: dict[str, float | str], customer: str, zone: tzinfo) -> LoggedOrder:
    at = row.requested_at.timestamp()
    outcome = row.cause.value if row.cause is not None else row.status.value
    return LoggedOrder(
        customer=customer,
        requested_at=at,
        outcome=outcome,
        pickup_lat=row.lat,
        pickup_lon=row.lon,
        fare=row.fare if row.fare is not None else math.nan,
        assigned_at=float(values["assigned_at"]),
        picked_up_at=float(values["picked_up_at"]),
        ended_at=float(values["ended_at"]),
        dropoff_lat=float(values["dropoff_lat"]),
        dropoff_lon=float(values["dropoff_lon"]),
        driver_id=str(values["driver_id"]),
        local_offset_s=_offset_s(at, zone),
    )


def read_drivers(path: Path, zone: tzinfo, region: str = "") -> list[DriverSession]:
    """driver_id, online_at, offline_at; every problem named by file, line and column."""
    problems: list[RowProblem] = []
    sessions: list[DriverSession] = []
    try:
        records = list(_records(path, region))
    except (UnicodeDecodeError, csv.Error, OSError) as error:
        raise LogSourceError([f"{path}:1:file: {error}"]) from None
    if not records:
        raise LogSourceError([f"{path}:1:file: empty file"])
    header = [name.strip().casefold() for name in records[0][1]]
    missing = [
        RowProblem(1, name, "missing required column") for name in DRIVER_COLUMNS if name not in header
    ]
    if missing:
        raise LogSourceError([p.render(str(path)) for p in missing])
    for line, raw in records[1:]:
        cells = dict(zip(header, (cell.strip() for cell in raw), strict=False))
        times: list[float] = []
        for column in ("online_at", "offline_at"):
            try:
                times.append(parse_time(cells.get(column, ""), zone).timestamp())
            except ValueError as error:
                problems.append(RowProblem(line, column, str(error)))
        if not cells.get("driver_id"):
            problems.append(RowProblem(line, "driver_id", "missing"))
        elif len(times) == 2 and times[1] < times[0]:
            problems.append(RowProblem(line, "offline_at", "before online_at"))
        elif len(times) == 2:
            sessions.append(DriverSession(cells["driver_id"], times[0], times[1]))
    if problems:
        raise LogSourceError([p.render(str(path)) for p in problems])
    return sessions


def read_db_log(database_url: str | None, zone: tzinfo) -> OrderLogSource:
    """Every finished order of the live database (orders with their times); driver shifts are
    not stored, so the calibration falls back to assignments for the fleet."""
    from sqlmodel import Session, select

    from api.db import make_engine
    from api.models.orders import Order
    from api.settings import Settings

    url = database_url or Settings().database_url
    finished = [status.value for status in TERMINAL_ORDER_STATUSES]
    orders: list[LoggedOrder] = []
    with Session(make_engine(url)) as session:
        for row in session.exec(select(Order).where(Order.status.in_(finished))):  # type: ignore[attr-defined]
            at = row.requested_at.timestamp()
            identity = row.customer_id or row.caller_e164 or ""
            orders.append(
                LoggedOrder(
                    customer=pseudonym(identity) if identity else "",
                    requested_at=at,
                    outcome=row.failure_cause or row.status,
                    pickup_lat=row.pickup_lat,
                    pickup_lon=row.pickup_lon,
                    fare=_seconds_or_nan(row.fare),
                    assigned_at=_time_or_nan(row.assigned_at),
                    picked_up_at=_time_or_nan(row.picked_up_at),
                    ended_at=_time_or_nan(row.ended_at),
                    dropoff_lat=_seconds_or_nan(row.dropoff_lat),
                    dropoff_lon=_seconds_or_nan(row.dropoff_lon),
                    driver_id=row.driver_id or "",
                    local_offset_s=_offset_s(at, zone),
                )
            )
    columns = frozenset(
        ("assigned_at", "picked_up_at", "ended_at", "dropoff_lat", "dropoff_lon", "driver_id", "customer_id")
    )
    return OrderLogSource(orders, [], "the live database", columns)


def _seconds_or_nan(value: float | None) -> float:
    return math.nan if value is None else float(value)


def _time_or_nan(value: datetime | None) -> float:
    return math.nan if value is None else value.timestamp()


def firm_dispatch() -> tuple[DispatchConfig, set[str]]:
    """The dispatch rules the live server runs with here (`KEEPCAB_*`, `.env`), built as the
    writer builds them, and the names of the settings given explicitly: `keepcab calibrate`
    writes them into `[dispatch]` (simulator.calibration.firm_rules), since no log holds them."""
    settings = Settings()
    names = {*DISPATCH_CONFIG_FIELDS, "matching", "batch_window_s"}
    return DispatchConfig(**settings.dispatch_config_kwargs()), names & settings.model_fields_set
