"""The dispatcher: one state machine that makes every decision, live or simulated.

It is a single writer driven by `handle(command, now)`. Nothing in it reads a
clock, draws a random number or does I/O, so the same sequence of commands
always yields the same decisions, and a simulator can drive it as fast as it
likes. Every handler validates first and mutates after, so a `DomainError`
always means nothing changed.

Matching is two-sided and always runs to quiescence: a new order takes the
nearest free car the policy lets it take; a car that becomes free takes the
highest-priority waiting order within reach; and when a car joining the free
index lifts the count past the policy's reservation threshold, the orders that
just became admissible get the other free cars. The searches themselves live in
`dispatch.matcher`; this module is the state machine around them. So, after
every command, no free car can take any waiting order — the queue is exactly
the set of orders for which no car is available.

The records the handlers decide about (orders, drivers, timers, the matcher's
indexes), their views and their rebuilding from views are the base class's,
`dispatch.records.DispatcherRecords`; the driver commands and a car becoming
free are `dispatch.drivers.DriverSide`'s, the operator's overrides (priority, a
pre-booking moved, a manual assignment) `dispatch.operator.OperatorSide`'s: this module
is the order side, time and the command interface.

Batch mode (`DispatchConfig.batch_window_s`) defers both sides to an assignment
solved a few seconds later (`dispatch.batch`): the promise then holds at the end
of every batch, and a batch is due at most one window after a match became
possible.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from dispatch.commands import (
    AssignManually,
    AssignNext,
    CancelHold,
    CancelOrder,
    Command,
    DriverArrived,
    DriverMoved,
    DriverOffline,
    DriverOnline,
    OverridePriority,
    PlaceOrder,
    RescheduleOrder,
    Tick,
    TripCompleted,
)
from dispatch.config import DispatchConfig
from dispatch.decisions import (
    Decision,
    DriverStatusChanged,
    OrderAssigned,
    OrderCancelled,
    OrderExpired,
    OrderRejected,
    OrderScheduled,
)
from dispatch.errors import (
    DuplicateOrder,
    InvalidCommand,
    InvalidTransition,
)
from dispatch.geo import eta_s, haversine_m
from dispatch.model import (
    DriverStatus,
    DriverView,
    FailureCause,
    OrderStatus,
    OrderView,
    Scorer,
    neutral_scorer,
)
from dispatch.operator import OperatorSide
from dispatch.policies import Policy
from dispatch.state import RELEASE, LiveDriver, LiveOrder

# Enum members bound once: looking one up on its class costs ~120 ns on Python 3.11 (the
# enum metaclass), ten times a module global, and the handlers read several per order.
EN_ROUTE, FREE, ASSIGNED, CANCELLED, PICKED_UP, REJECTED, SCHEDULED = (
    DriverStatus.EN_ROUTE,
    DriverStatus.FREE,
    OrderStatus.ASSIGNED,
    OrderStatus.CANCELLED,
    OrderStatus.PICKED_UP,
    OrderStatus.REJECTED,
    OrderStatus.SCHEDULED,
)

__all__ = ["DispatchConfig", "Dispatcher"]


class Dispatcher(OperatorSide):
    """The state machine: the command interface and the order side; the driver side, the
    promises and the records (with their views) are the bases'."""

    def __init__(
        self,
        policy: Policy,
        scorer: Scorer = neutral_scorer,
        config: DispatchConfig | None = None,
        *,
        report_every_car_status: bool = True,
    ) -> None:
        """`report_every_car_status=False` reports a car's `DriverStatusChanged` only when it
        goes offline. Every other change follows from the command and the decisions beside
        it (en route with `OrderAssigned`, on trip with `OrderPickedUp`, free when a car
        comes on or ends a job and is given nothing), so a shell that tracks cars from the
        order decisions (the simulator) loses nothing, and is spared three records a trip.
        Going offline is the one change a sender cannot foresee: a car told to leave when
        free leaves when its job ends or is cancelled.
        """
        super().__init__(policy, config or DispatchConfig())
        self.scorer = scorer
        self._every_car_status = report_every_car_status
        self._handlers: dict[type[Any], Callable[[Any, float], list[Decision]]] = {
            PlaceOrder: self._place,
            CancelOrder: self._cancel,
            DriverOnline: self._online,
            DriverOffline: self._offline,
            DriverMoved: self._moved,
            DriverArrived: self._arrived,
            TripCompleted: self._completed,
            AssignManually: self._assign_manually,
            AssignNext: self._hold,
            CancelHold: self._cancel_hold,
            OverridePriority: self._override,
            RescheduleOrder: self._reschedule,
            Tick: self._tick,
        }
        if self._batch is not None:
            self._handlers = {kind: self._batch.settling(h) for kind, h in self._handlers.items()}

    # ---- the command interface -------------------------------------------------

    def handle(self, command: Command, now: float) -> list[Decision]:
        """Apply one command at time `now` and return what was decided, in order."""
        handler = self._handlers.get(type(command))
        if handler is None:
            raise InvalidCommand(f"not a dispatcher command: {command!r}")
        return handler(command, now)

    def handler(self, kind: type[Command]) -> Callable[[Any, float], list[Decision]]:
        """What `handle` calls for a command of `kind`: a shell that sends one kind again
        and again (the simulator, three commands a trip) calls it without the look-up."""
        handler = self._handlers.get(kind)
        if handler is None:
            raise InvalidCommand(f"not a dispatcher command: {kind!r}")
        return handler

    def restore(
        self, drivers: Iterable[DriverView], orders: Iterable[OrderView], now: float
    ) -> list[Decision]:
        """Rebuild state persisted by a shell (after a restart or a leader failover).

        Orders keep the head start they were queued with, so a restart never
        reshuffles the queue; whatever the rebuilt state implies at `now`
        (expiries that fell due while down, free cars that can take waiting
        orders) is decided and returned.
        """
        if self._orders or self._drivers:
            raise InvalidTransition("restore needs an empty dispatcher")
        for view in drivers:
            self._restore_driver(view)
        for order_view in orders:
            self._restore_order(order_view)
        if self._batch is not None:
            self._batch.due_at = now  # nothing to wait for: the batch runs with the tick
        decisions = self._tick(Tick(), now)
        for driver in list(self._drivers.values()):
            if driver.status is FREE and self._match.order_for(driver) is not None:
                self._match.free.remove(driver.driver_id)
                decisions.extend(self._make_free(driver, now))
        return decisions

    # ---- orders ----------------------------------------------------------------

    def _place(self, command: PlaceOrder, now: float) -> list[Decision]:
        order = command.order
        if order.order_id in self._orders:
            raise DuplicateOrder(order.order_id)
        self._seq += 1
        live = LiveOrder(order, self._seq)
        self._orders[order.order_id] = live
        if order.pickup_at is not None and (release_at := order.due_at - self.config.prebook_lead_s) > now:
            live.status = SCHEDULED
            live.release_at = release_at
            self._timers.add(release_at, RELEASE, order.order_id)
            return [OrderScheduled(order, release_at, now)]
        return self._admit(live, now)

    def _admit(self, live: LiveOrder, now: float) -> list[Decision]:
        """Serve the order, queue it or refuse it, scoring it only where the score can matter.

        While the policy admits every caller at the current supply (`Matcher.admits_all_above`),
        an order a free car can take now is served unscored: its score could change no
        decision, and nothing keeps it (the live store writes the scores of queued and
        refused orders only; `dispatch.state.UNSCORED`). Most calls are served at once, so
        this spares most of the valuation a busy simulation would spend. Every other order
        is scored once, before it is served, queued or refused.
        """
        match = self._match
        score_first = len(match.free_ids) <= match.admits_all_above  # else car_for reads no score
        if score_first:
            self._score(live, now)
        found = match.car_for(live)
        if found is not None:
            return self._assign(live, found[0], now, manual=False, dist_m=found[1])
        if not score_first:
            self._score(live, now)
        if not self.policy.waits and self._batch is None:
            return [self._refuse(live, now)]
        return [self._enqueue(live, now)]

    def _score(self, live: LiveOrder, now: float) -> None:
        """The caller's score and the head start the policy gives it (or the operator's)."""
        live.score = self.scorer(live.order.customer_id, now)
        if live.override_s is None:
            # The one clamp: a policy whose own cap exceeds the engine's must not reach the
            # queue's check after the order is registered (issue 10), nor break the bound.
            wanted = self.policy.head_start_s(live.order, live.score)
            cap = self.config.max_head_start_s
            live.head_start_s = min(max(wanted, 0.0), cap) if wanted == wanted else 0.0
        else:
            live.head_start_s = live.override_s

    def _refuse(self, live: LiveOrder, now: float) -> OrderRejected:
        """The status quo's answer: no car now. `no_car` unless cars were free but not for this order."""
        cause = FailureCause.REJECTED_BY_POLICY if self.free_driver_count else FailureCause.NO_CAR
        order_id = live.order.order_id
        if order_id in self._match.waiting:  # batch mode: it waited for the batch
            self._match.waiting.remove(order_id)
        del self._orders[order_id]
        return OrderRejected(live.order, cause, live.score, now)

    def _cancel(self, command: CancelOrder, now: float) -> list[Decision]:
        live = self._order(command.order_id)
        if live.status is PICKED_UP:
            raise InvalidTransition(
                f"order {command.order_id!r} is picked up: complete the trip instead of cancelling"
            )
        status = CANCELLED if command.cause is None else command.cause.terminal_status
        decisions: list[Decision] = [OrderCancelled(command.order_id, command.cause, live.driver_id, now)]
        self._forget(live)
        live.status = status
        if live.driver_id is not None:
            driver = self._drivers[live.driver_id]
            driver.order_id = None
            decisions.extend(self._make_free(driver, now))
        return decisions

    def _assign(
        self, live: LiveOrder, driver: LiveDriver, now: float, *, manual: bool, dist_m: float = -1.0
    ) -> list[Decision]:
        """`dist_m` is the search's own haversine distance when it measured one."""
        if driver.driver_id in self._match.free_ids:
            self._match.free.remove(driver.driver_id)
        if dist_m < 0.0:
            dist_m = haversine_m(driver.position, live.order.pickup)
        eta = eta_s(dist_m, self.config.speed_mps, self.config.detour_factor)
        live.status = ASSIGNED
        live.driver_id = driver.driver_id
        driver.status = EN_ROUTE
        driver.order_id = live.order.order_id
        assigned = OrderAssigned(live.order.order_id, driver.driver_id, eta, dist_m, now, manual)
        if not self._every_car_status:
            return [assigned]
        return [assigned, DriverStatusChanged(driver.driver_id, EN_ROUTE, driver.position, now)]

    # ---- time --------------------------------------------------------------------

    def _tick(self, command: Tick, now: float) -> list[Decision]:
        decisions: list[Decision] = []
        for kind, order_id in self._timers.pop_due(now):
            live = self._orders[order_id]
            if kind == RELEASE:
                decisions.extend(self._admit(live, now))
                continue
            self._forget(live)
            live.status = REJECTED
            waited_s = now - live.order.due_at
            decisions.append(OrderExpired(order_id, FailureCause.NO_CAR, waited_s, now))
        if self._batch is not None and self._batch.is_due(now):
            decisions.extend(self._run_batch(now))
        return decisions

    def _run_batch(self, now: float) -> list[Decision]:
        """Assign the batch's pairs; a policy that never waits refuses every order left."""
        assert self._batch is not None
        decisions: list[Decision] = []
        for live, driver in self._batch.run(now):
            self._match.waiting.remove(live.order.order_id)
            decisions.extend(self._assign(live, driver, now, manual=False))
        if not self.policy.waits:
            left = [order_id for _, _, order_id in self._match.waiting.in_service_order()]
            decisions.extend(self._refuse(self._orders[order_id], now) for order_id in left)
        return decisions
