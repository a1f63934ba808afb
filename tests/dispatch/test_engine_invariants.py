"""Random command sequences against the dispatcher, checking every invariant after each step."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

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
    Tick,
    TripCompleted,
)
from dispatch.decisions import (
    Decision,
    DriverStatusChanged,
    OrderAssigned,
    OrderCancelled,
    OrderCompleted,
    OrderExpired,
    OrderPickedUp,
    OrderQueued,
    OrderRejected,
    OrderScheduled,
)
from dispatch.engine import DispatchConfig, Dispatcher
from dispatch.errors import DomainError
from dispatch.geo import eta_s, haversine_m
from dispatch.model import DriverStatus, FailureCause, OrderStatus, OrderView, Position
from dispatch.policies import make_policy
from tests.dispatch.helpers import at_km, order, table_scorer

CONFIG = DispatchConfig(pickup_radius_m=2500, max_wait_s=900, prebook_lead_s=300, cell_m=700)
CUSTOMERS = ["a", "b", "c", "d", None]
HEAD_STARTS = {"a": 300.0, "b": 120.0, "c": 30.0}
VALUE_AT_RISK = {"a": 80.0, "c": 20.0}
RESERVE = {"k": 1, "min_value_at_risk": 50.0}
TERMINAL = (OrderCompleted, OrderCancelled, OrderExpired, OrderRejected)
STATUS_AFTER = {
    OrderScheduled: OrderStatus.SCHEDULED,
    OrderQueued: OrderStatus.QUEUED,
    OrderAssigned: OrderStatus.ASSIGNED,
    OrderPickedUp: OrderStatus.PICKED_UP,
}

positions = st.builds(at_km, st.floats(-4, 4), st.floats(-4, 4))
driver_ids = st.sampled_from([f"d{i}" for i in range(5)])


class DispatcherMachine(RuleBasedStateMachine):
    orders = Bundle("orders")
    policy = "retention"
    policy_params: ClassVar[Mapping[str, Any]] = {}
    config = CONFIG

    def __init__(self) -> None:
        super().__init__()
        self.dispatcher = self.build()
        self.quiet = self.build(report_every_car_status=False)  # given every command too
        self.now = 0.0
        self.log: list[tuple[Command, float]] = []
        self.decided: list[list[Decision]] = []
        self.status: dict[str, OrderStatus] = {}
        self.ended: set[str] = set()
        self.placed = 0

    def apply(self, command: Any, dt: float = 0.0) -> None:
        self.now += dt
        before = self.state()
        try:
            decisions = self.dispatcher.handle(command, self.now)
        except DomainError:
            assert self.state() == before, f"{command} raised but changed state"
            with pytest.raises(DomainError):
                self.quiet.handle(command, self.now)
            return
        self.check_quiet_twin(command, decisions)
        self.log.append((command, self.now))
        self.decided.append(decisions)
        for decision in decisions:
            self.track(decision)

    def track(self, decision: Decision) -> None:
        order_id = getattr(decision, "order_id", None) or getattr(
            getattr(decision, "order", None), "order_id", None
        )
        if order_id is None:
            return
        assert order_id not in self.ended, f"{decision} after {order_id} ended"
        if isinstance(decision, TERMINAL):
            self.ended.add(order_id)
            self.status.pop(order_id, None)
        elif type(decision) in STATUS_AFTER:
            self.status[order_id] = STATUS_AFTER[type(decision)]

    def build(self, report_every_car_status: bool = True) -> Dispatcher:
        policy = make_policy(self.policy, **self.policy_params)
        return Dispatcher(policy, table_scorer(HEAD_STARTS, VALUE_AT_RISK), self.config,
                          report_every_car_status=report_every_car_status)

    def check_quiet_twin(self, command: Command, decisions: list[Decision]) -> None:
        """The dispatcher that reports only cars going offline decides exactly the same:
        its decisions are the full list without the other status changes, its state the same."""
        quiet = self.quiet.handle(command, self.now)
        expected = [x for x in decisions
                    if not isinstance(x, DriverStatusChanged) or x.status is DriverStatus.OFFLINE]
        assert quiet == expected, command
        d, q = self.dispatcher, self.quiet
        assert (q.queue_view(), sorted(map(repr, q.live_orders())), q.drivers(), q.next_timer_at()) == (
            d.queue_view(), sorted(map(repr, d.live_orders())), d.drivers(), d.next_timer_at())

    def state(self) -> tuple[object, ...]:
        d = self.dispatcher
        return (d.queue_view(), sorted(map(repr, d.live_orders())), d.drivers(), d.next_timer_at())

    @rule(target=orders, where=positions, who=st.sampled_from(CUSTOMERS),
          ahead=st.none() | st.floats(0, 1200), dt=st.floats(0, 120))
    def place(self, where: Any, who: str | None, ahead: float | None, dt: float) -> str:
        """Order ids are never reused: the engine forgets finished orders, the shell owns ids."""
        self.placed += 1
        oid = f"o{self.placed}"
        pickup_at = None if ahead is None else self.now + dt + ahead
        self.apply(order(oid, self.now + dt, where, who, pickup_at), dt)
        return oid

    @rule(oid=orders)
    def place_again(self, oid: str) -> None:
        """A live order's id placed again is a DuplicateOrder (apply checks nothing changed)."""
        if oid not in self.ended:
            self.apply(order(oid, self.now))

    @rule(oid=orders, cause=st.none() | st.sampled_from(FailureCause), dt=st.floats(0, 60))
    def cancel(self, oid: str, cause: FailureCause | None, dt: float) -> None:
        self.apply(CancelOrder(oid, cause), dt)

    @rule(did=driver_ids, where=positions)
    def online(self, did: str, where: Any) -> None:
        self.apply(DriverOnline(did, where))

    @rule(did=driver_ids, when_free=st.booleans())
    def offline(self, did: str, when_free: bool) -> None:
        self.apply(DriverOffline(did, when_free))

    @rule(did=driver_ids, where=positions, dt=st.floats(0, 60))
    def moved(self, did: str, where: Any, dt: float) -> None:
        self.apply(DriverMoved(did, where), dt)

    @rule(did=driver_ids, dt=st.floats(0, 600))
    def arrived(self, did: str, dt: float) -> None:
        self.apply(DriverArrived(did), dt)

    @rule(did=driver_ids, where=positions, dt=st.floats(0, 900))
    def completed(self, did: str, where: Any, dt: float) -> None:
        self.apply(TripCompleted(did, where, 10.0), dt)

    @rule(oid=orders, did=driver_ids)
    def assign(self, oid: str, did: str) -> None:
        self.apply(AssignManually(oid, did))

    @rule(oid=orders, did=driver_ids)
    def assign_next(self, oid: str, did: str) -> None:
        self.apply(AssignNext(oid, did))

    @rule(oid=orders)
    def cancel_hold(self, oid: str) -> None:
        self.apply(CancelHold(oid))

    @rule(pick=st.integers(0, 4))
    def promise_a_waiting_order_to_a_busy_car(self, pick: int) -> None:
        """Random ids rarely meet a waiting order and a busy car: this rule picks them from the state."""
        waiting = [v.order.order_id for v in self.dispatcher.queue_view()]
        busy = [d.driver_id for d in self.dispatcher.drivers()
                if d.status in (DriverStatus.EN_ROUTE, DriverStatus.ON_TRIP)]
        if waiting and busy:
            self.apply(AssignNext(waiting[pick % len(waiting)], busy[pick % len(busy)]))

    @rule(dt=st.floats(0, 600))
    def finish_a_promised_cars_job(self, dt: float) -> None:
        """A car with a promise ends its job (arrives first if it must), so promises get kept too."""
        promised = [d for d in self.dispatcher.drivers() if d.next_order_id is not None]
        if promised:
            car = promised[0]
            if car.status is DriverStatus.EN_ROUTE:
                self.apply(DriverArrived(car.driver_id), dt)
            self.apply(TripCompleted(car.driver_id, car.position, 10.0))

    @rule(oid=orders, head=st.floats(-10, 400))
    def override(self, oid: str, head: float) -> None:
        self.apply(OverridePriority(oid, head, "operator knows them"))

    @rule(dt=st.floats(0, 1500))
    def tick(self, dt: float) -> None:
        self.apply(Tick(), dt)

    @invariant()
    def drivers_hold_at_most_one_order_consistently(self) -> None:
        """A driver holds an order exactly when en route or on a trip, and that order points back."""
        live = {v.order.order_id: v for v in self.dispatcher.live_orders()}
        held = [d.order_id for d in self.dispatcher.drivers() if d.order_id is not None]
        assert len(held) == len(set(held))
        for driver in self.dispatcher.drivers():
            busy = driver.status in (DriverStatus.EN_ROUTE, DriverStatus.ON_TRIP)
            assert busy == (driver.order_id is not None)
            assert busy or not driver.leaving, "only a busy driver can be waiting to leave"
            if driver.order_id is not None:
                view = live[driver.order_id]
                assert view.driver_id == driver.driver_id
                expected = (OrderStatus.ASSIGNED if driver.status is DriverStatus.EN_ROUTE
                            else OrderStatus.PICKED_UP)
                assert view.status is expected

    @invariant()
    def every_live_order_is_in_exactly_the_state_its_decisions_say(self) -> None:
        """Live orders are non-terminal and their status is the one the decision stream implies."""
        live = {v.order.order_id: v.status for v in self.dispatcher.live_orders()}
        assert live == self.status
        queued = [v.order.order_id for v in self.dispatcher.queue_view()]
        held = {v.order.order_id for v in self.dispatcher.live_orders() if v.held_for is not None}
        waiting = [k for k, s in live.items() if s is OrderStatus.QUEUED and k not in held]
        assert sorted(queued) == sorted(waiting)
        assert self.dispatcher.queue_length == len(queued)

    @invariant()
    def no_free_car_can_take_a_waiting_order(self) -> None:
        """Matching runs to quiescence: a waiting order the policy admits at the current
        free count is out of reach of every free car."""
        free = [d for d in self.dispatcher.drivers() if d.status is DriverStatus.FREE]
        assert self.dispatcher.free_driver_count == len(free)
        for view in self.admitted_waiting_orders(len(free)):
            for driver in free:
                assert not self.reaches(driver.position, view.order.pickup), (
                    f"free {driver.driver_id} could take waiting {view.order.order_id}"
                )

    def admitted_waiting_orders(self, free_cars: int) -> list[OrderView]:
        may_take = self.dispatcher.policy.may_take_car
        return [v for v in self.dispatcher.live_orders()
                if v.status is OrderStatus.QUEUED and v.held_for is None and may_take(v.score, free_cars)]

    def reaches(self, car: Position, pickup: Position) -> bool:
        return haversine_m(car, pickup) <= self.config.pickup_radius_m

    @invariant()
    def promises_point_both_ways_to_busy_cars(self) -> None:
        """A held order is QUEUED and promised to a busy driver who is staying and names it back."""
        drivers = {d.driver_id: d for d in self.dispatcher.drivers()}
        held = {v.order.order_id: v for v in self.dispatcher.live_orders() if v.held_for is not None}
        for order_id, view in held.items():
            driver = drivers[str(view.held_for)]
            assert view.status is OrderStatus.QUEUED and driver.next_order_id == order_id
            assert driver.status in (DriverStatus.EN_ROUTE, DriverStatus.ON_TRIP) and not driver.leaving
        assert {d.next_order_id for d in drivers.values() if d.next_order_id} == set(held)

    @invariant()
    def queue_is_in_key_order(self) -> None:
        """The console's queue view is sorted by (effective_at, arrival)."""
        keys = [v.effective_at for v in self.dispatcher.queue_view()]
        assert keys == sorted(keys)

    def teardown(self) -> None:
        replay = self.build()
        replayed = [replay.handle(command, now) for command, now in self.log]
        assert replayed == self.decided, "same commands must give the same decisions"


DispatcherMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=50, deadline=None)
TestDispatcherInvariants = DispatcherMachine.TestCase




class ReserveDispatcherMachine(DispatcherMachine):
    """The same invariants under capacity reservation, whose admission depends on the free count."""

    policy = "reserve"
    policy_params = RESERVE


ReserveDispatcherMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=50, deadline=None)
TestReserveDispatcherInvariants = ReserveDispatcherMachine.TestCase


ZONE = DispatchConfig(spatial=False, max_wait_s=900, prebook_lead_s=300)


class ZoneDispatcherMachine(DispatcherMachine):
    """The same invariants in zone mode, where every free car reaches every waiting order."""

    config = ZONE

    def reaches(self, car: Position, pickup: Position) -> bool:
        return True


ZoneDispatcherMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=50, deadline=None)
TestZoneDispatcherInvariants = ZoneDispatcherMachine.TestCase


class ZoneReserveDispatcherMachine(ZoneDispatcherMachine):
    """Zone mode under capacity reservation: a freed car's own search speaks for every car."""

    policy = "reserve"
    policy_params = RESERVE


ZoneReserveDispatcherMachine.TestCase.settings = settings(
    max_examples=100, stateful_step_count=50, deadline=None
)
TestZoneReserveDispatcherInvariants = ZoneReserveDispatcherMachine.TestCase


