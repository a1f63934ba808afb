"""Keeps the in-memory address book (`api.places.book`) equal to the store's pickup addresses.

The book is read once at start-up from `pickup_addresses` (one row per
customer and address, with its use count) and kept current off the request
path by one background task:

- every `order_created` on the bus (any replica's writer publishes there) names
  an order; its customer's row for that address is read again by its unique
  key (customer, address key) and the growth of its count since last read is
  added to the book, so the book counts each use once however it learns of it;
- every `resync_s`, rows added by another process (`keepcab import orders`
  into a running server) are read by primary key, `id` above the last seen;
- `customer_forgotten` rebuilds the book from the store, so an erased
  customer's addresses leave the suggestions (erasure deletes their rows).

The task never holds the writer: it reads in the thread pool through its own
sessions, and a failed read leaves the book as it was until the next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from api.events import EventBus
from api.models import Order, PickupAddress, address_key

from .book import AddressBook

log = logging.getLogger(__name__)
BATCH = 5000
_ROW = select(  # type: ignore[call-overload]
    PickupAddress.id, PickupAddress.text, PickupAddress.lat, PickupAddress.lon, PickupAddress.use_count
)


class AddressIndex:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._factory = session_factory
        self.book = AddressBook()
        self._seen: dict[int, int] = {}  # pickup_addresses.id -> use_count already in the book
        self._max_id = 0
        self._orders: set[str] = set()
        self._rebuild = True
        self._wake = asyncio.Event()
        self.rounds = 0  # background rounds finished (tests wait on it)

    def mark_loaded(self) -> None:
        """The lifespan read the book already: the first round need not read it again."""
        self._rebuild = False

    def load(self) -> None:
        """Read every pickup address into a fresh book (start-up and after an erasure)."""
        rows: list[Any] = []
        with self._factory() as session:
            while True:
                batch = session.exec(_rows_after(rows[-1].id if rows else 0)).all()
                rows.extend(batch)
                if len(batch) < BATCH:
                    break
        self.book = AddressBook.of((row.text, row.lat, row.lon, row.use_count) for row in rows)
        self._seen = {row.id: row.use_count for row in rows}
        self._max_id = max(self._seen, default=0)

    def catch_up(self) -> None:
        """Rows another process added since the last read."""
        with self._factory() as session:
            while rows := session.exec(_rows_after(self._max_id)).all():
                for row in rows:
                    self._count(row)
                if len(rows) < BATCH:
                    break

    def read_orders(self, order_ids: set[str]) -> None:
        with self._factory() as session:
            orders = session.exec(select(Order).where(col(Order.id).in_(sorted(order_ids)))).all()
            for order in orders:
                if order.customer_id is None or not order.pickup_address:
                    continue
                row = session.exec(
                    _ROW.where(
                        col(PickupAddress.customer_id) == order.customer_id,
                        col(PickupAddress.address_key) == address_key(order.pickup_address),
                    )
                ).first()
                if row is not None:
                    self._count(row)

    def _count(self, row: Any) -> None:
        grown = row.use_count - self._seen.get(row.id, 0)
        if grown > 0:
            self.book.add(row.text, row.lat, row.lon, grown)
            self._seen[row.id] = row.use_count
        self._max_id = max(self._max_id, row.id)

    def follow(self, bus: EventBus, resync_s: float) -> asyncio.Task[None]:
        """Start the background task: note the bus's events, read what they name."""
        subscription = bus.subscribe(buffer=10_000)

        async def listen() -> None:
            async for event in subscription:
                if event.kind == "customer_forgotten":
                    self._rebuild = True
                elif event.kind == "order_created" and event.data.get("order_id"):
                    self._orders.add(str(event.data["order_id"]))
                else:
                    continue
                self._wake.set()

        async def run() -> None:
            listening = asyncio.create_task(listen())
            try:
                await self._rounds(resync_s)
            finally:
                listening.cancel()
                subscription.close()

        return asyncio.create_task(run(), name="keepcab-address-index")

    async def _rounds(self, resync_s: float) -> None:
        caught_up = time.monotonic()
        while True:
            try:
                if self._rebuild:
                    self._rebuild, self._orders = False, set()
                    await run_in_threadpool(self.load)
                orders, self._orders = self._orders, set()
                if orders:
                    await run_in_threadpool(self.read_orders, orders)
                if time.monotonic() - caught_up >= resync_s:
                    await run_in_threadpool(self.catch_up)
                    caught_up = time.monotonic()
            except Exception as error:  # the book stays as it was; the next round tries again
                log.warning("refreshing the address book failed (%s)", type(error).__name__)
                self._rebuild = self._rebuild or not self._seen
            self.rounds += 1
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(resync_s):
                    await self._wake.wait()
            self._wake.clear()


def _rows_after(last_id: int):  # type: ignore[no-untyped-def]
    """Plain rows, not ORM objects: a start-up read of a large book is several times faster."""
    return _ROW.where(col(PickupAddress.id) > last_id).order_by(col(PickupAddress.id)).limit(BATCH)
