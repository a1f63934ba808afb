"""Order logs for `keepcab calibrate`: the extended import CSV and the live database."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from api.import_store import store_export
from api.importer import read_export
from api.log_source import LogSourceError, read_csv_log, read_db_log, read_drivers
from api.models.orders import Order

CSV = (
    "phone,customer_id,requested_at,outcome,fare,pickup_lat,pickup_lon,dropoff_lat,dropoff_lon,"
    "assigned_at,picked_up_at,ended_at,driver_id\n"
    "+79120000001,,2026-01-05T08:00:00,completed,9.50,50.1,20.0,50.12,20.02,"
    "2026-01-05T08:00:30,2026-01-05T08:05:00,2026-01-05T08:20:00,car7\n"
    "+79120000001,,2026-01-05T19:00:00,abandoned,,50.1,20.0,,,,,2026-01-05T19:09:00,\n"
    "+79120000002,k-42,2026-01-06T10:00:00,no_car,,50.2,20.1,,,,,2026-01-06T10:00:01,\n"
)


def test_the_extended_csv_gives_times_points_and_pseudonyms(tmp_path: Path) -> None:
    """Optional columns are read; a customer is a stable pseudonym, never the number."""
    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8")
    source = read_csv_log(path, ZoneInfo("Europe/Moscow"), "RU")
    first, second, third = source.orders
    assert first.customer == second.customer != third.customer
    assert "79120000001" not in first.customer and "k-42" not in third.customer
    assert first.requested_at == datetime(2026, 1, 5, 5, 0, tzinfo=UTC).timestamp()  # Moscow is UTC+3
    assert first.local_offset_s == 3 * 3600
    assert first.ended_at - first.picked_up_at == 15 * 60 and first.driver_id == "car7"
    assert first.dropoff_lat == 50.12 and math.isnan(second.dropoff_lat)
    assert second.outcome == "abandoned" and third.outcome == "no_car"
    assert {"ended_at", "driver_id", "customer_id"} <= source.columns


def test_bad_optional_columns_are_named_by_line_and_column(tmp_path: Path) -> None:
    """An unreadable time or an end before the pickup is a problem of that cell."""
    path = tmp_path / "orders.csv"
    path.write_text(
        CSV.replace("2026-01-05T08:20:00", "2026-01-05T08:01:00").replace("2026-01-06T10:00:01", "soon"),
        encoding="utf-8",
    )
    with pytest.raises(LogSourceError) as error:
        read_csv_log(path, ZoneInfo("UTC"), "RU")
    assert error.value.problems[0] == f"{path}:2:ended_at: before picked_up_at"
    assert error.value.problems[1].startswith(f"{path}:4:ended_at: 'soon' is not a time")


def test_a_drivers_file_is_checked_row_by_row(tmp_path: Path) -> None:
    """Sessions are read; an offline time before the online time is reported with its line."""
    path = tmp_path / "drivers.csv"
    path.write_text(
        "driver_id,online_at,offline_at\nc1,2026-01-05T06:00,2026-01-05T16:00\n", encoding="utf-8"
    )
    assert (
        read_drivers(path, ZoneInfo("UTC"))[0].offline_at - read_drivers(path, ZoneInfo("UTC"))[0].online_at
        == 36_000
    )
    path.write_text(
        "driver_id,online_at,offline_at\nc1,2026-01-05T16:00,2026-01-05T06:00\n", encoding="utf-8"
    )
    with pytest.raises(LogSourceError, match=r"drivers.csv:2:offline_at: before online_at"):
        read_drivers(path, ZoneInfo("UTC"))


def test_the_database_source_yields_the_same_orders_as_the_csv(
    session: Session, database_url: str, tmp_path: Path
) -> None:
    """Imported orders read back from SQLite and PostgreSQL carry the CSV's times and outcomes."""
    path = tmp_path / "orders.csv"
    path.write_text(CSV, encoding="utf-8")
    export = read_export(path, "RU", ZoneInfo("UTC"))
    store_export(session, export.rows, file_name=path.name, now=datetime(2026, 2, 1, tzinfo=UTC))
    csv_orders = read_csv_log(path, ZoneInfo("UTC"), "RU").orders
    for order, row in zip(session.exec(select(Order).order_by(Order.requested_at)), csv_orders, strict=True):
        order.assigned_at = (
            datetime.fromtimestamp(row.assigned_at, UTC) if not math.isnan(row.assigned_at) else None
        )
        order.ended_at = datetime.fromtimestamp(row.ended_at, UTC)
        session.add(order)
    session.commit()
    db = sorted(read_db_log(database_url, ZoneInfo("UTC")).orders, key=lambda o: o.requested_at)
    assert [(o.requested_at, o.outcome, o.ended_at) for o in db] == [
        (o.requested_at, o.outcome, o.ended_at) for o in csv_orders
    ]
    assert db[0].customer == db[1].customer != db[2].customer
    assert db[0].assigned_at == csv_orders[0].assigned_at
