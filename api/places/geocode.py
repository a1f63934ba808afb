"""Turning a typed address into a point: one interface, the address book or an HTTP geocoder.

`Geocoder.geocode(text, limit)` answers candidate places, best first. The
default is the firm's own address book (`BookGeocoder`): it works offline and
knows every address the firm has driven from. A firm that wants new addresses
found too points `KEEPCAB_GEOCODER_URL` at a Nominatim or Photon server
(`KEEPCAB_GEOCODER` = `nominatim` or `photon`); `build_geocoder` is the one
builder of the adapter from the settings.

Response shapes (what `_nominatim_places` and `_photon_places` read):
- Nominatim `/search?format=jsonv2`: a JSON array of places whose `lat` and
  `lon` are decimal strings and whose `display_name` is the full address
  (nominatim.org/release-docs/latest/api/Output/, "JSON");
- Photon `/api?q=`: a GeoJSON FeatureCollection, each feature a Point with
  `coordinates` [lon, lat] and `properties` name, street, housenumber, city
  (github.com/komoot/photon, README "Search").

The HTTP adapter runs on the event loop with its own timeout; it is asked only
when the operator asks (Enter or the find button, never per keystroke: the
public Nominatim allows one request a second), and it never touches the
writer. A timeout, a refused connection, an error status or a body of another
shape raises `GeocoderError` with a sentence the console shows as it is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import httpx

from .book import AddressBook

GeocoderKind = Literal["book", "nominatim", "photon"]
USER_AGENT = "keepcab (taxi dispatch; https://github.com/keepcab)"


@dataclass(frozen=True, slots=True)
class GeoPlace:
    text: str
    lat: float
    lon: float
    source: str  # "book", "nominatim" or "photon"


class GeocoderError(Exception):
    """The geocoder could not answer; the message says why, in words an operator can act on."""


class Geocoder(Protocol):
    @property
    def name(self) -> str: ...

    async def geocode(self, text: str, limit: int) -> list[GeoPlace]: ...


class BookGeocoder:
    """The firm's known addresses (api.places.book): offline, no network at all."""

    name = "book"

    def __init__(self, book: AddressBook | Any) -> None:
        self._book = book  # an AddressBook, or anything with a current `.book` (AddressIndex)

    async def geocode(self, text: str, limit: int) -> list[GeoPlace]:
        book = getattr(self._book, "book", self._book)
        return [GeoPlace(s.text, s.lat, s.lon, self.name) for s in book.suggest(text, limit)]


class HttpGeocoder:
    """A Nominatim- or Photon-compatible search endpoint at `url`."""

    def __init__(
        self,
        kind: Literal["nominatim", "photon"],
        url: str,
        timeout_s: float,
        language: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.name = kind
        self._url, self._timeout_s, self._language = url, timeout_s, language
        self._transport = transport

    def _params(self, text: str, limit: int) -> dict[str, str | int]:
        if self.name == "nominatim":
            params: dict[str, str | int] = {"q": text, "format": "jsonv2", "limit": limit}
            if self._language:
                params["accept-language"] = self._language
            return params
        params = {"q": text, "limit": limit}
        if self._language:
            params["lang"] = self._language
        return params

    async def geocode(self, text: str, limit: int) -> list[GeoPlace]:
        where = f"the {self.name} geocoder at {self._url}"
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout_s, transport=self._transport, headers={"User-Agent": USER_AGENT}
            ) as client:
                reply = await client.get(self._url, params=self._params(text, limit))
        except httpx.TimeoutException as error:
            raise GeocoderError(f"{where} did not answer within {self._timeout_s:g} s") from error
        except httpx.HTTPError as error:
            raise GeocoderError(f"{where} cannot be reached ({type(error).__name__})") from error
        if reply.status_code != 200:
            raise GeocoderError(f"{where} answered HTTP {reply.status_code}")
        try:
            body = reply.json()
            read = _nominatim_places if self.name == "nominatim" else _photon_places
            return read(body)[:limit]
        except (ValueError, KeyError, TypeError, IndexError) as error:
            raise GeocoderError(f"{where} answered something that is not {self.name} JSON") from error


def _point(lat: Any, lon: Any) -> tuple[float, float]:
    """A finite point on the globe, or ValueError: a geocoder's nonsense never becomes a pickup."""
    la, lo = float(lat), float(lon)
    if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
        raise ValueError(f"not a point: {lat!r}, {lon!r}")
    return la, lo


def _nominatim_places(body: Any) -> list[GeoPlace]:
    if not isinstance(body, list):
        raise TypeError("a Nominatim search answers a JSON array")
    places = []
    for item in body:
        lat, lon = _point(item["lat"], item["lon"])
        places.append(GeoPlace(str(item["display_name"]), lat, lon, "nominatim"))
    return places


def _photon_places(body: Any) -> list[GeoPlace]:
    if not isinstance(body, dict) or not isinstance(body.get("features"), list):
        raise TypeError("a Photon search answers a GeoJSON FeatureCollection")
    places = []
    for feature in body["features"]:
        lon, lat = feature["geometry"]["coordinates"][:2]
        lat, lon = _point(lat, lon)
        places.append(GeoPlace(_photon_text(feature.get("properties") or {}), lat, lon, "photon"))
    return places


def _photon_text(props: dict[str, Any]) -> str:
    """ "Floriańska 5, Kraków" from the parts Photon gives (a name, or a street and house number)."""
    street = " ".join(str(props[k]) for k in ("street", "housenumber") if props.get(k))
    head = [str(props["name"])] if props.get("name") else []
    parts = [*head, street, str(props.get("city") or "")]
    seen: list[str] = []
    for part in parts:
        if part and part not in seen:
            seen.append(part)
    if not seen:
        raise KeyError("a Photon feature with no name, street or city")
    return ", ".join(seen)


def build_geocoder(
    kind: GeocoderKind, url: str | None, timeout_s: float, book: Any, language: str | None = None
) -> Geocoder:
    """The geocoder the settings name (`KEEPCAB_GEOCODER`, `_URL`, `_TIMEOUT_S`): the one builder."""
    if kind == "book":
        return BookGeocoder(book)
    if not url:
        raise ValueError(f"KEEPCAB_GEOCODER={kind} needs KEEPCAB_GEOCODER_URL")
    return HttpGeocoder(kind, url, timeout_s, language)
