"""`keepcab calibrate SOURCE --out mytown.toml`: the firm's order log -> a scenario TOML.

Mounted through the `keepcab.commands` entry point; the log itself is read
by whichever `keepcab.log_sources` entry point fits the source (`csv` for a
file, `db` for `--from-db`), which `api` provides, so this module never
imports `api` (DESIGN.md).
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer

from simulator.calibration.build import calibrate as run_calibration
from simulator.calibration.firm_rules import read_firm_rules
from simulator.calibration.toml_out import scenario_toml, toml_value
from valuation.logrows import OrderLogSource

USAGE_ERROR = 2


def log_source(name: str) -> Any:
    """The reader registered as `name` in `keepcab.log_sources`."""
    for entry in entry_points(group="keepcab.log_sources"):
        if entry.name == name:
            return entry.load()
    raise LookupError(f"no keepcab.log_sources entry point {name!r} is installed")


def _fail(problems: list[str]) -> NoReturn:
    for problem in problems:
        typer.echo(f"error: {problem}", err=True)
    raise typer.Exit(USAGE_ERROR)


def _moment(text: str | None, zone: ZoneInfo, option: str) -> float | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        _fail([f"{option}: {text!r} is not a date (YYYY-MM-DD[THH:MM])"])
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC).timestamp()


def read_source(
    source: Path | None,
    from_db: bool,
    drivers: Path | None,
    zone: ZoneInfo,
    region: str,
    database_url: str | None,
) -> OrderLogSource:
    if from_db == (source is not None):
        _fail(["give either SOURCE (an orders CSV) or --from-db"])
    try:
        if from_db:
            return log_source("db")(database_url, zone)  # type: ignore[no-any-return]
        return log_source("csv")(source, zone, region, drivers)  # type: ignore[no-any-return]
    except ValueError as error:
        _fail(getattr(error, "problems", None) or [str(error)])


def calibrate(
    source: Annotated[
        Path | None, typer.Argument(help="Orders CSV (the import format, extended).", show_default=False)
    ] = None,
    out: Annotated[Path, typer.Option("--out", "-o", help="Scenario TOML to write.")] = Path(
        "calibrated.toml"
    ),
    report: Annotated[Path | None, typer.Option(help="Write report.md, report.html and plots here.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Start of the window (date; default: the log's start).")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="End of the window (date; default: the log's end).")
    ] = None,
    drivers: Annotated[
        Path | None, typer.Option(help="drivers.csv: driver_id, online_at, offline_at.")
    ] = None,
    from_db: Annotated[
        bool, typer.Option("--from-db", help="Read the live database (KEEPCAB_DATABASE_URL).")
    ] = False,
    database_url: Annotated[str | None, typer.Option(help="Overrides KEEPCAB_DATABASE_URL.")] = None,
    timezone: Annotated[str, typer.Option(help="Zone of times written without one.")] = "UTC",
    region: Annotated[str, typer.Option(help="Phone region of numbers without a country code.")] = "RU",
    name: Annotated[str, typer.Option(help="Scenario name.")] = "calibrated",
) -> None:
    """Calibrate a scenario from the firm's order log: every key with its estimate and source."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        _fail([f"--timezone: unknown time zone {timezone!r}"])
    log = read_source(source, from_db, drivers, zone, region.upper(), database_url)
    try:
        firm = read_firm_rules()
    except ValueError as error:  # a bad KEEPCAB_* setting: the live server would refuse it too
        _fail([f"the firm's dispatch settings: {error}"])
    try:
        result = run_calibration(log, _moment(since, zone, "--since"), _moment(until, zone, "--until"), firm)
    except ValueError as error:
        _fail([f"{source or 'database'}: {error}"])
    text = scenario_toml(result).replace('name = "calibrated"', f"name = {toml_value(name)}", 1)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out} from {result.log.n:,} orders, {result.log.date_range()}", err=True)
    if report is not None:
        from simulator.calibration.report import write_report  # matplotlib only when asked

        written = write_report(result, report)
        typer.echo(f"wrote {', '.join(p.name for p in written)} to {report}", err=True)
