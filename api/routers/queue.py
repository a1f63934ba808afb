"""The queue as the console shows it: waiting orders in the order cars will be given out.

Each entry carries the head start the order got, the operator's tier word and
the one-line reason, so an operator can say why an order stands where it does.
Only staff see it: customers are quoted ETAs from their own key, never places.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import Reading, ServiceDep
from api.models import from_epoch_s
from dispatch.engine import Dispatcher
from dispatch.model import QueuedOrderView, Tier

router = APIRouter(prefix="/queue", tags=["queue"])


class QueueEntry(BaseModel):
    position: int
    order_id: str
    customer_id: str | None
    requested_at: datetime
    pickup_at: datetime | None
    effective_at: datetime
    head_start_s: float
    tier: Tier
    reason: str
    pickup_lat: float
    pickup_lon: float

    @classmethod
    def of(cls, position: int, view: QueuedOrderView) -> QueueEntry:
        order = view.order
        return cls(
            position=position,
            order_id=order.order_id,
            customer_id=order.customer_id,
            requested_at=from_epoch_s(order.requested_at),
            pickup_at=None if order.pickup_at is None else from_epoch_s(order.pickup_at),
            effective_at=from_epoch_s(view.effective_at),
            head_start_s=view.head_start_s,
            tier=view.tier,
            reason=view.reason,
            pickup_lat=order.pickup.lat,
            pickup_lon=order.pickup.lon,
        )


def _queue(dispatcher: Dispatcher) -> list[QueuedOrderView]:
    return dispatcher.queue_view()


@router.get("", response_model=list[QueueEntry])
async def get_queue(principal: Reading, service: ServiceDep) -> list[QueueEntry]:
    """Waiting orders in service order (first is served first), read between two writes."""
    views = await service.read(_queue)
    return [QueueEntry.of(position, view) for position, view in enumerate(views, start=1)]
