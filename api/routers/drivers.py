"""Drivers: register, go online or offline, report position, arrival and trip completion.

A driver key speaks for one driver only (`keepcab keys create --role driver
--driver ID`); operators and admins may act for any driver, e.g. when a driver
phones in. Every report goes through the dispatcher, which may answer it with
an assignment: the response carries the driver's state after it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, Field
from sqlmodel import col, select

from api.deps import Dispatching, Driving, Principal, Reading, ServiceDep, SessionDep, SettingsDep
from api.live.commands import Apply, Conflict, NotFound
from api.live.writer import Applied
from api.models import Driver, DriverPublic, Order, Role
from api.routers.fields import CleanStr, Latitude, Longitude
from api.service_area import check_in_area
from api.settings import Settings
from dispatch import commands as c
from dispatch.model import DriverStatus, Position

router = APIRouter(prefix="/drivers", tags=["drivers"])


class Point(BaseModel):
    model_config = {
        "extra": "forbid",
        "json_schema_extra": {"examples": [{"lat": 55.75, "lon": 37.61}]},
    }

    lat: Latitude
    lon: Longitude

    def position(self, settings: Settings) -> Position:
        """The reported position, once it is known to be inside the service area."""
        point = Position(self.lat, self.lon)
        check_in_area(settings, point, ("body", "lat"))
        return point


class TripEnd(Point):
    fare: float | None = Field(default=None, ge=0, le=1_000_000, strict=True, allow_inf_nan=False)


class DriverRegistration(BaseModel):
    """A fleet driver's id (callsign) and name; the id pattern is enforced here."""

    model_config = {"extra": "forbid"}

    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$")
    name: CleanStr | None = Field(default=None, max_length=200)


class DriverState(BaseModel):
    """A driver after a report, with the order the dispatcher gave them, if any."""

    driver: DriverPublic
    assigned_order_id: str | None
    leaving: bool = Field(
        default=False, description="goes offline when the job in hand ends, instead of another"
    )


def _for_self(principal: Principal, driver_id: str) -> None:
    if principal.role == Role.DRIVER and principal.driver_id != driver_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a driver key acts only for its own driver")


async def _report(
    service: ServiceDep, principal: Principal, driver_id: str, command: c.Command
) -> DriverState:
    _for_self(principal, driver_id)
    applied: Applied = await service.submit(Apply(command, principal.actor))
    if applied.driver is None:
        raise NotFound(f"unknown driver {driver_id!r}")
    return DriverState(
        driver=DriverPublic.model_validate(applied.driver),
        assigned_order_id=applied.driver.order_id,
        leaving=applied.driver.leaving,
    )


@router.post("", response_model=DriverPublic, status_code=status.HTTP_201_CREATED)
def register_driver(
    body: DriverRegistration, principal: Dispatching, session: SessionDep
) -> Driver:
    """Make a fleet driver known to keepcab (the id is the fleet's own)."""
    if session.get(Driver, body.id) is not None:
        raise Conflict(f"driver {body.id!r} already exists")
    row = Driver(id=body.id, name=body.name)
    session.add(row)
    session.commit()
    return row


@router.get("", response_model=list[DriverPublic])
def list_drivers(
    principal: Reading,
    session: SessionDep,
    status_is: Annotated[DriverStatus | None, Query(alias="status")] = None,
) -> list[Driver]:
    query = select(Driver).order_by(col(Driver.id))
    if status_is is not None:
        query = query.where(Driver.status == status_is.value)
    return list(session.exec(query))


@router.get("/{driver_id}", response_model=DriverPublic)
def get_driver(driver_id: str, principal: Driving, session: SessionDep) -> Driver:
    _for_self(principal, driver_id)
    row = session.get(Driver, driver_id)
    if row is None:
        raise NotFound(f"unknown driver {driver_id!r}")
    return row


class DriverJob(BaseModel):
    """What a driver app needs about the order it is on: where to go, nothing about the customer."""

    order_id: str
    status: str
    pickup_lat: float
    pickup_lon: float
    pickup_address: str | None
    dropoff_lat: float | None
    dropoff_lon: float | None
    pickup_at: datetime | None
    eta_s: float | None


@router.get(
    "/{driver_id}/order",
    response_model=DriverJob,
    responses={204: {"description": "the driver has no order now"}, 404: {"description": "no such driver"}},
)
def current_order(driver_id: str, principal: Driving, session: SessionDep) -> DriverJob | Response:
    """The order the driver is assigned to or carrying now; 204 when there is none.

    A driver app polls this: "nothing to do" is an answer, not an error, and a 404 would
    say the driver does not exist (schemathesis' stateful run flagged the two as one)."""
    driver = get_driver(driver_id, principal, session)
    order = None if driver.order_id is None else session.get(Order, driver.order_id)
    if order is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return DriverJob(
        order_id=order.id,
        status=order.status,
        pickup_lat=order.pickup_lat,
        pickup_lon=order.pickup_lon,
        pickup_address=order.pickup_address,
        dropoff_lat=order.dropoff_lat,
        dropoff_lon=order.dropoff_lon,
        pickup_at=order.pickup_at,
        eta_s=order.eta_s,
    )


@router.post("/{driver_id}/online", response_model=DriverState)
async def go_online(
    driver_id: str, body: Point, principal: Driving, service: ServiceDep, settings: SettingsDep
) -> DriverState:
    """Start of shift; for a driver `leaving` after the job in hand, it cancels the leave."""
    command = c.DriverOnline(driver_id, body.position(settings))
    return await _report(service, principal, driver_id, command)


@router.post(
    "/{driver_id}/offline",
    response_model=DriverState,
    responses={409: {"description": "busy (without `when_free`) or already offline"}},
)
async def go_offline(
    driver_id: str,
    principal: Driving,
    service: ServiceDep,
    when_free: Annotated[
        bool,
        Query(
            description="End the shift after the job in hand: a busy driver finishes it and is "
            "then taken offline instead of being given another order (`leaving` is true until "
            "then; going online again takes it back). A free driver goes offline at once."
        ),
    ] = False,
) -> DriverState:
    """End of shift. Without `when_free` a driver on a job gets 409 and stays on it."""
    return await _report(service, principal, driver_id, c.DriverOffline(driver_id, when_free))


@router.post("/{driver_id}/position", response_model=DriverState)
async def report_position(
    driver_id: str, body: Point, principal: Driving, service: ServiceDep, settings: SettingsDep
) -> DriverState:
    command = c.DriverMoved(driver_id, body.position(settings))
    return await _report(service, principal, driver_id, command)


@router.post("/{driver_id}/arrived", response_model=DriverState)
async def arrived(driver_id: str, principal: Driving, service: ServiceDep) -> DriverState:
    """The customer got in: the order is picked up."""
    return await _report(service, principal, driver_id, c.DriverArrived(driver_id))


@router.post("/{driver_id}/trip-completed", response_model=DriverState)
async def trip_completed(
    driver_id: str, body: TripEnd, principal: Driving, service: ServiceDep
) -> DriverState:
    """The trip ended where the customer wanted: a dropoff outside the service area is fine."""
    command = c.TripCompleted(driver_id, Position(body.lat, body.lon), body.fare)
    return await _report(service, principal, driver_id, command)
