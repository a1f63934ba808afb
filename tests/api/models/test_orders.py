"""Orders, their conversion to the dispatch core, and the append-only event log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from api.models import (
    AppendOnlyError,
    Customer,
    Driver,
    Order,
    OrderEvent,
    OrderPublic,
    order_view,
    to_core_order,
)
from dispatch.model import FailureCause, OrderStatus, Position, PriorityScore, Tier

REQUESTED = datetime(2026, 5, 1, 8, 0, 0, tzinfo=UTC)


def make_order(**fields: object) -> Order:
    values: dict[str, object] = {
        "id": "o1",
        "pickup_lat": 56.84,
        "pickup_lon": 60.61,
        "requested_at": REQUESTED,
        "status": OrderStatus.QUEUED.value,
    }
    values.update(fields)
    return Order.model_validate(values)


def test_core_order_round_trip(session: Session) -> None:
    """A stored order converts to the core's Order with epoch seconds and positions."""
    session.add(Customer(id="c1"))
    pickup_at = datetime(2026, 5, 1, 9, 30, tzinfo=UTC)
    session.add(make_order(customer_id="c1", pickup_at=pickup_at, dropoff_lat=56.9, dropoff_lon=60.7))
    session.commit()
    session.expunge_all()
    stored = session.get(Order, "o1")
    assert stored is not None
    core = to_core_order(stored)
    assert core.order_id == "o1" and core.customer_id == "c1"
    assert core.pickup == Position(56.84, 60.61) and core.dropoff == Position(56.9, 60.7)
    assert core.requested_at == REQUESTED.timestamp() and core.pickup_at == pickup_at.timestamp()


def test_order_view_keeps_the_score_and_head_start(session: Session) -> None:
    """What a restart needs is all there: status, driver, cause, score, the head start given."""
    session.add(Driver(id="d1"))
    session.add(
        make_order(
            status=OrderStatus.ASSIGNED.value,
            driver_id="d1",
            head_start_s=240.0,
            score_head_start_s=180.0,
            tier=Tier.AT_RISK.value,
            reason="1 failed -> +3 min",
            value=120.0,
            value_at_risk=40.0,
        )
    )
    session.commit()
    view = order_view(session.get(Order, "o1"))  # type: ignore[arg-type]
    assert view.status is OrderStatus.ASSIGNED and view.driver_id == "d1"
    assert view.head_start_s == 240.0 and view.failure_cause is None
    assert view.score == PriorityScore(180.0, Tier.AT_RISK, "1 failed -> +3 min", 120.0, 40.0)
    assert view.order.customer_id is None and view.order.dropoff is None


def test_failed_order_view_and_public_enums(session: Session) -> None:
    """Stored strings come back as the core's enums, in the view and in the public model."""
    session.add(make_order(status="rejected", failure_cause="no_car", tier=None))
    session.commit()
    row = session.get(Order, "o1")
    assert row is not None
    assert order_view(row).failure_cause is FailureCause.NO_CAR
    assert order_view(row).score.tier is Tier.NEW
    public = OrderPublic.model_validate(row)
    assert public.status is OrderStatus.REJECTED and public.failure_cause is FailureCause.NO_CAR


def test_idempotency_key_is_unique_but_optional(session: Session) -> None:
    """Orders without a key coexist; a second order with a used key is refused."""
    session.add_all([make_order(id="a"), make_order(id="b"), make_order(id="c", idempotency_key="k")])
    session.commit()
    session.add(make_order(id="d", idempotency_key="k"))
    with pytest.raises(IntegrityError):
        session.commit()


def test_event_log_is_append_only(session: Session) -> None:
    """Events can be added, but changing or deleting one through the ORM is refused."""
    session.add(make_order())
    event = OrderEvent(
        order_id="o1",
        at=REQUESTED,
        kind="queued",
        status="queued",
        actor="dispatcher",
        payload={"head_start_s": 120.0},
    )
    session.add(event)
    session.commit()
    event.cause = "edited"
    session.add(event)
    with pytest.raises(AppendOnlyError):
        session.commit()
    session.rollback()
    session.delete(event)
    with pytest.raises(AppendOnlyError):
        session.commit()
