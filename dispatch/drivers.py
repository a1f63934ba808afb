"""The driver side of the dispatcher: a car coming on, going off, moving, arriving, finishing.

A car that becomes free (its trip done, its order cancelled, its shift begun)
takes the best waiting order it may, or joins the free cars, and its joining may
let the policy admit an order that waited beside another free car
(`dispatch.matcher` answers all three searches). This is a base of `Dispatcher`
over `Holds`, as `Holds` is over the records: one state machine in one object
(the simulator drives the same commands as the live server), its order side in
`dispatch.engine`, its driver side here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dispatch.commands import DriverArrived, DriverMoved, DriverOffline, DriverOnline, TripCompleted
from dispatch.decisions import (
    Decision,
    DriverLeaving,
    DriverStatusChanged,
    OrderCompleted,
    OrderPickedUp,
)
from dispatch.errors import DriverBusy, InvalidTransition
from dispatch.holds import Holds
from dispatch.model import DriverStatus, OrderStatus
from dispatch.state import LiveDriver, LiveOrder

# Enum members bound once: looking one up on its class costs ~120 ns on Python 3.11.
EN_ROUTE, FREE, OFFLINE, ON_TRIP, COMPLETED, PICKED_UP = (
    DriverStatus.EN_ROUTE,
    DriverStatus.FREE,
    DriverStatus.OFFLINE,
    DriverStatus.ON_TRIP,
    OrderStatus.COMPLETED,
    OrderStatus.PICKED_UP,
)


class DriverSide(Holds):
    """The driver commands' handlers and `_make_free`; the order side is `Dispatcher`'s."""

    _every_car_status: bool  # Dispatcher's own (`report_every_car_status`), read here

    if TYPE_CHECKING:  # Dispatcher's own, used here

        def _assign(
            self, live: LiveOrder, driver: LiveDriver, now: float, *, manual: bool, dist_m: float = -1.0
        ) -> list[Decision]: ...

    def _online(self, command: DriverOnline, now: float) -> list[Decision]:
        driver = self._drivers.get(command.driver_id)
        if driver is not None and driver.leaving:
            driver.leaving = False  # back on before the last job ended: stays on
            return [DriverLeaving(driver.driver_id, False, now)]
        if driver is not None and driver.status is not OFFLINE:
            raise InvalidTransition(f"driver {command.driver_id!r} is already {driver.status}")
        if driver is None:
            driver = self._drivers[command.driver_id] = LiveDriver(command.driver_id, command.position)
        driver.position = command.position
        return self._make_free(driver, now)

    def _offline(self, command: DriverOffline, now: float) -> list[Decision]:
        driver = self._driver(command.driver_id)
        busy = driver.status in (EN_ROUTE, ON_TRIP)
        if busy and command.when_free:
            driver.leaving = True
            return [DriverLeaving(driver.driver_id, True, now), *self._release_next(driver, now)]
        if driver.status is not FREE:
            raise DriverBusy(driver.driver_id, driver.status)
        self._match.free.remove(driver.driver_id)
        return self._go_offline(driver, now)

    def _go_offline(self, driver: LiveDriver, now: float) -> list[Decision]:
        driver.status = OFFLINE
        driver.leaving = False
        return [DriverStatusChanged(driver.driver_id, OFFLINE, driver.position, now)]

    def _moved(self, command: DriverMoved, now: float) -> list[Decision]:
        driver = self._driver(command.driver_id)
        driver.position = command.position
        if driver.status is not FREE:
            return []
        self._match.free.upsert(driver.driver_id, command.position)
        order_id = self._match.order_for(driver)
        if order_id is None:
            return []
        self._match.waiting.remove(order_id)
        return self._assign(self._orders[order_id], driver, now, manual=False)

    def _arrived(self, command: DriverArrived, now: float) -> list[Decision]:
        # A driver record is always truthy: `_driver` is called (and raises) only when unknown.
        driver = self._drivers.get(command.driver_id) or self._driver(command.driver_id)
        if driver.status is not EN_ROUTE or driver.order_id is None:
            raise InvalidTransition(f"driver {driver.driver_id!r} is {driver.status}, not en route")
        live = self._orders[driver.order_id]
        live.status = PICKED_UP
        driver.status = ON_TRIP
        picked_up = OrderPickedUp(live.order.order_id, driver.driver_id, now)
        if not self._every_car_status:
            return [picked_up]
        return [picked_up, DriverStatusChanged(driver.driver_id, ON_TRIP, driver.position, now)]

    def _completed(self, command: TripCompleted, now: float) -> list[Decision]:
        driver = self._drivers.get(command.driver_id) or self._driver(command.driver_id)  # as above
        if driver.status is not ON_TRIP or driver.order_id is None:
            raise InvalidTransition(f"driver {driver.driver_id!r} is {driver.status}, not on a trip")
        live = self._orders.pop(driver.order_id)
        live.status = COMPLETED
        driver.order_id = None
        driver.position = command.position
        decisions: list[Decision] = [OrderCompleted(live.order.order_id, driver.driver_id, command.fare, now)]
        decisions.extend(self._make_free(driver, now))
        return decisions

    def _make_free(self, driver: LiveDriver, now: float) -> list[Decision]:
        """A car that becomes free takes the best waiting order it may, or joins the free index;
        a driver at the end of their shift goes offline instead."""
        if driver.leaving:
            return self._go_offline(driver, now)
        if driver.next_order_id is not None:  # a promise to keep (`take_next`); rare
            promised = self.take_next(driver, now)
            if promised is not None:
                return promised
        driver.status = FREE
        order_id = self._match.order_for(driver)
        if order_id is None:
            self._match.free.upsert(driver.driver_id, driver.position)
            became_free: list[Decision] = (
                [DriverStatusChanged(driver.driver_id, FREE, driver.position, now)]
                if self._every_car_status else []
            )
            pair = self._match.supply_now_admits(driver)
            if pair is None:
                return became_free
            live, other = pair
            self._match.waiting.remove(live.order.order_id)
            return [*became_free, *self._assign(live, other, now, manual=False)]
        self._match.waiting.remove(order_id)
        return self._assign(self._orders[order_id], driver, now, manual=False)
