"""The writer: runs one `LiveCommand` against the engine and the store, on the writer thread.

Every handler does its reads and checks first and raises the expected errors
(`DomainError`, `RequestProblem`, `NotFound`, `Conflict`) only before it has
written anything, so one refused command never leaves half its writes in a
batch that others commit. Anything that fails after the first write is wrapped
in `WriteFailed`, which aborts the whole transaction and makes the service
rebuild the engine from the store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from api.aggregates import load_history
from api.events import Event
from api.models import Customer, Driver, Order, order_view, to_core_order
from api.models.calls import purge_calls_before
from api.settings import Settings
from dispatch import commands as c
from dispatch.decisions import Decision
from dispatch.engine import DispatchConfig, Dispatcher
from dispatch.errors import UnknownDriver, UnknownOrder
from dispatch.model import DriverStatus, DriverView, OrderStatus, Position
from dispatch.policies import Policy
from dispatch.policy_params import PolicyContext, PolicyParams, build_policy
from dispatch.tariff import Tariff
from valuation.history import CustomerHistory
from valuation.params import DEFAULT_PARAMS, ValuationParams
from valuation.scorer import make_scorer

from . import customer_care, erasure, intake, prebooking
from .commands import (
    Apply,
    Conflict,
    ForgetCustomer,
    LiveCommand,
    NotFound,
    PurgeCalls,
    SubmitOrder,
    TickIfDue,
)
from .fares import quote
from .replay import find_replay
from .store import DecisionStore

LIVE_STATUSES = sorted(s.value for s in OrderStatus if not s.is_terminal)
_DRIVER_COMMANDS = (
    c.DriverOnline,
    c.DriverOffline,
    c.DriverMoved,
    c.DriverArrived,
    c.TripCompleted,
)


class WriteFailed(RuntimeError):
    """A command failed after it started writing: the transaction and the engine are void."""


@dataclass(frozen=True, slots=True)
class WriterSetup:
    """Everything the writer needs from the settings, read once at start."""

    policy_name: str = "retention"
    policy_params: PolicyParams = field(default_factory=PolicyParams)
    config: DispatchConfig = field(default_factory=DispatchConfig)
    params: ValuationParams = DEFAULT_PARAMS
    vip_ids: frozenset[str] = frozenset()
    phone_region: str = "RU"
    duplicate_window_s: float = 1800.0
    tick_interval_s: float = 1.0
    call_log_retention_days: int = 90
    writer_stall_s: float = 5.0
    tariff: Tariff = field(default_factory=Tariff)
    currency: str = "EUR"

    @classmethod
    def from_settings(cls, settings: Settings) -> WriterSetup:
        params = DEFAULT_PARAMS
        if settings.valuation_params_path is not None:
            text = Path(settings.valuation_params_path).read_text(encoding="utf-8")
            params = ValuationParams.from_json(text)
        return cls(
            policy_name=settings.policy,
            policy_params=settings.policy_params(),
            config=DispatchConfig(**settings.dispatch_config_kwargs()),
            params=params,
            vip_ids=frozenset(settings.vip_customer_ids),
            phone_region=settings.phone_region,
            duplicate_window_s=settings.duplicate_order_window_s,
            tick_interval_s=settings.tick_interval_s,
            call_log_retention_days=settings.call_log_retention_days,
            writer_stall_s=settings.writer_stall_s,
            tariff=settings.tariff(),
            currency=settings.currency,
        )

    def make_policy(self) -> Policy:
        """The settings' policy, by the builder the simulator uses, scaled by this scorer."""
        context = PolicyContext(self.config.max_head_start_s, self.vip_ids,
                                risk_value_per_s=self.params.value_per_s,
                                first_order_floor_s=self.params.effective_floor_s)
        return build_policy(self.policy_name, self.policy_params, context)


@dataclass(frozen=True, slots=True)
class Gauges:
    queue_length: int
    free_drivers: int


