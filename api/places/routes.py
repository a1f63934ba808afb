"""Addresses over HTTP: suggestions as the operator types, a geocoder on request, the map's settings.

`GET /places/suggest` answers from memory (api.places.book), never from a
scan of the store: it runs on every keystroke of every operator. The caller's
own addresses (read by their customer id, an indexed lookup) come first.
`GET /places/geocode` asks the configured geocoder (api.places.geocode) and
answers 502 with the geocoder's trouble in words when it cannot answer.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel
from sqlmodel import col, select

from api.deps import Dispatching, SessionDep, SettingsDep
from api.models import PickupAddress
from api.openapi import ErrorBody
from api.routers.fields import CleanStr, WordyStr

from .book import words_of
from .geocode import Geocoder, GeocoderError

router = APIRouter(tags=["places"])
Text = Annotated[WordyStr, Query(min_length=1, max_length=100)]
Limit = Annotated[int, Query(ge=1, le=20)]


class Place(BaseModel):
    text: str
    lat: float
    lon: float
    uses: int
    own: bool  # one of this caller's own addresses


class FoundPlace(BaseModel):
    text: str
    lat: float
    lon: float
    source: str


class MapSettings(BaseModel):
    tile_url: str | None  # None: no tiles; the console draws the town from the known addresses
    attribution: str


@router.get("/places/suggest", response_model=list[Place])
def suggest_places(
    request: Request,
    principal: Dispatching,
    session: SessionDep,
    q: Text,
    limit: Limit = 8,
    customer_id: Annotated[CleanStr | None, Query(min_length=1, max_length=32)] = None,
) -> list[Place]:
    """Known pickup addresses for what has been typed: the caller's own, then the firm's."""
    found: dict[str, Place] = {}
    if customer_id is not None:
        typed = words_of(q)
        rows = session.exec(
            select(PickupAddress)
            .where(col(PickupAddress.customer_id) == customer_id)
            .order_by(col(PickupAddress.use_count).desc())
            .limit(200)
        )
        for row in rows:
            if all(any(w.startswith(t) for w in words_of(row.text)) for t in typed):
                found.setdefault(
                    row.address_key,
                    Place(text=row.text, lat=row.lat, lon=row.lon, uses=row.use_count, own=True),
                )
    for hit in request.app.state.address_index.book.suggest(q, limit):
        found.setdefault(
            " ".join(hit.text.casefold().split()),
            Place(text=hit.text, lat=hit.lat, lon=hit.lon, uses=hit.uses, own=False),
        )
    return list(found.values())[:limit]


@router.get(
    "/places/geocode",
    response_model=list[FoundPlace],
    responses={
        502: {"model": ErrorBody, "description": "the geocoder timed out, failed or answered nonsense"}
    },
)
async def geocode_place(
    request: Request, principal: Dispatching, q: Text, limit: Limit = 5
) -> list[FoundPlace]:
    """Candidate points for an address, from the configured geocoder (`KEEPCAB_GEOCODER`)."""
    geocoder: Geocoder = request.app.state.geocoder
    try:
        places = await geocoder.geocode(q, limit)
    except GeocoderError as error:
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, str(error)) from error
    return [FoundPlace(text=p.text, lat=p.lat, lon=p.lon, source=p.source) for p in places]


@router.get("/places/points", response_model=list[Place])
def town_points(
    request: Request, principal: Dispatching, limit: Annotated[int, Query(ge=1, le=5000)] = 2000
) -> list[Place]:
    """The firm's most used addresses: without tiles the console draws the town from them."""
    best = request.app.state.address_index.book.most_used(limit)
    return [Place(text=p.text, lat=p.lat, lon=p.lon, uses=p.uses, own=False) for p in best]


@router.get("/places/map", response_model=MapSettings)
def map_settings(principal: Dispatching, settings: SettingsDep) -> MapSettings:
    """What the console's map draws under the cars (`KEEPCAB_MAP_TILE_URL`)."""
    return MapSettings(tile_url=settings.map_tile_url, attribution=settings.map_tile_attribution)
