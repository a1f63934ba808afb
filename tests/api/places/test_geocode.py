"""The geocoder adapters: the address book offline, Nominatim and Photon over real HTTP on loopback."""

from __future__ import annotations

import pytest

from api.places.book import AddressBook
from api.places.geocode import BookGeocoder, GeocoderError, HttpGeocoder, build_geocoder
from api.settings import Settings
from tests.api.places.recorded import recorded_geocoder


async def test_nominatim_answers_become_points_with_the_full_address() -> None:
    """Nominatim's string lat/lon become numbers; the adapter asks jsonv2 with a limit and a name."""
    with recorded_geocoder() as (base, requests):
        geocoder = HttpGeocoder("nominatim", f"{base}/nominatim/search", 2.0, language="pl")
        places = await geocoder.geocode("Floriańska 5, Kraków", 5)
    assert [(p.lat, p.lon, p.source) for p in places] == [
        (50.0637813, 19.9395742, "nominatim"),
        (50.0631178, 19.9393024, "nominatim"),
    ]
    assert places[0].text.startswith("5, Floriańska, Stare Miasto, Kraków")
    [(path, query, agent)] = requests
    assert path == "/nominatim/search"
    assert query == {
        "q": ["Floriańska 5, Kraków"],
        "format": ["jsonv2"],
        "limit": ["5"],
        "accept-language": ["pl"],
    }
    assert agent is not None and agent.startswith("keepcab")


async def test_photon_features_become_points_named_from_their_parts() -> None:
    """Photon's [lon, lat] is read in that order; a house is named street, number, city."""
    with recorded_geocoder() as (base, requests):
        places = await HttpGeocoder("photon", f"{base}/photon/api", 2.0).geocode("Ленина 24", 1)
    assert [(p.text, p.lat, p.lon) for p in places] == [
        ("улица Ленина 24, Екатеринбург", 56.8389261, 60.6081434)
    ]
    assert requests[0][1] == {"q": ["Ленина 24"], "limit": ["1"]}


@pytest.mark.parametrize(
    ("path", "timeout_s", "words"),
    [
        ("/slow", 0.3, "did not answer within 0.3 s"),
        ("/broken", 2.0, "answered HTTP 500"),
        ("/html", 2.0, "answered something that is not nominatim JSON"),
        ("/odd", 2.0, "answered something that is not nominatim JSON"),
        ("/nonsense", 2.0, "answered something that is not nominatim JSON"),
        ("/missing", 2.0, "answered HTTP 404"),
    ],
)
async def test_a_geocoder_in_trouble_gives_a_clear_error(path: str, timeout_s: float, words: str) -> None:
    """Timeouts, error statuses, web pages, other JSON and points off the globe: a sentence, not a crash."""
    with recorded_geocoder() as (base, _), pytest.raises(GeocoderError, match=words) as raised:
        await HttpGeocoder("nominatim", f"{base}{path}", timeout_s).geocode("x", 5)
    assert base in str(raised.value)


async def test_a_geocoder_nobody_listens_on_says_it_cannot_be_reached() -> None:
    """A closed port is named as unreachable."""
    with recorded_geocoder() as (base, _):
        pass  # the server is gone: its port is closed now
    with pytest.raises(GeocoderError, match="cannot be reached"):
        await HttpGeocoder("photon", f"{base}/photon/api", 1.0).geocode("x", 5)


async def test_the_book_geocoder_answers_known_addresses_offline() -> None:
    """The default adapter is the address book: no network, the firm's own points."""
    book = AddressBook()
    book.add("Floriańska 5", 50.0638, 19.9396, uses=4)
    assert [(p.text, p.source) for p in await BookGeocoder(book).geocode("florianska", 5)] == []
    assert [(p.text, p.source) for p in await BookGeocoder(book).geocode("floriańska 5", 5)] == [
        ("Floriańska 5", "book")
    ]


def test_the_settings_build_the_adapter_and_refuse_an_http_geocoder_without_a_url() -> None:
    """KEEPCAB_GEOCODER picks the adapter; nominatim or photon without a URL is a settings error."""
    assert build_geocoder("book", None, 1.0, AddressBook()).name == "book"
    built = build_geocoder("photon", "http://127.0.0.1:1/api", 1.0, AddressBook())
    assert isinstance(built, HttpGeocoder) and built.name == "photon"
    with pytest.raises(ValueError, match="KEEPCAB_GEOCODER_URL"):
        Settings(geocoder="nominatim")
    assert Settings(map_tile_url="none").map_tile_url is None
