"""Matching: which free car a new order takes, which waiting order a freed car takes.

The engine owns the state machine (statuses, timers, decisions); this module
owns the two indexes matching reads (free cars, waiting orders) and the three
questions asked of them:

* `car_for(order)`: the nearest free car within the pickup radius, if the policy
  lets this caller take a car at the current free count;
* `order_for(driver)`: the highest-priority waiting order within the car's reach
  that the policy admits at the count the car's joining would make;
* `supply_now_admits(joined)`: the re-match when supply recovers past the
  policy's reservation threshold.

Two-sided matching (a new order takes a car, a freed car takes an order) keeps
the dispatcher at quiescence only while whether a caller may take a car does
not change as they wait. Under capacity reservation it does: a low-value order
next to a free car waits while only `k` cars are free, and becomes admissible
the moment a car frees up anywhere else and lifts the count to `k + 1`. The
freed car searches only its own reach, so the other free cars must be asked too.
The answer is what a walk of the queue in service order would give (the first
order the policy now admits that some free car can reach, which then takes its
nearest free car), but it is found from the cars' side: at the threshold only
`k` other cars are free, while any number of orders may wait out of everyone's
reach, so `k` searches of one car's reach each replace a walk of the whole queue
with a free-car search per order.
"""

from __future__ import annotations

from dispatch.config import DispatchConfig
from dispatch.free_index import FreeDriverIndex
from dispatch.geo import Grid
from dispatch.matching import FreeCars, Waiting
from dispatch.policies import Policy
from dispatch.state import LiveDriver, LiveOrder
from dispatch.waiting import WaitingOrders
from dispatch.zone import IdleCarQueue, ZoneWaitingOrders

Key = tuple[float, int]


class Matcher:
    """The free-car and waiting-order indexes of one dispatcher, and the searches on them."""

    __slots__ = ("_config", "_drivers", "_orders", "_policy", "_widens_at", "admits_all_above", "free",
                 "free_ids", "waiting")

    def __init__(
        self,
        policy: Policy,
        config: DispatchConfig,
        orders: dict[str, LiveOrder],
        drivers: dict[str, LiveDriver],
    ) -> None:
        self._policy = policy
        self._config = config
        self._orders = orders
        self._drivers = drivers
        self.free: FreeCars
        self.waiting: Waiting
        if config.spatial:
            grid = Grid(config.cell_m)  # one grid: a position both searches ask about is located once
            self.free = FreeDriverIndex(config.cell_m, grid=grid)
            self.waiting = WaitingOrders(grid, config.max_head_start_s)
        else:
            self.free = IdleCarQueue()
            self.waiting = ZoneWaitingOrders(config.max_head_start_s)
        self.free_ids = self.free.ids  # counted and asked on every order: no Python frame
        # The free count at which admission widens, if it ever does. Zone mode never needs
        # the re-match: every free car reaches every order, so a freed car's own search
        # already answered for all of them.
        threshold = policy.supply_threshold
        self._widens_at = threshold + 1 if threshold is not None and config.spatial else None
        # With more free cars than this the policy admits every caller (`dispatch.policies`),
        # so whether one may take a car does not depend on their score: `car_for` then reads
        # none, and the engine serves an order a car can take without scoring it.
        self.admits_all_above = -1 if threshold is None else threshold

    def car_for(self, live: LiveOrder) -> tuple[LiveDriver, float] | None:
        """The free car a new (or released) order takes now and its distance, if any (the
        search measured it already: the assignment need not again)."""
        free_cars = len(self.free_ids)
        if not free_cars:
            return None
        if free_cars <= self.admits_all_above and not self._policy.may_take_car(live.score, free_cars):
            return None
        nearest = self.free.nearest(live.order.pickup, 1, self._config.pickup_radius_m)
        if not nearest:
            return None
        ((dist_m, driver_id),) = nearest
        return self._drivers[driver_id], dist_m

    def order_for(self, driver: LiveDriver) -> str | None:
        """The waiting order a free (or freeing) car takes now, if any."""
        waiting = self.waiting
        if not len(waiting):
            return None
        free_ids = self.free_ids
        free_cars = len(free_ids) + (driver.driver_id not in free_ids)
        if free_cars > self.admits_all_above:  # the policy admits anyone at this count
            return waiting.best_for(driver.position, self._config.pickup_radius_m, _anyone)
        orders, may_take = self._orders, self._policy.may_take_car
        return waiting.best_for(
            driver.position,
            self._config.pickup_radius_m,
            lambda order_id: may_take(orders[order_id].score, free_cars),
        )

    def supply_now_admits(self, joined: LiveDriver) -> tuple[LiveOrder, LiveDriver] | None:
        """The order and car to match now that `joined` entered the free index, if any.

        Only when `joined` lifted the free count past the policy's threshold can an
        order that waited beside another free car have become admissible; one
        assignment at most, since it brings the count back to the threshold, where
        admission narrows again. Everything the other free cars could take at the
        old count they already took, so nothing else can have become possible.
        """
        if self._widens_at is None or len(self.free_ids) != self._widens_at:
            return None
        order_id = self._first_order_supply_admits(joined.driver_id)
        if order_id is None:
            return None
        live = self._orders[order_id]
        ((_, driver_id),) = self.free.nearest(live.order.pickup, 1, self._config.pickup_radius_m)
        return live, self._drivers[driver_id]

    def _first_order_supply_admits(self, joined_id: str) -> str | None:
        """The first waiting order, in service order, that some free car may now take.

        Each other free car's own search is the best order within its reach the
        policy admits at the current count; the proposal with the best key is the
        first such order in service order (any car that reaches it proposes it or a
        better one). `joined_id`'s own search at this count came back empty, so it
        is not asked again.
        """
        best_key: Key | None = None
        best_order_id: str | None = None
        key_of = self.waiting.key_of
        for driver_id in self.free:
            if driver_id == joined_id:
                continue
            order_id = self.order_for(self._drivers[driver_id])
            if order_id is not None:
                key = key_of(order_id)
                if best_key is None or key < best_key:
                    best_key, best_order_id = key, order_id
        return best_order_id


def _anyone(order_id: str) -> bool:
    """Every waiting order is acceptable: more cars are free than the policy's threshold."""
    return True
