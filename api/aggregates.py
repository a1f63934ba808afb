"""Order outcomes -> a customer's stored valuation aggregates and counters.

The live dispatcher calls `record_outcome` in the same transaction that stores
an order's terminal status, so the score the next call sees always includes
the last outcome. The importer instead rebuilds the aggregates of every
customer it touched from all of their finished orders (`rebuild_aggregates`),
which gives the same result whatever order the rows came in.

Outcomes are folded at the time the customer asked (`requested_at`): it is
what an imported history knows, and the decay of a few minutes between asking
and finishing is negligible against half-lives of weeks. A completed trip with
no known fare counts at the population mean fare, which neither raises nor
lowers the customer's fare estimate much.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlmodel import Session, col, select

from api.models import Customer, Order, epoch_s
from dispatch.model import TERMINAL_ORDER_STATUSES, FailureCause, OrderStatus
from valuation.history import (
    CustomerHistory,
    record_cancelled,
    record_completed,
    record_failed,
)
from valuation.params import DEFAULT_PARAMS, ValuationParams

_TERMINAL = sorted(status.value for status in TERMINAL_ORDER_STATUSES)
CHUNK = 500  # ids per IN (...) clause, well below every backend's parameter limit


def load_history(customer: Customer) -> CustomerHistory:
    return CustomerHistory.from_dict(customer.history) if customer.history else CustomerHistory()


def fold_outcome(
    history: CustomerHistory, order: Order, params: ValuationParams = DEFAULT_PARAMS
) -> CustomerHistory:
    """One finished order added to a history; orders still live leave it unchanged."""
    at_s = epoch_s(order.requested_at)
    status = OrderStatus(order.status)
    if status is OrderStatus.COMPLETED:
        fare = params.population_mean_fare if order.fare is None else order.fare
        return record_completed(history, at_s, fare, params=params)
    if status is OrderStatus.CANCELLED and order.failure_cause is None:
        return record_cancelled(history, at_s, params)
    if status.is_terminal:
        cause = FailureCause(order.failure_cause or FailureCause.NO_CAR)
        return record_failed(history, at_s, cause, params)
    return history


def _store(customer: Customer, history: CustomerHistory) -> None:
    customer.history = history.to_dict()  # a new dict, so the JSON column is seen as changed
    customer.completed_count = history.completed
    customer.failed_count = history.failed
    customer.cancelled_count = history.cancelled


def record_outcome(customer: Customer, order: Order, params: ValuationParams = DEFAULT_PARAMS) -> None:
    """Update `customer` in place for one order that just ended (the caller commits)."""
    _store(customer, fold_outcome(load_history(customer), order, params))
    if customer.last_order_at is None or customer.last_order_at < order.requested_at:
        customer.last_order_at = order.requested_at


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def rebuild_aggregates(
    session: Session, customer_ids: Iterable[str], params: ValuationParams = DEFAULT_PARAMS
) -> int:
    """Recompute aggregates from every finished order of these customers; returns how many."""
    ids = sorted(set(customer_ids))
    for chunk in _chunks(ids):
        customers = session.exec(select(Customer).where(col(Customer.id).in_(chunk))).all()
        orders = session.exec(
            select(Order)
            .where(col(Order.customer_id).in_(chunk), col(Order.status).in_(_TERMINAL))
            .order_by(col(Order.requested_at), col(Order.id))
        ).all()
        by_customer: dict[str, list[Order]] = {}
        for order in orders:
            by_customer.setdefault(str(order.customer_id), []).append(order)
        for customer in customers:
            history = CustomerHistory()
            own = by_customer.get(customer.id, [])
            for order in own:
                history = fold_outcome(history, order, params)
            _store(customer, history)
            customer.last_order_at = own[-1].requested_at if own else None
            session.add(customer)
    return len(ids)
