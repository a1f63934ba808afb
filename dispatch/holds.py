"""Orders promised to a car that is about to become free (an operator's "next job for car 7").

A dispatcher sees car 7 dropping a passenger round the corner from a waiting
caller and gives the caller to car 7 rather than to a free car further away.
The order leaves the waiting orders (no other car takes it) but stays QUEUED,
marked `held_for` the driver; the driver carries it as `next_order_id` and is
handed it, as a manual assignment, the moment their job ends (`take_next`, from
`DriverSide._make_free`: a completed trip or a cancelled one). The promise is
undone, and the order goes back to its place in the queue with its original
key, when the operator takes it back (`CancelHold`) or the driver asks to go
offline after the job (`DriverOffline(when_free=True)`); a cancel or an expiry
of the order itself clears the driver's promise. One promise per car.

This is a base of `Dispatcher` (over `DispatcherRecords`) so that the state
machine stays in one object (the simulator drives the same commands) while its
code stays in its own module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dispatch.commands import AssignNext, CancelHold
from dispatch.decisions import Decision, OrderHeld, OrderHoldReleased
from dispatch.errors import InvalidTransition
from dispatch.model import DriverStatus, OrderStatus, OrderView
from dispatch.records import DispatcherRecords
from dispatch.state import LiveDriver, LiveOrder

_BUSY = (DriverStatus.EN_ROUTE, DriverStatus.ON_TRIP)


class Holds(DispatcherRecords):
    """Promises on top of the records: what a restart and a finished order must undo."""

    if TYPE_CHECKING:  # Dispatcher's own, used here

        def _assign(
            self, live: LiveOrder, driver: LiveDriver, now: float, *, manual: bool, dist_m: float = -1.0
        ) -> list[Decision]: ...

    def _restore_order(self, view: OrderView) -> None:
        super()._restore_order(view)
        if view.status is OrderStatus.QUEUED:
            self._restore_hold(self._orders[view.order.order_id], view.held_for)

    def _restore_hold(self, live: LiveOrder, driver_id: str | None) -> None:
        """A promise survives a restart while its driver is still busy and has no other."""
        driver = self._drivers.get(driver_id or "")
        if driver is None or driver.status not in _BUSY:
            return
        if driver.leaving or driver.next_order_id is not None:
            return
        self._match.waiting.remove(live.order.order_id)
        live.held_for, driver.next_order_id = driver.driver_id, live.order.order_id

    def _leave_queue(self, live: LiveOrder) -> None:
        """A held order waits for its car, not in the waiting orders: undo the promise instead."""
        if live.held_for is None:
            super()._leave_queue(live)
        else:
            self._drop_hold(live)

    def _hold(self, command: AssignNext, now: float) -> list[Decision]:
        live, driver = self._order(command.order_id), self._driver(command.driver_id)
        if live.status is not OrderStatus.QUEUED or live.held_for is not None:
            held = f" for {live.held_for!r}" if live.held_for else ""
            raise InvalidTransition(
                f"order {command.order_id!r} is {live.status}{held}, not waiting in the queue"
            )
        if driver.status not in _BUSY:
            raise InvalidTransition(
                f"driver {driver.driver_id!r} is {driver.status}: only a car on a job is promised its next"
            )
        if driver.leaving or driver.next_order_id is not None:
            why = (
                "ends the shift after this job"
                if driver.leaving
                else f"already has {driver.next_order_id!r} next"
            )
            raise InvalidTransition(f"driver {driver.driver_id!r} {why}")
        self._match.waiting.remove(live.order.order_id)
        live.held_for, driver.next_order_id = driver.driver_id, live.order.order_id
        return [OrderHeld(live.order.order_id, driver.driver_id, now)]

    def _cancel_hold(self, command: CancelHold, now: float) -> list[Decision]:
        live = self._order(command.order_id)
        if live.held_for is None:
            raise InvalidTransition(f"order {command.order_id!r} is not held for a car")
        return self._requeue(live, now)

    def _requeue(self, live: LiveOrder, now: float) -> list[Decision]:
        """Back to its place in the queue (the same key), or to a free car that can take it now."""
        driver_id = self._drop_hold(live)
        order = live.order
        effective_at = order.due_at - live.head_start_s
        released: list[Decision] = [OrderHoldReleased(order.order_id, driver_id, effective_at, now)]
        found = self._match.car_for(live)
        if found is not None:
            car, dist_m = found
            return [*released, *self._assign(live, car, now, manual=False, dist_m=dist_m)]
        self._match.waiting.push(order.order_id, order.pickup, order.due_at, live.head_start_s, live.seq)
        return released

    def _drop_hold(self, live: LiveOrder) -> str:
        """Undo a promise on both sides; the driver's id."""
        driver_id = live.held_for
        assert driver_id is not None
        self._drivers[driver_id].next_order_id = None
        live.held_for = None
        return driver_id

    def _release_next(self, driver: LiveDriver, now: float) -> list[Decision]:
        """A driver leaving after the job gives their promised order back to the queue."""
        if driver.next_order_id is None:
            return []
        return self._requeue(self._orders[driver.next_order_id], now)

    def take_next(self, driver: LiveDriver, now: float) -> list[Decision] | None:
        """A driver whose job just ended takes the order promised to them, if any."""
        order_id = driver.next_order_id
        if order_id is None:
            return None
        live = self._orders[order_id]
        self._drop_hold(live)
        return self._assign(live, driver, now, manual=True)
