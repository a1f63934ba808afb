"""Writing a validated export: customers, phones, addresses, orders, events, scores."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from api.import_store import store_export
from api.importer import read_export
from api.live.intake import forget_customer
from api.models import Customer, Order, OrderEvent, Phone, PickupAddress
from dispatch.model import FailureCause
from valuation.history import CustomerHistory, record_completed, record_failed

NOW = datetime(2026, 6, 1, tzinfo=UTC)
HEADER = "phone,requested_at,outcome,fare,pickup_address,pickup_lat,pickup_lon,name\n"
ROWS = (
    "8 912 345-67-89,2026-05-01T08:00:00Z,completed,300,Lenina 5,56.84,60.61,Anna\n"
    "+79123456789,2026-05-03T08:00:00Z,no_car,,lenina  5,56.84,60.61,\n"
    "79123456789,2026-05-02T08:00:00Z,completed,400,Mira 1,56.85,60.62,\n"
    "+44 20 7946 0958,2026-05-02T09:00:00Z,cancelled,,Baker St 221b,51.52,-0.16,\n"
    "anonymous,2026-05-02T10:00:00Z,abandoned,,Lenina 5,56.84,60.61,\n"
)


def load(tmp_path: Path, body: str = ROWS, name: str = "export.csv") -> list:  # type: ignore[type-arg]
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    export = read_export(path, "RU", UTC)
    assert export.problems == []
    return export.rows


def test_customers_phones_and_addresses_are_created(session: Session, tmp_path: Path) -> None:
    """Three spellings make one customer; addresses are counted case-insensitively."""
    report = store_export(session, load(tmp_path), file_name="export.csv", now=NOW)
    session.commit()
    assert (report.orders_created, report.customers_created, report.addresses_created) == (5, 2, 3)
    phone = session.exec(select(Phone).where(Phone.e164 == "+79123456789")).one()
    anna = session.get(Customer, phone.customer_id)
    assert anna is not None and anna.display_name == "Anna"
    assert phone.raw == "8 912 345-67-89" and phone.last_seen_at == datetime(2026, 5, 3, 8, tzinfo=UTC)
    places = session.exec(
        select(PickupAddress)
        .where(PickupAddress.customer_id == anna.id)
        .order_by(col(PickupAddress.use_count))
    ).all()
    assert [(place.text, place.use_count) for place in places] == [("Mira 1", 1), ("lenina  5", 2)]


def test_orders_events_and_anonymous_rows(session: Session, tmp_path: Path) -> None:
    """Every row is an order with an `imported` event; the withheld caller's has no customer."""
    store_export(session, load(tmp_path), file_name="export.csv", now=NOW)
    session.commit()
    orders = session.exec(select(Order).order_by(col(Order.requested_at))).all()
    assert [order.status for order in orders] == [
        "completed",
        "completed",
        "cancelled",
        "abandoned",
        "rejected",
    ]
    anonymous = next(order for order in orders if order.status == "abandoned")
    assert anonymous.customer_id is None and anonymous.failure_cause == "abandoned"
    events = session.exec(select(OrderEvent)).all()
    assert len(events) == 5 and {event.kind for event in events} == {"imported"}
    assert {event.payload["line"] for event in events} == {2, 3, 4, 5, 6}


def test_valuation_aggregates_follow_the_outcomes(session: Session, tmp_path: Path) -> None:
    """The stored history counts completed, failed and cancelled orders and the fares."""
    store_export(session, load(tmp_path), file_name="export.csv", now=NOW)
    session.commit()
    phone = session.exec(select(Phone).where(Phone.e164 == "+79123456789")).one()
    anna = session.get(Customer, phone.customer_id)
    assert anna is not None
    history = CustomerHistory.from_dict(anna.history)
    assert (history.orders, history.completed, history.failed, history.cancelled) == (3, 2, 1, 0)
    assert (anna.completed_count, anna.failed_count) == (2, 1)
    assert history.phi > 0 and 690 < history.fare_sum <= 700
    assert anna.last_order_at == datetime(2026, 5, 3, 8, tzinfo=UTC)


