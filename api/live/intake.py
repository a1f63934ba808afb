"""Order intake and forgetting, run by the writer inside its transaction.

Intake decides whether a request is a new order at all before it touches the
engine: an `Idempotency-Key` seen before returns the first order (a retried
webhook; `api.live.replay`), and a live order of the same customer from the same pickup within
`duplicate_order_window_s` is returned instead of a second one (the redial
guard: Spare uses the same rider, same address, 30 minutes). Every check reads
before anything is written, so a refused request leaves the transaction clean
for the other commands in the writer's batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, update
from sqlmodel import Session, col, select

from api.models import (
    Call,
    CallOutcome,
    Customer,
    Order,
    OrderEvent,
    Phone,
    PickupAddress,
    address_key,
    from_epoch_s,
    new_id,
)
from api.phones import NumberKind, normalise_phone
from dispatch.geo import haversine_m
from dispatch.model import TERMINAL_ORDER_STATUSES, Position

from .commands import Conflict, NotFound, OrderIntake, RequestProblem, SubmitOrder
from .customer_care import erase_care

PICKUP_AT_PAST_S = 600.0  # "pick me up at 10:00" typed at 10:05 is still meant now
PICKUP_AT_AHEAD_S = 90 * 86400.0
SAME_PICKUP_M = (
    150.0  # two pickups this close are one place (GPS noise, the other side of the road)
)
LEGACY_IMPORT_KEY = "import:sha256:"  # sha256(e164|time|lat|lon): would confirm a guessed number
_LIVE = sorted({"scheduled", "queued", "assigned", "picked_up"})
_TERMINAL = sorted(status.value for status in TERMINAL_ORDER_STATUSES)


# Statements of the intake hot path, built once (building one costs about as much as running it).
_PHONE = select(Phone).where(col(Phone.e164) == bindparam("e164"))
_PLACE = select(PickupAddress).where(
    col(PickupAddress.customer_id) == bindparam("customer_id"),
    col(PickupAddress.address_key) == bindparam("key"),
)


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """The order the request maps to; `created` False means an earlier order was returned."""

    order: Order
    created: bool
    why_existing: str | None = None  # "idempotency_key" or "duplicate"


@dataclass(frozen=True, slots=True)
class Caller:
    customer_id: str | None
    e164: str | None
    raw: str | None
    is_new: bool
    new_number: bool = False  # a known customer calling from a number we have not seen
    phone: Phone | None = None  # the stored number the caller was found by


def check_pickup_time(intake: OrderIntake, now: float) -> None:
    """A pre-booking is for the near future: a typo'd year must not be stored or expire at once."""
    if intake.pickup_at is None:
        return
    if intake.pickup_at < now - PICKUP_AT_PAST_S:
        raise RequestProblem(("body", "pickup_at"), "is in the past")
    if intake.pickup_at > now + PICKUP_AT_AHEAD_S:
        raise RequestProblem(
            ("body", "pickup_at"), f"is more than {PICKUP_AT_AHEAD_S // 86400:.0f} days ahead"
        )


def resolve_caller(session: Session, intake: OrderIntake, region: str) -> Caller:
    """Who is ordering: by phone number (any format), by customer id, or nobody (withheld)."""
    e164: str | None = None
    by_phone: str | None = None
    phone: Phone | None = None
    if intake.phone is not None:
        number = normalise_phone(intake.phone, region)
        if number.kind is NumberKind.INVALID:
            raise RequestProblem(("body", "phone"), f"not a phone number: {number.problem}")
        e164 = number.e164
        if e164 is not None:
            phone = session.exec(_PHONE, params={"e164": e164}).first()
            by_phone = None if phone is None else phone.customer_id
    if intake.customer_id is not None:
        if session.get(Customer, intake.customer_id) is None:
            raise RequestProblem(("body", "customer_id"), "unknown customer")
        if by_phone is not None and by_phone != intake.customer_id:
            raise RequestProblem(
                ("body", "customer_id"), "the phone number belongs to another customer"
            )
        new_number = e164 is not None and by_phone is None
        return Caller(intake.customer_id, e164, intake.phone, False, new_number, phone)
    if e164 is None:
        return Caller(None, None, intake.phone, is_new=False)
    return Caller(by_phone or new_id(), e164, intake.phone, is_new=by_phone is None, phone=phone)


def find_duplicate(
    session: Session, intake: OrderIntake, caller: Caller, now: float, window_s: float
) -> IntakeResult | None:
    """A live order of the same customer from the same pickup, asked for within the window."""
    if caller.customer_id is None or caller.is_new or intake.allow_duplicate or window_s <= 0:
        return None
    since = from_epoch_s(now - window_s)
    candidates = session.exec(
        select(Order)
        .where(Order.customer_id == caller.customer_id, col(Order.status).in_(_LIVE))
        .where(col(Order.requested_at) >= since)
        .order_by(col(Order.requested_at).desc())
    ).all()
    key = address_key(intake.pickup_address) if intake.pickup_address else None
    for row in candidates:
        same_text = (
            key is not None and row.pickup_address and address_key(row.pickup_address) == key
        )
        near = haversine_m(Position(row.pickup_lat, row.pickup_lon), intake.pickup) <= SAME_PICKUP_M
        if same_text or near:
            return IntakeResult(row, created=False, why_existing="duplicate")
    return None


