"""Who owns each number, in memory: the ringing lookup never waits for the database or the writer.

The PBX holds the call until keepcab answers `call.ringing`; with eight lines
ringing at once, a lookup that reads the store queues behind the other
lookups, the writer's commits and the thread pool (bench/api.py measured
p99 72-103 ms at 8 channels against the promised 20 ms). So every known
number maps to a `KnownCaller` here: the customer's aggregates (the tier is
scored from them at ring time, as `current_score` does), their last three
pickup addresses and their live order.

The index is loaded once at start-up and kept current by the writer's own
events (`DispatcherService.committed`, called before the writer answers):
every event about an order makes its customer's entry be read again by a
background task, off the ringing path, and `customer_forgotten` drops the
entry at once. A ring that arrives while such a read is under way waits for
it (at most `caller_index_wait_s`), so a caller who rings right after their
order's 201 is seen with it; a ring with nothing pending reads memory only.
Numbers written by another process (`keepcab import orders` against a
running server) are picked up by a catch-up read of new phone rows every
`caller_index_resync_s`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.events import Event, EventBus
from api.models import Customer, Order, Phone, PickupAddress
from dispatch.model import TERMINAL_ORDER_STATUSES

log = logging.getLogger(__name__)
BATCH = 500
CUSTOMER_UPDATED = "customer_updated"  # a writer event: what operators keep about a customer changed
_TERMINAL = sorted(s.value for s in TERMINAL_ORDER_STATUSES)


@dataclass(frozen=True, slots=True)
class Place:
    text: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class LiveOrder:
    order_id: str
    status: str
    driver_id: str | None
    eta_s: float | None


@dataclass(frozen=True, slots=True)
class KnownCaller:
    customer: Customer  # a detached copy: its aggregates score the tier at ring time
    addresses: tuple[Place, ...]
    active_order: LiveOrder | None


class CallerIndex:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._session_factory = session_factory
        self._owner: dict[str, str] = {}  # e164 -> customer id
        self._phones: dict[str, set[str]] = {}  # customer id -> e164 numbers
        self._callers: dict[str, KnownCaller] = {}
        self._max_phone_id = 0
        self._pending: set[str] = set()  # orders whose customers must be read again
        self._pending_customers: set[str] = set()  # customers changed without an order (notes, flag)
        self._reading = False
        self._wake = asyncio.Event()
        self._progress = asyncio.Condition()
        self.loaded = False  # every caller read once (False while the store was down at start)
        self.refreshed = 0  # entries read since start-up
        self.late = 0  # rings answered before a noted change was read (waited the limit)

    def __len__(self) -> int:
        return len(self._owner)

    def lookup(self, e164: str) -> KnownCaller | None:
        """A dictionary read: no I/O, no lock, no thread."""
        customer_id = self._owner.get(e164)
        return None if customer_id is None else self._callers.get(customer_id)

    def forget(self, customer_id: str) -> None:
        for number in self._phones.pop(customer_id, set()):
            if self._owner.get(number) == customer_id:
                del self._owner[number]
        self._callers.pop(customer_id, None)

    # ---- reads of the store (worker threads, never on the ringing path) -------------------

    def load_all(self) -> None:
        with self._session_factory() as session:
            ids = list(session.exec(select(Customer.id).where(col(Customer.forgotten_at).is_(None))))
        self.refresh(ids)

    def catch_up(self) -> int:
        """Read the customers of phone rows added since the last read (by this or another process)."""
        with self._session_factory() as session:
            rows = session.exec(
                select(Phone.id, Phone.customer_id).where(col(Phone.id) > self._max_phone_id)
            ).all()
        self.refresh({customer_id for _, customer_id in rows})
        self._max_phone_id = max([self._max_phone_id, *(int(phone_id or 0) for phone_id, _ in rows)])
        return len(rows)

    def customers_of_orders(self, order_ids: Iterable[str]) -> set[str]:
        wanted = sorted(set(order_ids))
        if not wanted:
            return set()
        with self._session_factory() as session:
            rows = session.exec(select(Order.customer_id).where(col(Order.id).in_(wanted))).all()
        return {row for row in rows if row is not None}

    def refresh_orders(self, order_ids: Iterable[str]) -> None:
        self.refresh(self.customers_of_orders(order_ids))

    def refresh_changed(self, order_ids: Iterable[str], customer_ids: set[str]) -> None:
        self.refresh(self.customers_of_orders(order_ids) | customer_ids)

    def refresh(self, customer_ids: Iterable[str]) -> None:
        ordered = sorted(set(customer_ids))
        for start in range(0, len(ordered), BATCH):
            batch = ordered[start : start + BATCH]
            with self._session_factory() as session:
                self._replace(batch, *_read(session, batch))
            self.refreshed += len(batch)

    def _replace(
        self,
        batch: list[str],
        customers: dict[str, Customer],
        phones: dict[str, set[str]],
        places: dict[str, tuple[Place, ...]],
        live: dict[str, LiveOrder],
    ) -> None:
        for customer_id in batch:
            self.forget(customer_id)
            customer = customers.get(customer_id)
            if customer is None or customer.forgotten_at is not None:
                continue
            caller = KnownCaller(customer, places.get(customer_id, ()), live.get(customer_id))
            self._callers[customer_id] = caller
            self._phones[customer_id] = phones.get(customer_id, set())
            for number in self._phones[customer_id]:
                self._owner[number] = customer_id

    # ---- kept current by the writer's events ----------------------------------------------

    async def start(self, resync_s: float) -> asyncio.Task[None]:
        """Load every caller, then keep up with what `note` is told (and with other processes)."""
        try:
            await run_in_threadpool(self._load)
        except Exception as error:  # the store is down: the server still starts, the loop retries
            kind = type(error).__name__
            log.warning("loading the caller index failed (%s); retried every %.0f s", kind, resync_s)
        return asyncio.create_task(self._follow(resync_s), name="keepcab-caller-index")

    def _load(self) -> None:
        self.load_all()
        self.catch_up()
        self.loaded = True

    def note(self, events: list[Event]) -> None:
        """The writer's committed events (DispatcherService.committed): no I/O, called before the
        writer answers anyone, so a ring after an order's 201 waits for that order's refresh."""
        for event in events:
            if event.kind == "customer_forgotten":
                self.forget(str(event.data["customer_id"]))
            elif event.kind == CUSTOMER_UPDATED:
                self._pending_customers.add(str(event.data["customer_id"]))
            elif event.data.get("order_id") is not None:
                self._pending.add(str(event.data["order_id"]))
        if self._pending or self._pending_customers:
            self._wake.set()

    def follow(self, bus: EventBus) -> asyncio.Task[None]:
        """Note every event of the bus (scale-out, where the writer may be another replica: a ring
        right after an order's 201 on another replica may come before its event)."""
        subscription = bus.subscribe(buffer=10_000)

        async def run() -> None:
            try:
                async for event in subscription:
                    self.note([event])
            finally:
                subscription.close()

        return asyncio.create_task(run(), name="keepcab-caller-index-bus")

    async def current(self, limit_s: float) -> None:
        """Return once no noted change is unread, or after `limit_s` (the answer is then as of now)."""
        if not self._pending and not self._pending_customers and not self._reading:
            return
        async with self._progress:
            try:
                await asyncio.wait_for(
                    self._progress.wait_for(self._is_current), limit_s
                )
            except TimeoutError:
                self.late += 1

    def _is_current(self) -> bool:
        return not self._pending and not self._pending_customers and not self._reading

    async def _follow(self, resync_s: float) -> None:
        caught_up = time.monotonic()
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel that lands as the
            # wake-up does, and this loop then outlives the app's shutdown (seen once, a 300 s hang).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(resync_s):
                    await self._wake.wait()
            self._wake.clear()
            orders, self._pending = self._pending, set()
            customers, self._pending_customers = self._pending_customers, set()
            self._reading = bool(orders or customers)
            try:
                if orders or customers:
                    await run_in_threadpool(self.refresh_changed, orders, customers)
                if time.monotonic() - caught_up >= resync_s:
                    await run_in_threadpool(self.catch_up if self.loaded else self._load)
                    caught_up = time.monotonic()
            except Exception as error:  # a failed read leaves the entries as they were; retried later
                log.warning("refreshing the caller index failed (%s)", type(error).__name__)
            finally:
                self._reading = False
                async with self._progress:
                    self._progress.notify_all()


def _read(
    session: Session, batch: list[str]
) -> tuple[dict[str, Customer], dict[str, set[str]], dict[str, tuple[Place, ...]], dict[str, LiveOrder]]:
    customers = {
        row.id: Customer.model_validate(row.model_dump())
        for row in session.exec(select(Customer).where(col(Customer.id).in_(batch)))
    }
    phones: dict[str, set[str]] = defaultdict(set)
    for phone in session.exec(select(Phone).where(col(Phone.customer_id).in_(batch))):
        phones[phone.customer_id].add(phone.e164)
    places: dict[str, list[Place]] = defaultdict(list)
    addresses = session.exec(
        select(PickupAddress)
        .where(col(PickupAddress.customer_id).in_(batch))
        .order_by(col(PickupAddress.last_used_at).desc(), col(PickupAddress.use_count).desc())
    )
    for address in addresses:
        if len(places[address.customer_id]) < 3:
            places[address.customer_id].append(Place(address.text, address.lat, address.lon))
    live: dict[str, LiveOrder] = {}
    orders = session.exec(
        select(Order)
        .where(col(Order.customer_id).in_(batch), col(Order.status).not_in(_TERMINAL))
        .order_by(col(Order.requested_at).desc())
    )
    for order in orders:
        if order.customer_id is not None and order.customer_id not in live:
            live[order.customer_id] = LiveOrder(order.id, order.status, order.driver_id, order.eta_s)
    return customers, dict(phones), {k: tuple(v) for k, v in places.items()}, live