BATCH = DispatchConfig(
    pickup_radius_m=2500, max_wait_s=900, prebook_lead_s=300, cell_m=700, batch_window_s=5.0
)
EDGE_S = 1e-6


class BatchDispatcherMachine(DispatcherMachine):
    """Batch mode: the quiescence promise holds at the end of every batch, a batch is due
    within one window of a match becoming possible, and a batch gives a car to a later key
    only when the pickup it saves pays for the difference (the batch starvation bound)."""

    config = BATCH

    def __init__(self) -> None:
        super().__init__()
        self.unmatched_since: float | None = None
        self.batch_ran = False

    def apply(self, command: Any, dt: float = 0.0) -> None:
        if not isinstance(command, Tick):
            self.batch_ran = False
            super().apply(command, dt)
            return
        due_at = self.dispatcher.batch_due_at
        self.batch_ran = due_at is not None and due_at <= self.now + dt
        before = self.batch_candidates()
        super().apply(command, dt)
        if self.batch_ran:
            self.check_no_pass_beyond_the_pickup_saved(before, self.decided[-1])

    @rule(calls=st.lists(st.tuples(positions, st.sampled_from(CUSTOMERS)), min_size=2, max_size=4))
    def rush(self, calls: list[tuple[Position, str | None]]) -> None:
        """Several calls at once: more orders than cars compete in one batch."""
        for where, who in calls:
            self.placed += 1
            self.apply(order(f"o{self.placed}", self.now, where, who))

    @rule(dt=st.floats(0, 10))
    def tick_soon(self, dt: float) -> None:
        """The live writer ticks every second or so: most batches run just after they fall due."""
        self.apply(Tick(), dt)

    def batch_candidates(self) -> tuple[dict[str, float], dict[str, OrderView], dict[str, Position]]:
        keys = {v.order.order_id: v.effective_at for v in self.dispatcher.queue_view()}
        views = {v.order.order_id: v for v in self.dispatcher.live_orders()}
        free = {d.driver_id: d.position for d in self.dispatcher.drivers()
                if d.status is DriverStatus.FREE}
        return keys, views, free

    def check_no_pass_beyond_the_pickup_saved(
        self, before: tuple[dict[str, float], dict[str, OrderView], dict[str, Position]],
        decisions: list[Decision],
    ) -> None:
        """j took car c while i, waiting in the same batch and able to take c, stays queued:
        then key_j - key_i <= eta(c, i) - eta(c, j), unless i was held back by reservation;
        and orders admitted only above the reservation threshold took at most free - k cars."""
        keys, views, free = before
        policy = self.dispatcher.policy
        threshold = policy.supply_threshold
        limited = threshold is not None and len(free) > threshold

        def restricted(view: OrderView) -> bool:
            return limited and not policy.may_take_car(view.score, threshold or 0)

        assigned = [(d.order_id, d.driver_id) for d in decisions
                    if isinstance(d, OrderAssigned) and d.order_id in keys]
        if limited:
            held_back = sum(restricted(views[j]) for j, _ in assigned)
            assert held_back <= len(free) - (threshold or 0), "reserved cars went to the unreserved"
        left = [oid for oid in keys if self.status.get(oid) is OrderStatus.QUEUED
                and policy.may_take_car(views[oid].score, len(free))]
        for j, car in assigned:
            eta_j = self.eta(free[car], views[j].order.pickup)
            for i in left:
                pickup_i = views[i].order.pickup
                if not self.reaches(free[car], pickup_i):
                    continue
                if restricted(views[i]) and not restricted(views[j]):
                    continue
                saved = self.eta(free[car], pickup_i) - eta_j
                assert keys[j] - keys[i] <= saved + EDGE_S, f"{j} passed {i} for {car}"

    def eta(self, car: Position, pickup: Position) -> float:
        return eta_s(haversine_m(car, pickup), self.config.speed_mps, self.config.detour_factor)

    @invariant()
    def no_free_car_can_take_a_waiting_order(self) -> None:
        """Wherever a free car could take a waiting order the policy admits, a batch is due
        at most one window after that became possible; right after a batch, nowhere."""
        free = [d for d in self.dispatcher.drivers() if d.status is DriverStatus.FREE]
        assert self.dispatcher.free_driver_count == len(free)
        stuck = any(self.reaches(driver.position, view.order.pickup)
                    for view in self.admitted_waiting_orders(len(free)) for driver in free)
        if not stuck:
            self.unmatched_since = None
            return
        assert not self.batch_ran, "a free car could take a waiting order after a batch"
        if self.unmatched_since is None:
            self.unmatched_since = self.now
        due_at = self.dispatcher.batch_due_at
        window = self.config.batch_window_s or 0.0
        assert due_at is not None and due_at <= self.unmatched_since + window
        assert self.dispatcher.next_timer_at() is not None


def batch_case(machine: type[BatchDispatcherMachine], examples: int) -> Any:
    machine.TestCase.settings = settings(max_examples=examples, stateful_step_count=50, deadline=None)
    return machine.TestCase


TestBatchDispatcherInvariants = batch_case(BatchDispatcherMachine, 80)


class BatchReserveDispatcherMachine(BatchDispatcherMachine):
    """Batch mode under capacity reservation: orders admitted only above k share free - k cars."""

    policy = "reserve"
    policy_params = RESERVE


TestBatchReserveDispatcherInvariants = batch_case(BatchReserveDispatcherMachine, 80)


class BatchRejectDispatcherMachine(BatchDispatcherMachine):
    """Batch mode with the status quo: an order no batch could serve is refused at its end."""

    policy = "reject"


TestBatchRejectDispatcherInvariants = batch_case(BatchRejectDispatcherMachine, 50)
