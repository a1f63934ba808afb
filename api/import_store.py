"""Writing a validated order export into the store, all in the caller's transaction.

Customers are found by phone number (created when new), known pickup addresses
are counted, each order is stored with an `imported` event, and the valuation
aggregates of every customer touched are rebuilt from all their finished
orders, so a second export appended later scores the same as one big file.
Rows whose idempotency key is already stored are skipped: importing the same
export twice changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from api.aggregates import CHUNK, rebuild_aggregates
from api.importer import ImportRow
from api.models import (
    Customer,
    Order,
    OrderEvent,
    Phone,
    PickupAddress,
    address_key,
    new_id,
)
from valuation.params import DEFAULT_PARAMS, ValuationParams


@dataclass(frozen=True, slots=True)
class ImportReport:
    orders_created: int
    orders_already_stored: int
    customers_created: int
    addresses_created: int
    customers_rescored: int


def _already_stored(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        found.update(
            str(key)
            for key in session.exec(
                select(Order.idempotency_key).where(col(Order.idempotency_key).in_(chunk))
            )
        )
    return found


def _customers_by_phone(session: Session, rows: Sequence[ImportRow]) -> tuple[dict[str, str], int]:
    """E.164 -> customer id for every known caller in `rows`, creating the new ones."""
    numbers = sorted({row.e164 for row in rows if row.e164})
    phones: dict[str, Phone] = {}
    for start in range(0, len(numbers), CHUNK):
        chunk = numbers[start : start + CHUNK]
        phones.update(
            (phone.e164, phone) for phone in session.exec(select(Phone).where(col(Phone.e164).in_(chunk)))
        )
    new_customers: list[Customer] = []
    for row in sorted((row for row in rows if row.e164), key=lambda row: row.requested_at):
        phone = phones.get(str(row.e164))
        if phone is None:
            customer = Customer(id=new_id(), display_name=row.name, created_at=row.requested_at)
            phone = Phone(
                e164=str(row.e164), raw=row.raw_phone, customer_id=customer.id, created_at=row.requested_at
            )
            new_customers.append(customer)
            phones[phone.e164] = phone
        if phone.last_seen_at is None or phone.last_seen_at < row.requested_at:
            phone.last_seen_at = row.requested_at
    session.add_all(new_customers)
    session.flush()  # no ORM relationships, so parents are flushed before the rows that point at them
    session.add_all(phones.values())
    session.flush()
    _name_unnamed(session, rows, {e164: phone.customer_id for e164, phone in phones.items()})
    return {e164: phone.customer_id for e164, phone in phones.items()}, len(new_customers)


def _name_unnamed(session: Session, rows: Sequence[ImportRow], ids: dict[str, str]) -> None:
    """Give a name from the export to customers who have none (never to forgotten ones)."""
    names = {ids[str(row.e164)]: row.name for row in rows if row.e164 and row.name}
    for customer_id, name in names.items():
        customer = session.get(Customer, customer_id)
        if customer is not None and customer.display_name is None and customer.forgotten_at is None:
            customer.display_name = name
            session.add(customer)


def _count_addresses(session: Session, rows: Sequence[ImportRow], ids: dict[str, str]) -> int:
    """Add each row's pickup to its customer's known addresses; returns how many are new."""
    customer_ids = sorted({ids[str(row.e164)] for row in rows if row.e164 and row.address})
    known: dict[tuple[str, str], PickupAddress] = {}
    for start in range(0, len(customer_ids), CHUNK):
        chunk = customer_ids[start : start + CHUNK]
        for place in session.exec(select(PickupAddress).where(col(PickupAddress.customer_id).in_(chunk))):
            known[(place.customer_id, place.address_key)] = place
    created = 0
    for row in sorted(rows, key=lambda row: row.requested_at):
        if not (row.e164 and row.address):
            continue
        slot = (ids[row.e164], address_key(row.address))
        found = known.get(slot)
        if found is None:
            found = PickupAddress(
                customer_id=slot[0],
                address_key=slot[1],
                text=row.address,
                lat=row.lat,
                lon=row.lon,
                created_at=row.requested_at,
            )
            known[slot] = found
            created += 1
        place = found
        place.use_count += 1
        if place.last_used_at is None or place.last_used_at <= row.requested_at:
            place.last_used_at = row.requested_at
            place.text, place.lat, place.lon = row.address, row.lat, row.lon
        session.add(place)
    return created


def _order(row: ImportRow, customer_id: str | None, now: datetime) -> Order:
    return Order(
        id=new_id(),
        customer_id=customer_id,
        caller_e164=row.e164,
        pickup_lat=row.lat,
        pickup_lon=row.lon,
        pickup_address=row.address,
        requested_at=row.requested_at,
        status=row.status.value,
        failure_cause=row.cause.value if row.cause else None,
        fare=row.fare,
        source="import",
        idempotency_key=row.key,
        created_at=now,
        updated_at=now,
    )


def store_export(
    session: Session,
    rows: Sequence[ImportRow],
    *,
    file_name: str,
    now: datetime,
    params: ValuationParams = DEFAULT_PARAMS,
) -> ImportReport:
    """Write valid rows; the caller commits (or rolls back, and nothing was imported)."""
    stored = _already_stored(session, [row.key for row in rows])
    fresh = [row for row in rows if row.key not in stored]
    ids, customers_created = _customers_by_phone(session, fresh)
    addresses_created = _count_addresses(session, fresh, ids)
    orders = [_order(row, ids.get(str(row.e164)), now) for row in fresh]
    session.add_all(orders)
    session.flush()
    session.add_all(
        OrderEvent(
            order_id=order.id,
            at=now,
            kind="imported",
            status=order.status,
            actor="import",
            cause=order.failure_cause,
            payload={"file": file_name, "line": row.line},
        )
        for order, row in zip(orders, fresh, strict=True)
    )
    rescored = rebuild_aggregates(
        session, {order.customer_id for order in orders if order.customer_id is not None}, params
    )
    session.flush()
    return ImportReport(
        orders_created=len(orders),
        orders_already_stored=len(rows) - len(fresh),
        customers_created=customers_created,
        addresses_created=addresses_created,
        customers_rescored=rescored,
    )