@dataclass(frozen=True, slots=True)
class Applied:
    """What an `Apply` did, with the rows it touched as committed."""

    decisions: list[Decision]
    order: Order | None
    driver: Driver | None


Run = Callable[[Any], tuple[Any, list[Event]]]


class Writer:
    def __init__(
        self, session_factory: sessionmaker[Session], setup: WriterSetup, clock: Callable[[], float]
    ) -> None:
        self.setup, self._clock = setup, clock
        self._session_factory = session_factory
        self._session: Session | None = None
        self._scorer = make_scorer(self._history, setup.params, setup.vip_ids)
        self.store = DecisionStore(setup.params)
        self.dispatcher = self._new_dispatcher()
        self.dirty = True  # nothing loaded yet
        self._handlers: dict[
            type[Any], Callable[[Session, Any, float], tuple[Any, list[Event]]]
        ] = {
            SubmitOrder: self._submit_order,
            Apply: self._apply,
            ForgetCustomer: self._forget,
            TickIfDue: self._tick,
            PurgeCalls: self._purge,
            **customer_care.HANDLERS,
            **prebooking.handlers(self),
        }

    def add_handler(
        self, kind: type[Any], handler: Callable[[Session, Any, float], tuple[Any, list[Event]]]
    ) -> None:
        """Teach the writer a command type of a shell around it (the scale-out leader's)."""
        self._handlers[kind] = handler

    def handler_for(
        self, command: LiveCommand
    ) -> Callable[[Session, Any, float], tuple[Any, list[Event]]]:
        return self._handlers[type(command)]

    def _new_dispatcher(self) -> Dispatcher:
        return Dispatcher(self.setup.make_policy(), self._scorer, self.setup.config)

    def _history(self, customer_id: str) -> CustomerHistory | None:
        """The scorer's lookup: aggregates as this transaction sees them (own writes included)."""
        if self._session is None:
            raise RuntimeError("scoring outside a writer transaction")
        customer = self._session.get(Customer, customer_id)
        return None if customer is None else load_history(customer)

    def gauges(self) -> Gauges:
        d = self.dispatcher
        return Gauges(d.queue_length, d.free_driver_count)

    # ---- rebuilding --------------------------------------------------------------------

    def rebuild(self) -> list[Event]:
        """A fresh engine from the stored drivers and live orders (start-up, after a failure)."""
        self.dirty = True
        dispatcher = self._new_dispatcher()
        with self._session_factory() as session:
            self._session = session
            try:
                now = self._clock()
                drivers = [
                    DriverView(
                        row.id,
                        DriverStatus(row.status),
                        Position(row.lat, row.lon),
                        row.order_id,
                        leaving=row.leaving,
                    )
                    for row in session.exec(select(Driver).order_by(col(Driver.id)))
                    if row.lat is not None and row.lon is not None
                ]
                orders = session.exec(
                    select(Order)
                    .where(col(Order.status).in_(LIVE_STATUSES))
                    .order_by(col(Order.requested_at), col(Order.created_at), col(Order.id))
                ).all()
                decisions = dispatcher.restore(drivers, [order_view(row) for row in orders], now)
                events = self.store.persist(
                    session, decisions, dispatcher, "dispatcher:restore", now
                )
                session.commit()
            finally:
                self._session = None
        self.dispatcher, self.dirty = dispatcher, False
        return events

    # ---- transactions ------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Run]:
        """Commands run through the yielded function share one transaction, committed at exit."""
        with self._session_factory() as session:
            self._session = session
            try:
                yield lambda command: self._run(session, command)
                session.commit()
            except BaseException:
                self.dirty = True
                session.rollback()
                raise
            finally:
                self._session = None

    def _run(
        self, session: Session, command: LiveCommand | Callable[[Dispatcher], Any]
    ) -> tuple[Any, list[Event]]:
        handler = self._handlers.get(type(command))
        if handler is None:
            assert callable(command)
            return command(self.dispatcher), []
        return handler(session, command, self._clock())

    # ---- handlers ----------------------------------------------------------------------

    def _submit_order(
        self, session: Session, request: SubmitOrder, now: float
    ) -> tuple[Any, list[Event]]:
        found = find_replay(session, request, self.setup.phone_region)
        if found is not None:
            return found, []
        intake.check_pickup_time(request.intake, now)
        caller = intake.resolve_caller(session, request.intake, self.setup.phone_region)
        found = intake.find_duplicate(
            session, request.intake, caller, now, self.setup.duplicate_window_s
        )
        if found is not None:
            return found, []
        customer_care.check_confirmed(session, caller.customer_id, request.intake.confirmed)
        if request.intake.call_id is not None:
            intake.require_call(session, request.intake.call_id)
        try:
            row = intake.store_new_order(session, request, caller, now)
            customer_care.note_confirmed(session, row, request, now)
            row.fare_estimate = quote(self.setup.tariff, self.setup.config, row)
            decisions = self.dispatcher.handle(c.PlaceOrder(to_core_order(row)), now)
            events = self.store.persist(session, decisions, self.dispatcher, request.actor, now)
        except Exception as error:
            raise WriteFailed(f"storing a new order failed: {error}") from error
        created = Event("order_created", now, {"order_id": row.id, "source": request.source})
        return intake.IntakeResult(row, created=True), [created, *events]

    def _apply(self, session: Session, request: Apply, now: float) -> tuple[Any, list[Event]]:
        command = request.command
        driver_id: str | None = getattr(command, "driver_id", None)
        if isinstance(command, _DRIVER_COMMANDS) and session.get(Driver, driver_id) is None:
            raise NotFound(f"unknown driver {driver_id!r}")
        try:
            decisions = self.dispatcher.handle(command, now)  # DomainError here: nothing changed
        except UnknownOrder as error:
            row = session.get(Order, error.order_id)
            if row is not None:
                raise Conflict(
                    f"order {row.id!r} is {row.status}: it can no longer change"
                ) from None
            raise
        except UnknownDriver as error:  # registered, but never online since the engine started
            known = session.get(Driver, error.driver_id)
            if known is not None:
                raise Conflict(f"driver {known.id!r} is {known.status}") from None
            raise
        try:
            events = self.store.persist(
                session, decisions, self.dispatcher, request.actor, now, request.cause
            )
            if isinstance(command, _DRIVER_COMMANDS) and driver_id is not None:
                self.store.sync_driver(session, self.dispatcher, driver_id, now)
            session.flush()
        except Exception as error:
            raise WriteFailed(f"storing decisions failed: {error}") from error
        order_id: str | None = getattr(command, "order_id", None)
        order = None if order_id is None else session.get(Order, order_id)
        driver = None if driver_id is None else session.get(Driver, driver_id)
        return Applied(decisions, order, driver), events

    def _forget(
        self, session: Session, request: ForgetCustomer, now: float
    ) -> tuple[Any, list[Event]]:
        order_ids = list(session.exec(select(Order.id).where(Order.customer_id == request.customer_id)))
        erased = intake.forget_customer(session, request.customer_id, now)
        erased["reasons"] = erasure.erase_free_text(session, order_ids)
        data = {"customer_id": request.customer_id, "order_ids": order_ids}  # the hub scrubs its copies
        return erased, [Event("customer_forgotten", now, data)]

    def _tick(self, session: Session, request: TickIfDue, now: float) -> tuple[Any, list[Event]]:
        due_at = self.dispatcher.next_timer_at()
        if due_at is None or due_at > now:
            return [], []
        decisions = self.dispatcher.handle(c.Tick(), now)
        try:
            return decisions, self.store.persist(
                session, decisions, self.dispatcher, "dispatcher", now
            )
        except Exception as error:
            raise WriteFailed(f"storing tick decisions failed: {error}") from error

    def _purge(self, session: Session, request: PurgeCalls, now: float) -> tuple[Any, list[Event]]:
        return purge_calls_before(session, intake.purge_cutoff(now, request.retention_days)), []
