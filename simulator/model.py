"""The model: customers, cars and time around the real `Dispatcher`.

Everything that happens to an order goes through `Dispatcher.handle`, the
same call the live server makes, and the simulator only reacts to the
decisions that come back: an `OrderAssigned` schedules the car's arrival
after the quoted ETA, an `OrderPickedUp` schedules the end of the trip, and
so on. What the core does not know about (patience, trips, shifts, churn,
retries) lives here, as kernel events.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from heapq import heappush
from typing import Any

from dispatch.commands import (
    CancelOrder,
    Command,
    DriverArrived,
    DriverOffline,
    DriverOnline,
    PlaceOrder,
    Tick,
    TripCompleted,
)
from dispatch.decisions import (
    Decision,
    DriverLeaving,
    DriverStatusChanged,
    OrderAssigned,
    OrderCancelled,
    OrderCompleted,
    OrderExpired,
    OrderPickedUp,
    OrderQueued,
    OrderRejected,
)
from dispatch.engine import Dispatcher
from dispatch.model import DriverStatus, FailureCause, Order, Position
from simulator.kernel import NORMAL, URGENT, EventHandle, Kernel, cyclic_gc_paused
from simulator.metrics import (
    ABANDONED,
    COMPLETED,
    EXPIRED,
    REFUSED_BY_POLICY,
    REFUSED_NO_CAR,
    OrderRow,
)
from simulator.population import FAILURE, SEGMENTS, Customer
from simulator.scenario import Patience
from simulator.setup import Setup
from simulator.trip import FAILURE_CAUSE, Request, Trip

# An enum member bound once: looking it up on its class costs ~120 ns on Python 3.11.
OFFLINE = DriverStatus.OFFLINE
_new_row = tuple.__new__


class Model:
    """One run of one policy; build with `simulator.setup.build`, then `run()`."""

    def __init__(self, setup: Setup, dispatcher: Dispatcher) -> None:
        self.s = setup
        self.kernel = Kernel()
        self.dispatcher = dispatcher
        self.rows: list[OrderRow] = []
        self.trips: dict[str, Trip] = {}
        self._order_seq = 0
        self._tick: EventHandle | None = None
        self._tick_at = math.inf
        self._next_call: EventHandle | None = None
        self._started = False
        self._expiries = dispatcher.config.max_wait_s is not None  # the model never pre-books
        self._batches = dispatcher.config.batch_window_s is not None
        self._patience_factors = _patience_factors(setup.scenario.patience)
        self._start_at, self._end_at = setup.window.start_at, setup.window.end_at
        self._tariff = setup.scenario.trips.tariff()  # the live server's KEEPCAB_FARE_* model
        self._detour_factor = dispatcher.config.detour_factor
        # Histories only feed the scorer: a policy that never reads a score needs none kept.
        self._book = setup.book if dispatcher.policy.reads_score else None
        patience = setup.scenario.patience
        # A quoted ETA up to this makes the caller wait this much longer (`_assigned`).
        self._short_eta_s = patience.short_eta_s if patience.short_eta_factor > 1 else -math.inf
        self._short_eta_factor = patience.short_eta_factor
        # A trip's arrival and end and the next call are pushed onto the heap here, as
        # `Kernel.schedule` would (their times are now plus a duration >= 0).
        self._heap, self._counter = self.kernel.heap_and_counter()
        # The three commands of every trip, sent without `handle`'s look-up.
        self._place_order = dispatcher.handler(PlaceOrder)
        self._driver_arrived = dispatcher.handler(DriverArrived)
        self._trip_completed = dispatcher.handler(TripCompleted)
        self._on: dict[type[Any], Callable[[Any, float], None]] = {
            DriverStatusChanged: self._status_changed,
            OrderAssigned: self._assigned,
            OrderQueued: self._queued,
            OrderPickedUp: self._picked_up,
            OrderCompleted: self._completed,
            OrderCancelled: _ignore,
            OrderRejected: self._rejected,
            OrderExpired: self._expired,
            DriverLeaving: _ignore,  # the car's own shift record already knows
        }

    def run(self, until: float | None = None) -> None:
        """Run to `until` (default: the end of the window); call again to continue."""
        s = self.s
        if not self._started:
            self._started = True
            for car_id, online_at in s.cars.first_shifts():
                self.kernel.schedule(online_at, self._shift_starts, car_id, URGENT)
            self._schedule_call(0.0)
            if s.newcomer_mean_gap_s < math.inf:
                self._schedule_newcomer(0.0)
        end_at = s.window.end_at if until is None else min(until, s.window.end_at)
        with cyclic_gc_paused():  # a run makes no cycles: see `cyclic_gc_paused`
            self.kernel.run(until=end_at)
        if end_at == s.window.end_at:
            s.cars.close(end_at)
            for trip in self.trips.values():
                if trip.driver_id:
                    s.cars.worked(trip.assigned_at, end_at)

    @property
    def orders_placed(self) -> int:
        """Every order placed so far, warm-up included."""
        return self._order_seq

    # ---- commands in, decisions out ---------------------------------------------

    def _handle(self, command: Command, now: float) -> None:
        self._react(self.dispatcher.handle(command, now), now)

    def _react(self, decisions: list[Decision], now: float) -> None:
        on = self._on
        for decision in decisions:
            on[type(decision)](decision, now)
        if self._batches:  # any command may open a batch: its Tick is the next timer
            self._watch_timers()

    def _watch_timers(self) -> None:
        """Keep one pending Tick at the dispatcher's next expiry, release or batch."""
        next_at = self.dispatcher.next_timer_at()
        if next_at is not None and next_at < self._tick_at:
            if self._tick is not None:
                Kernel.cancel(self._tick)
            self._tick_at = next_at
            self._tick = self.kernel.schedule(max(next_at, self.kernel.now), self._timer_due, None)

    def _timer_due(self, _: None) -> None:
        self._tick, self._tick_at = None, math.inf
        self._handle(Tick(), self.kernel.now)
        self._watch_timers()

    # ---- customers ----------------------------------------------------------------

    def _schedule_call(self, after: float) -> None:
        """The next call of anyone; redrawn from scratch when a newcomer raises the rate."""
        s = self.s
        if self._next_call is not None:
            Kernel.cancel(self._next_call)
            self._next_call = None
        total = s.callers.total_rate_per_s
        if total <= 0:
            return
        at = s.profile.advance(after, s.call_gap() / total)
        if at < self._end_at:
            self._next_call = entry = [at, NORMAL, next(self._counter), self._call, None]
            heappush(self._heap, entry)

    def _request(self) -> Request:
        """What a call asks for and how it will go, drawn the moment it is made.

        Calls come in the same order under every policy, so drawing place,
        patience and trip length here (even for a call that is then dropped)
        gives every policy the same callers with the same needs: common
        random numbers that survive the first difference between policies.
        A plain tuple, unpacked into `_place`'s arguments at once: a NamedTuple
        built and read once cost a Python-level `__new__` per call.
        """
        s = self.s
        return s.places.sample(), s.places.sample(), s.patience(), s.trip_duration()

    def _call(self, _: None) -> None:
        now = self.kernel.now
        self._next_call = None
        self._schedule_call(now)
        customer = self.s.callers.next_caller()
        pickup, dropoff, patience_s, duration_s = self._request()
        if not customer.gone_by(now):
            self._place(customer, now, pickup, dropoff, patience_s, duration_s, False)

    def _retry(self, failed: Trip) -> None:
        """The same trip asked for again; only the patience is new (from the retry stream)."""
        customer, order = failed.customer, failed.order
        if not customer.gone_by(self.kernel.now):
            self._place(customer, self.kernel.now, order.pickup, order.dropoff or order.pickup,
                        self.s.retry_patience(), failed.duration_s, True)

    def _schedule_newcomer(self, after: float) -> None:
        s = self.s
        at = s.profile.advance(after, s.newcomer_gap() * s.newcomer_mean_gap_s)
        if at < s.window.end_at:
            self.kernel.schedule(at, self._newcomer, None)

    def _newcomer(self, _: None) -> None:
        """A new customer's first call; their later calls join the common stream."""
        now = self.kernel.now
        customer = self.s.new_customer(now)
        self._schedule_newcomer(now)
        self._schedule_call(now)
        pickup, dropoff, patience_s, duration_s = self._request()
        self._place(customer, now, pickup, dropoff, patience_s, duration_s, False)

    def _place(self, customer: Customer, now: float, pickup: Position, dropoff: Position,
               patience_s: float, duration_s: float, retry: bool) -> None:
        self._order_seq += 1
        order = Order(f"o{self._order_seq}", customer.customer_id, pickup, now, None, dropoff)
        first = customer.orders == 0 and customer.completed == 0
        if self._patience_factors is not None:  # drawn for every call alike (CRN), then scaled
            patience_s *= self._patience_factors[customer.segment, customer.vip]
        trip = Trip(order, customer, patience_s, duration_s, first, retry)
        customer.orders += 1
        self.trips[order.order_id] = trip
        self._react(self._place_order(PlaceOrder(order), now), now)
        if self._expiries and self._tick is None:
            # An order placed now expires no earlier than any order placed before it (the
            # model never pre-books), so a pending Tick is already the earliest one needed.
            self._watch_timers()

    def _gives_up(self, trip: Trip) -> None:
        now = self.kernel.now
        trip.abandon = None
        if trip.arrival is not None:
            Kernel.cancel(trip.arrival)
        if trip.driver_id:
            self.s.cars.worked(trip.assigned_at, now)
        self._handle(CancelOrder(trip.order.order_id, FailureCause.ABANDONED), now)
        self._fail(trip, ABANDONED, now)

    # ---- decisions -----------------------------------------------------------------

    def _queued(self, decision: OrderQueued, now: float) -> None:
        """Only a caller left waiting needs a patience timer: most calls get a car at once."""
        trip = self.trips[decision.order.order_id]
        trip.queued = True
        if trip.patience_s < math.inf:
            give_up_at = trip.order.requested_at + trip.patience_s
            trip.abandon = self.kernel.schedule(max(give_up_at, now), self._gives_up, trip)

    def _assigned(self, decision: OrderAssigned, now: float) -> None:
        """The car sets off; the caller gives up first only if their patience ends before it
        arrives, so a patience timer is kept (or set) only then.

        A short quoted ETA makes the caller wait longer (`patience.short_eta_factor`). The
        timer is scheduled before the arrival so that, at an exact tie, the caller still
        gives up first, as when every call carried a timer from the start.
        """
        trip = self.trips[decision.order_id]
        trip.driver_id, trip.assigned_at = decision.driver_id, now
        if trip.abandon is not None:
            Kernel.cancel(trip.abandon)
            trip.abandon = None
        eta_s = decision.eta_s
        arrive_at = now + eta_s
        factor = self._short_eta_factor if eta_s <= self._short_eta_s else 1.0
        give_up_at = trip.order.requested_at + trip.patience_s * factor
        if give_up_at <= arrive_at:
            trip.abandon = self.kernel.schedule(max(give_up_at, now), self._gives_up, trip)
        trip.arrival = entry = [arrive_at, NORMAL, next(self._counter), self._arrives, trip]
        heappush(self._heap, entry)

    def _arrives(self, trip: Trip) -> None:
        trip.arrival = None
        now = self.kernel.now
        on = self._on  # `_react`'s loop, inline: one Python frame less on every trip
        for decision in self._driver_arrived(DriverArrived(trip.driver_id), now):
            on[type(decision)](decision, now)
        if self._batches:
            self._watch_timers()

    def _picked_up(self, decision: OrderPickedUp, now: float) -> None:
        trip = self.trips[decision.order_id]
        trip.picked_up_at = now  # no patience timer is pending: one due before the arrival ran first
        heappush(self._heap, [now + trip.duration_s, NORMAL, next(self._counter), self._trip_ends, trip])

    def _trip_ends(self, trip: Trip) -> None:
        now = self.kernel.now
        dropoff = trip.order.dropoff or trip.order.pickup
        fare = self._tariff.trip_fare(trip.order.pickup, dropoff, now - trip.picked_up_at,
                                      self._detour_factor)
        on = self._on  # as in `_arrives`
        for decision in self._trip_completed(TripCompleted(trip.driver_id, dropoff, fare), now):
            on[type(decision)](decision, now)
        if self._batches:
            self._watch_timers()

    def _completed(self, decision: OrderCompleted, now: float) -> None:
        trip = self.trips.pop(decision.order_id)
        customer, fare = trip.customer, decision.fare or 0.0
        customer.completed += 1
        self.s.cars.worked(trip.assigned_at, now)
        self._row(trip, COMPLETED, trip.assigned_at, trip.picked_up_at - trip.order.requested_at, fare)
        if self._book is not None:
            self._book.completed(customer.customer_id, now, fare)

    def _rejected(self, decision: OrderRejected, now: float) -> None:
        trip = self.trips[decision.order.order_id]
        by_policy = decision.cause is FailureCause.REJECTED_BY_POLICY
        self._fail(trip, REFUSED_BY_POLICY if by_policy else REFUSED_NO_CAR, now)

    def _expired(self, decision: OrderExpired, now: float) -> None:
        self._fail(self.trips[decision.order_id], EXPIRED, now)

    def _status_changed(self, decision: DriverStatusChanged, now: float) -> None:
        """A car going offline, the only change `build_dispatcher` asks to hear of (a
        dispatcher built elsewhere may report them all: the others are ignored)."""
        if decision.status is OFFLINE and decision.driver_id in self.s.cars.leaving:
            self.s.cars.positions[decision.driver_id] = decision.position
            self.s.cars.went_offline(decision.driver_id, now)

    # ---- outcomes ------------------------------------------------------------------

    def _fail(self, trip: Trip, outcome: str, now: float) -> None:
        self.trips.pop(trip.order.order_id, None)
        if trip.abandon is not None:
            Kernel.cancel(trip.abandon)
            trip.abandon = None
        assigned_at = trip.assigned_at if trip.assigned_at == trip.assigned_at else now
        self._row(trip, outcome, assigned_at, math.nan, 0.0)
        customer, s = trip.customer, self.s
        if self._book is not None:
            self._book.failed(customer.customer_id, now, FAILURE_CAUSE[outcome])
        churn = s.churn
        if customer.completed == 0 and s.churn_uniform() < churn.first_failure_leave_probability:
            customer.leave_by(now, FAILURE)
        delay_s = churn.failure_departure_delay_s(s.churn_exponential(), customer.completed)
        customer.leave_by(now + delay_s, FAILURE)
        retry_probability = s.scenario.demand.retry_probability
        if not customer.gone_by(now) and s.retry_uniform() < retry_probability:
            self.kernel.schedule(now + s.retry_delay(), self._retry, trip)

    def _row(self, trip: Trip, outcome: str, assigned_at: float, pickup_wait_s: float, fare: float) -> None:
        requested_at = trip.order.requested_at
        if requested_at < self._start_at:
            return
        customer = trip.customer
        # `tuple.__new__` with the fields in order is what OrderRow's own `__new__` (a
        # Python lambda) does; called directly it spares a Python frame per row.
        self.rows.append(_new_row(OrderRow, (
            requested_at,
            customer.index,
            customer.segment,
            customer.vip,
            trip.first,
            trip.retry,
            outcome,
            trip.queued,
            assigned_at - requested_at,
            pickup_wait_s,
            fare,
        )))

    # ---- shifts --------------------------------------------------------------------

    def _shift_starts(self, car_id: str) -> None:
        now, cars = self.kernel.now, self.s.cars
        if car_id in cars.leaving:  # back on before its last job ended: cancel the leave
            self._handle(DriverOnline(car_id, cars.positions[car_id]), now)
        needs_online, offline_at = cars.shift_starts(car_id)
        if needs_online:
            cars.went_online(car_id, now)
            self._handle(DriverOnline(car_id, cars.positions[car_id]), now)
        if offline_at < math.inf:
            self.kernel.schedule(offline_at, self._shift_ends, car_id, URGENT)

    def _shift_ends(self, car_id: str) -> None:
        now = self.kernel.now
        status = self.dispatcher.driver_view(car_id).status
        free_now, next_online_at = self.s.cars.shift_ends(car_id, status)
        if free_now:
            self._go_offline(car_id, now)
        else:  # finish the job in hand, then leave: the core hands it no other
            self._handle(DriverOffline(car_id, when_free=True), now)
        self.kernel.schedule(max(next_online_at, now), self._shift_starts, car_id, URGENT)

    def _go_offline(self, car_id: str, now: float) -> None:
        """Off duty; the car will come back where it stopped."""
        self.s.cars.positions[car_id] = self.dispatcher.driver_view(car_id).position
        self.s.cars.went_offline(car_id, now)
        self._handle(DriverOffline(car_id), now)


def _patience_factors(patience: Patience) -> dict[tuple[str, bool], float] | None:
    """Each (segment, VIP flag)'s patience factor, worked out once; None when all are 1, so
    that a call then skips the lookup (a multiplication by 1.0 would change no bit either)."""
    factors = {(segment, vip): patience.factor(segment, vip) for segment in SEGMENTS
               for vip in (False, True)}
    return None if all(factor == 1.0 for factor in factors.values()) else factors


def _ignore(decision: Decision, now: float) -> None:
    """Cancellations are the simulator's own doing and were accounted for when sent."""


__all__ = ["Model", "Request", "Trip"]
