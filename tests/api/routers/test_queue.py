"""GET /queue: waiting orders in service order, with head start, tier and reason."""

from __future__ import annotations

from api.models import Role
from tests.api.app_fixtures import CENTRE, Live


async def test_the_queue_is_in_service_order_with_reasons(live: Live) -> None:
    """A newcomer (head-start floor) who called later stands ahead of an order without head start."""
    anonymous = await live.order()
    await live.post(
        f"/orders/{anonymous['id']}/priority", json={"head_start_s": 0, "reason": "test"}
    )
    live.clock.advance(60)
    newcomer = await live.order(lat=CENTRE[0] + 0.01, phone="+79123456789")
    queue = (await live.get("/queue", role=Role.ANALYST)).json()
    assert [q["order_id"] for q in queue] == [newcomer["id"], anonymous["id"]]
    assert [q["position"] for q in queue] == [1, 2]
    first = queue[0]
    assert (
        first["head_start_s"] > 60 and first["tier"] == "new" and "first order" in first["reason"]
    )


async def test_served_orders_leave_the_queue(live: Live) -> None:
    """A car that comes online takes the first order; the queue shrinks from the front."""
    a = await live.order(phone="+79123456789")
    b = await live.order(lat=CENTRE[0] + 0.01)
    await live.driver("d1")
    assert [q["order_id"] for q in (await live.get("/queue")).json()] == [b["id"]]
    assert (await live.get(f"/orders/{a['id']}")).json()["status"] == "assigned"
