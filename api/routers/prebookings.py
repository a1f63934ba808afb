"""Editing a pre-booked order before its release (time, pickup point, address); cancel is /orders/{id}/cancel.

`GET /orders?status=scheduled` lists them; the console keeps its own list from
the snapshot and the `order.scheduled` / `order.rescheduled` events.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, BeforeValidator, Field, model_validator
from pydantic.json_schema import SkipJsonSchema

from api.deps import Dispatching, ServiceDep, SettingsDep
from api.live.commands import RequestProblem
from api.live.prebooking import EditPrebooking
from api.models import Order, OrderPublic
from api.routers.fields import CleanStr, Moment, OmittableLatitude, OmittableLongitude
from api.service_area import check_in_area
from dispatch.model import Position

router = APIRouter(prefix="/orders", tags=["orders"])


def _given(value: Any) -> Any:
    """A field of an edit is sent to change it; `null` would be a change to nothing."""
    if value is None:
        raise ValueError("leave the field out instead of sending null")
    return value


OmittableMoment = Annotated[Moment | SkipJsonSchema[None], BeforeValidator(_given)]
OmittableText = Annotated[CleanStr | SkipJsonSchema[None], BeforeValidator(_given)]


class PrebookingEdit(BaseModel):
    """Only what changes; at least one field."""

    model_config = {
        "extra": "forbid",
        "json_schema_extra": {
            "minProperties": 1,
            "dependentRequired": {"pickup_lat": ["pickup_lon"], "pickup_lon": ["pickup_lat"]},
        },
    }

    pickup_at: OmittableMoment = Field(default=None, description="the new pickup time")
    pickup_lat: OmittableLatitude = Field(default=None, description="with `pickup_lon`")
    pickup_lon: OmittableLongitude = Field(default=None, description="with `pickup_lat`")
    pickup_address: OmittableText = Field(default=None, min_length=1, max_length=300)

    @model_validator(mode="after")
    def _something_whole(self) -> PrebookingEdit:
        if (self.pickup_lat is None) != (self.pickup_lon is None):
            missing = "pickup_lon" if self.pickup_lon is None else "pickup_lat"
            raise RequestProblem(("body", missing), "pickup_lat and pickup_lon go together")
        if self.pickup_at is None and self.pickup_lat is None and self.pickup_address is None:
            raise RequestProblem(
                ("body",), "nothing to change: send pickup_at, the pickup point or pickup_address"
            )
        return self

    def pickup(self) -> Position | None:
        if self.pickup_lat is None or self.pickup_lon is None:
            return None
        return Position(self.pickup_lat, self.pickup_lon)


@router.patch("/{order_id}", response_model=OrderPublic)
async def edit_prebooking(
    order_id: str, body: PrebookingEdit, principal: Dispatching, service: ServiceDep, settings: SettingsDep
) -> Order:
    """Move a pre-booking not yet released: a time within the lead releases it at once (audited)."""
    pickup = body.pickup()
    if pickup is not None:
        check_in_area(settings, pickup, ("body", "pickup_lat"))
    pickup_at = None if body.pickup_at is None else body.pickup_at.timestamp()
    command = EditPrebooking(order_id, principal.actor, pickup_at, pickup, body.pickup_address)
    order: Order = await service.submit(command)
    return order