def test_importing_twice_adds_nothing(session: Session, tmp_path: Path) -> None:
    """The same export again is recognised row by row and stores no second copy."""
    store_export(session, load(tmp_path), file_name="export.csv", now=NOW)
    session.commit()
    first = session.get(Customer, session.exec(select(Phone.customer_id)).first())
    before = dict(first.history) if first else None
    report = store_export(session, load(tmp_path), file_name="export.csv", now=NOW)
    session.commit()
    assert (report.orders_created, report.orders_already_stored, report.customers_created) == (0, 5, 0)
    assert len(session.exec(select(Order)).all()) == 5
    session.expire_all()
    again = session.get(Customer, first.id) if first else None
    assert again is not None and again.history == before


def test_a_later_export_extends_histories_order_independently(session: Session, tmp_path: Path) -> None:
    """Two exports imported newest first score exactly like the outcomes folded in time order."""
    lines = ROWS.splitlines(keepends=True)
    store_export(session, load(tmp_path, "".join(lines[1:]), "b.csv"), file_name="b.csv", now=NOW)
    store_export(session, load(tmp_path, lines[0], "a.csv"), file_name="a.csv", now=NOW)
    session.commit()
    phone = session.exec(select(Phone).where(Phone.e164 == "+79123456789")).one()
    anna = session.get(Customer, phone.customer_id)
    assert anna is not None
    expected = CustomerHistory()
    expected = record_completed(expected, datetime(2026, 5, 1, 8, tzinfo=UTC).timestamp(), 300.0)
    expected = record_completed(expected, datetime(2026, 5, 2, 8, tzinfo=UTC).timestamp(), 400.0)
    expected = record_failed(expected, datetime(2026, 5, 3, 8, tzinfo=UTC).timestamp(), FailureCause.NO_CAR)
    assert anna.history == pytest.approx(expected.to_dict(), rel=1e-12)
    assert len(session.exec(select(Customer)).all()) == 2


def test_rollback_leaves_nothing(session: Session, tmp_path: Path) -> None:
    """Everything is in the caller's transaction: a rollback imports nothing."""
    store_export(session, load(tmp_path), file_name="export.csv", now=NOW)
    session.rollback()
    assert session.exec(select(Order)).all() == [] and session.exec(select(Customer)).all() == []


def test_after_erasure_no_stored_key_confirms_a_guessed_number(session: Session, tmp_path: Path) -> None:
    """The old key was sha256(e164|time|lat|lon): guessing numbers against it found the erased caller."""
    store_export(session, load(tmp_path), file_name="export.csv", now=NOW)
    legacy = Order(
        customer_id=session.exec(select(Phone.customer_id).where(Phone.e164 == "+79123456789")).one(),
        pickup_lat=56.84,
        pickup_lon=60.61,
        requested_at=NOW,
        status="completed",
        source="import",
        idempotency_key="import:sha256:" + hashlib.sha256(b"+79123456789|legacy").hexdigest()[:40],
    )
    session.add(legacy)
    session.commit()
    forget_customer(session, legacy.customer_id or "", NOW.timestamp())
    session.commit()
    guesses = {
        hashlib.sha256(
            f"+79123456789|{row.requested_at.isoformat()}|{lat:.6f}|{lon:.6f}".encode()
        ).hexdigest()[:40]
        for row in load(tmp_path)
        for lat, lon in ((row.lat, row.lon), (round(row.lat, 2), round(row.lon, 2)))
    }
    keys = {order.idempotency_key for order in session.exec(select(Order))}
    assert keys == {None}
    assert not any(guess in str(key) for guess in guesses for key in keys)


def test_a_second_import_is_recognised_by_number_time_and_place(session: Session, tmp_path: Path) -> None:
    """Without a stored key, the same rows are still found: same number, time and pickup."""
    store_export(session, load(tmp_path), file_name="export.csv", now=NOW)
    session.commit()
    changed = ROWS.replace("2026-05-01T08:00:00Z", "2026-05-01T08:00:01Z")  # one row is new
    report = store_export(session, load(tmp_path, changed), file_name="export.csv", now=NOW)
    assert (report.orders_created, report.orders_already_stored) == (1, 4)