def store_new_order(session: Session, request: SubmitOrder, caller: Caller, now: float) -> Order:
    """Write the customer (if new), their number and address, and the order row itself."""
    intake, at = request.intake, from_epoch_s(now)
    if caller.customer_id is not None and caller.is_new:
        session.add(
            Customer(id=caller.customer_id, created_at=at, display_name=intake.customer_name)
        )  # no flush needed: the unit of work inserts rows in foreign-key order
    elif caller.customer_id is not None and intake.customer_name:
        name_unnamed(session, caller.customer_id, intake.customer_name)
    if caller.customer_id is not None and (caller.is_new or caller.new_number):
        raw = (caller.raw or "")[:64]
        session.add(
            Phone(e164=str(caller.e164), raw=raw, customer_id=caller.customer_id, last_seen_at=at)
        )
    elif caller.phone is not None:
        caller.phone.last_seen_at = at
        session.add(caller.phone)
    if caller.customer_id is not None and intake.pickup_address:
        count_address(
            session,
            caller.customer_id,
            intake.pickup_address,
            intake.pickup,
            at,
            known=not caller.is_new,
        )
    row = Order(
        id=new_id(),
        customer_id=caller.customer_id,
        caller_e164=caller.e164,
        pickup_lat=intake.pickup.lat,
        pickup_lon=intake.pickup.lon,
        pickup_address=intake.pickup_address,
        dropoff_lat=None if intake.dropoff is None else intake.dropoff.lat,
        dropoff_lon=None if intake.dropoff is None else intake.dropoff.lon,
        dropoff_address=intake.dropoff_address,
        pickup_at=None if intake.pickup_at is None else from_epoch_s(intake.pickup_at),
        requested_at=at,
        status="queued",
        source=request.source,
        idempotency_key=request.idempotency_key,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    session.add(
        OrderEvent(
            order_id=row.id,
            at=at,
            kind="created",
            status=None,
            actor=request.actor,
            payload={"source": request.source},
        )
    )
    if intake.call_id is not None:
        link_call(session, require_call(session, intake.call_id), row)
    return row


def name_unnamed(session: Session, customer_id: str, name: str) -> None:
    """The operator's spelling names a customer who has no name yet (never a forgotten one)."""
    customer = session.get(Customer, customer_id)
    if customer is not None and customer.display_name is None and customer.forgotten_at is None:
        customer.display_name = name
        session.add(customer)


def count_address(
    session: Session,
    customer_id: str,
    text: str,
    at_point: Position,
    at: datetime,
    known: bool = True,
) -> None:
    """One more use of a pickup address; a customer created just now has none to look up."""
    key = address_key(text)
    place = None
    if known:
        place = session.exec(_PLACE, params={"customer_id": customer_id, "key": key}).first()
    if place is None:
        place = PickupAddress(
            customer_id=customer_id,
            address_key=key,
            text=text,
            lat=at_point.lat,
            lon=at_point.lon,
            created_at=at,
        )
    place.use_count += 1
    place.last_used_at = at
    place.text, place.lat, place.lon = text, at_point.lat, at_point.lon
    session.add(place)


def require_call(session: Session, call_id: str) -> Call:
    call = session.exec(select(Call).where(Call.external_id == call_id)).first()
    if call is None:
        raise RequestProblem(("body", "call_id"), "unknown call id")
    return call


def link_call(session: Session, call: Call, row: Order) -> None:
    """The call this order came from is marked as having produced an order."""
    call.order_id, call.outcome = row.id, CallOutcome.ORDER_CREATED.value
    if call.customer_id is None:
        call.customer_id = row.customer_id
    session.add(call)


def forget_customer(session: Session, customer_id: str, now: float) -> dict[str, int]:
    """Erase name, numbers and addresses; keep the anonymous aggregates and order outcomes.

    Pickup text and caller numbers go from the customer's orders and calls;
    coordinates of finished orders are coarsened to about a kilometre (two
    decimals), enough for demand maps, too coarse to find a front door.
    """
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"unknown customer {customer_id!r}")
    if customer.forgotten_at is not None:
        raise Conflict(f"customer {customer_id!r} was already forgotten")
    numbers = list(session.exec(select(Phone.e164).where(Phone.customer_id == customer_id)))
    calls = session.execute(
        update(Call)
        .where(or_(col(Call.customer_id) == customer_id, col(Call.caller_e164).in_(numbers)))
        .values(caller_raw=None, caller_e164=None)
    )
    phones = session.execute(delete(Phone).where(col(Phone.customer_id) == customer_id))
    places = session.execute(
        delete(PickupAddress).where(col(PickupAddress.customer_id) == customer_id)
    )
    session.execute(
        update(Order)
        .where(col(Order.customer_id) == customer_id)
        .values(pickup_address=None, dropoff_address=None, caller_e164=None)
    )
    session.execute(  # keys of earlier imports hashed number, time and place: unsalted
        update(Order)
        .where(col(Order.customer_id) == customer_id)
        .where(col(Order.idempotency_key).startswith(LEGACY_IMPORT_KEY))
        .values(idempotency_key=None)
    )
    for row in session.exec(
        select(Order).where(Order.customer_id == customer_id, col(Order.status).in_(_TERMINAL))
    ):
        row.pickup_lat, row.pickup_lon = round(row.pickup_lat, 2), round(row.pickup_lon, 2)
        if row.dropoff_lat is not None and row.dropoff_lon is not None:
            row.dropoff_lat, row.dropoff_lon = round(row.dropoff_lat, 2), round(row.dropoff_lon, 2)
        session.add(row)
    customer.display_name = None
    erase_care(session, customer)
    customer.forgotten_at = from_epoch_s(now)
    session.add(customer)
    return {"phones": _rowcount(phones), "addresses": _rowcount(places), "calls": _rowcount(calls)}


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def purge_cutoff(now: float, retention_days: int) -> datetime:
    return from_epoch_s(now) - timedelta(days=retention_days)
