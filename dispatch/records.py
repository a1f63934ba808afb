"""What a dispatcher keeps and what can be read of it: the records behind every decision.

`Dispatcher` (dispatch.engine) decides; this base class holds what it decides
about (live orders and drivers, the timers, the arrival counter and the matcher
with its two indexes), files and unfiles orders, answers every read (views for
shells and consoles, the next timer) and rebuilds the records from persisted
views. The seam is commands against records: the engine's handlers decide what
happens (whom to serve, refuse, assign, expire) and this class only does what
they decided to the records, so reading and restoring never touch a decision
rule. (Filing an order in the queue reports its `OrderQueued`, since the
effective time comes out of the queue.)
"""

from __future__ import annotations

from dispatch.batch import BatchMatcher
from dispatch.config import DispatchConfig
from dispatch.decisions import OrderQueued
from dispatch.errors import InvalidCommand, UnknownDriver, UnknownOrder
from dispatch.matcher import Matcher
from dispatch.model import (
    DriverStatus,
    DriverView,
    OrderStatus,
    OrderView,
    QueuedOrderView,
)
from dispatch.policies import Policy
from dispatch.state import EXPIRE, RELEASE, LiveDriver, LiveOrder, Timer, Timers

# Enum members bound once: looking one up on its class costs ~120 ns on Python 3.11 (the
# enum metaclass), ten times a module global, and the handlers read several per order.
FREE, QUEUED, SCHEDULED = (DriverStatus.FREE, OrderStatus.QUEUED, OrderStatus.SCHEDULED)


class DispatcherRecords:
    """The records of one dispatcher, their views, and their filing (see the module doc)."""

    def __init__(self, policy: Policy, config: DispatchConfig) -> None:
        self.policy = policy
        self.config = config
        self._orders: dict[str, LiveOrder] = {}
        self._drivers: dict[str, LiveDriver] = {}
        self._timers = Timers(self._timer_is_live)
        self._seq = 0
        self._batch: BatchMatcher | None = None
        if config.batch_window_s is None:
            self._match = Matcher(policy, config, self._orders, self._drivers)
        else:
            self._match = self._batch = BatchMatcher(policy, config, self._orders, self._drivers)

    # ---- rebuilding from views ---------------------------------------------------

    def _restore_driver(self, view: DriverView) -> None:
        driver = self._drivers[view.driver_id] = LiveDriver(view.driver_id, view.position)
        driver.status, driver.order_id, driver.leaving = view.status, view.order_id, view.leaving
        if view.status is FREE:
            self._match.free.upsert(view.driver_id, view.position)

    def _restore_order(self, view: OrderView) -> None:
        order = view.order
        if view.status.is_terminal:
            raise InvalidCommand(f"order {order.order_id!r} is {view.status}: nothing to restore")
        self._seq += 1
        live = self._orders[order.order_id] = LiveOrder(order, self._seq)
        live.score, live.head_start_s, live.status = view.score, view.head_start_s, view.status
        if view.status is SCHEDULED:
            live.release_at = order.due_at - self.config.prebook_lead_s
            self._timers.add(live.release_at, RELEASE, order.order_id)
        elif view.status is QUEUED:
            self._enqueue(live, live.release_at)
        else:
            driver = self._drivers.get(view.driver_id or "")
            if driver is None or driver.order_id != order.order_id:
                raise InvalidCommand(
                    f"order {order.order_id!r} is {view.status} but driver {view.driver_id!r} "
                    "does not hold it"
                )
            live.driver_id = view.driver_id

    # ---- read side -------------------------------------------------------------

    @property
    def queue_length(self) -> int:
        return len(self._match.waiting)

    @property
    def free_driver_count(self) -> int:
        return len(self._match.free_ids)

    def queue_view(self) -> list[QueuedOrderView]:
        """Waiting orders in the order cars will be given out."""
        views = []
        for effective_at, _seq, order_id in self._match.waiting.in_service_order():
            live = self._orders[order_id]
            views.append(
                QueuedOrderView(
                    live.order, effective_at, live.head_start_s, live.score.tier, live.score.reason
                )
            )
        return views

    def order_view(self, order_id: str) -> OrderView:
        return self._order(order_id).view()

    def live_orders(self) -> list[OrderView]:
        return [live.view() for live in self._orders.values()]

    def driver_view(self, driver_id: str) -> DriverView:
        return self._driver(driver_id).view()

    def drivers(self) -> list[DriverView]:
        return [driver.view() for driver in self._drivers.values()]

    def next_timer_at(self) -> float | None:
        """When the next Tick has work to do (an expiry, a pre-booking release or a batch)."""
        at = self._timers.next_at()
        due_at = self.batch_due_at
        return due_at if at is None or (due_at is not None and due_at < at) else at

    @property
    def batch_due_at(self) -> float | None:
        """When the pending batch is due (batch mode; None when none is pending)."""
        return None if self._batch is None else self._batch.due_at

    # ---- filing ------------------------------------------------------------------

    def _enqueue(self, live: LiveOrder, now: float) -> OrderQueued:
        order = live.order
        live.status = QUEUED
        effective_at = self._match.waiting.push(
            order.order_id, order.pickup, order.due_at, live.head_start_s, live.seq
        )
        if self.config.max_wait_s is not None:
            live.expire_at = order.due_at + self.config.max_wait_s
            self._timers.add(live.expire_at, EXPIRE, order.order_id)
        return OrderQueued(order, live.score, live.head_start_s, effective_at, now)

    def _forget(self, live: LiveOrder) -> None:
        """Drop a finished order from every structure; its timers go stale."""
        self._leave_queue(live)
        del self._orders[live.order.order_id]

    def _leave_queue(self, live: LiveOrder) -> None:
        """Take an order out of wherever it waits for a car (nothing for one not waiting)."""
        if live.status is QUEUED:
            self._match.waiting.remove(live.order.order_id)

    def _timer_is_live(self, timer: Timer) -> bool:
        at, _, kind, order_id = timer
        live = self._orders.get(order_id)
        if live is None:
            return False
        if kind == RELEASE:
            return live.status is SCHEDULED and live.release_at == at
        return live.status is QUEUED and live.expire_at == at

    # ---- plumbing ----------------------------------------------------------------

    def _order(self, order_id: str) -> LiveOrder:
        live = self._orders.get(order_id)
        if live is None:
            raise UnknownOrder(order_id)
        return live

    def _driver(self, driver_id: str) -> LiveDriver:
        driver = self._drivers.get(driver_id)
        if driver is None:
            raise UnknownDriver(driver_id)
        return driver
