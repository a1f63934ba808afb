"""The console's lists beside the queue: pre-bookings not yet released, and orders promised to a busy car."""

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


def held_json(view: EngineView, details: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Waiting orders promised to a busy car (`dispatch.holds`): still waiting, no longer in the
    queue's service order, each with the car it waits for and the key it returns to the queue with."""
    return [
        {
            **details.get(held.order.order_id, {}),
            "order_id": held.order.order_id,
            "customer_id": held.order.customer_id,
            "pickup_lat": held.order.pickup.lat,
            "pickup_lon": held.order.pickup.lon,
            "requested_at": held.order.requested_at,
            "effective_at": held.order.due_at - held.head_start_s,
            "head_start_s": held.head_start_s,
            "tier": held.score.tier.value,
            "reason": held.score.reason,
            "held_for": held.held_for,
            "status": "queued",
        }
        for held in view.held
    ]
