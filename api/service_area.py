"""The firm's service area: pickups and driver positions far outside it are refused at the edge.

A position is refused (422 naming the field) rather than kept out of
matching, because nothing good can come of storing it: an order there can
never be served by this firm's cars, and a driver there is either a GPS fault
or has left the city. Refusing at the edge also means no such position ever
reaches the single writer, so no search can be asked to span the globe. A
driver who leaves the area should go offline first; a refused position report
leaves the last accepted one in place. The area is a radius around a centre
(`KEEPCAB_SERVICE_CENTRE_LAT/LON`, `KEEPCAB_SERVICE_RADIUS_KM`): a circle
needs no care at the antimeridian, unlike a bounding box. Dropoffs, and the
end of a trip (`trip-completed`), are not checked: a trip to the airport of
the next city is a trip; the driver's next position report from there is
refused until they are back.
"""

from __future__ import annotations

from api.live.commands import RequestProblem
from api.settings import Settings
from dispatch.geo import haversine_m
from dispatch.model import Position


def check_in_area(settings: Settings, point: Position, lat_field: tuple[str, ...]) -> None:
    """Raise a 422 naming `lat_field` when `point` is outside the configured area."""
    if settings.service_centre_lat is None or settings.service_centre_lon is None:
        return
    centre = Position(settings.service_centre_lat, settings.service_centre_lon)
    distance_km = haversine_m(centre, point) / 1000.0
    if distance_km > settings.service_radius_km:
        raise RequestProblem(
            lat_field,
            f"the position is {distance_km:.0f} km from the service centre; the service area is "
            f"{settings.service_radius_km:g} km around it (KEEPCAB_SERVICE_RADIUS_KM)",
        )
