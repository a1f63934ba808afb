"""The console's list of pre-booked orders not yet released, soonest release first."""

from __future__ import annotations

from typing import Any

from .state import EngineView


def scheduled_json(
    view: EngineView, details: dict[str, dict[str, Any]], lead_s: float
) -> list[dict[str, Any]]:
    """Each pre-booking with its pickup time and the time it will start competing for cars.

    The release is `pickup_at - prebook_lead_s`, as the dispatcher computes it
    (`Dispatcher._place`, `_reschedule`), so the list says what the engine will do.
    """
    entries = []
    for booking in view.scheduled:
        order = booking.order
        pickup_at = order.due_at
        entries.append(
            {
                **details.get(order.order_id, {}),
                "order_id": order.order_id,
                "customer_id": order.customer_id,
                "pickup_lat": order.pickup.lat,
                "pickup_lon": order.pickup.lon,
                "pickup_at": pickup_at,
                "release_at": pickup_at - lead_s,
                "status": "scheduled",
            }
        )
    return sorted(entries, key=lambda entry: (entry["release_at"], entry["order_id"]))
