"""Address suggestions and geocoding through a real server: every caller's pickups, ranked, kept current."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from api.models import Role
from tests.api.console.server import CENTRE, Server, serve
from tests.api.places.recorded import recorded_geocoder


async def suggest(server: Server, **params: Any) -> httpx.Response:
    return await server.client.get(
        "/places/suggest", params=params, headers={"X-API-Key": server.operator_key}
    )


async def eventually(server: Server, q: str, want: list[str], **params: Any) -> list[dict[str, Any]]:
    """The suggestions once the book has read the store's change (a background round)."""
    for _ in range(200):
        found = (await suggest(server, q=q, **params)).json()
        if [p["text"] for p in found] == want:
            return list(found)
        await asyncio.sleep(0.05)
    raise AssertionError(f"{q!r} still suggests {found}, not {want}")


async def test_every_callers_pickups_are_suggested_ranked_and_own_first(stored_server: Server) -> None:
    """Two callers' pickups are one book: prefix first, then by uses; the caller's own come first."""
    server = stored_server
    first = await server.order(pickup_address="Długa 7", phone="+79123456789")
    for number in ("+79120000001", "+79120000002"):
        await server.order(50.01, 19.92, pickup_address="Długa 70", phone=number)
    await server.order(pickup_address="ul. Długa Boczna 1", phone="+79120000003")
    customer_id = (
        await server.client.get(f"/orders/{first}", headers={"X-API-Key": server.operator_key})
    ).json()["customer_id"]
    found = await eventually(server, "dŁuga", ["Długa 70", "Długa 7", "ul. Długa Boczna 1"])
    assert [(p["uses"], p["own"]) for p in found] == [(2, False), (1, False), (1, False)]
    assert found[0]["lat"] == 50.01
    mine = (await suggest(server, q="długa", customer_id=customer_id)).json()
    assert [(p["text"], p["own"]) for p in mine][:2] == [("Długa 7", True), ("Długa 70", False)]
    words = (await suggest(server, q="boczna 1")).json()
    assert [p["text"] for p in words] == ["ul. Długa Boczna 1"]
    assert (await suggest(server, q="Floriańska")).json() == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"q": ",.;"}, "q"),
        ({"q": "a\x00b"}, "q"),
        ({"q": "dl", "limit": "0"}, "limit"),
        ({"q": "dl", "limit": "21"}, "limit"),
        ({"q": "dl", "limit": "many"}, "limit"),
        ({"q": "dl", "customer_id": "x" * 33}, "customer_id"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    server: Server, params: dict[str, str], field: str
) -> None:
    """No text, too long, no word, a control character, a limit out of range: 422 naming it."""
    reply = await suggest(server, **params)
    assert reply.status_code == 422, reply.text
    assert field in reply.text


async def test_only_dispatching_roles_may_ask(server: Server) -> None:
    """A phone-system key may not read the firm's address book."""
    for path in ("/places/suggest", "/places/geocode"):
        reply = await server.client.get(path, params={"q": "dl"}, headers={"X-API-Key": server.phone_key})
        assert reply.status_code == 403, reply.text


async def test_an_erased_callers_addresses_leave_the_book(server: Server) -> None:
    """DELETE personal-data: an address only that caller used is no longer suggested."""
    order_id = await server.order(pickup_address="Sekretna 9", phone="+79123450000")
    await eventually(server, "sekretna", ["Sekretna 9"])
    headers = {"X-API-Key": server.operator_key}
    customer_id = (await server.client.get(f"/orders/{order_id}", headers=headers)).json()["customer_id"]
    await server.erase(customer_id)
    await eventually(server, "sekretna", [])


async def test_the_default_geocoder_is_the_book(server: Server) -> None:
    """Without settings, geocoding answers the firm's known addresses, offline."""
    await server.order(pickup_address="Dworcowa 3", phone="+79123451111")
    await eventually(server, "dworcowa", ["Dworcowa 3"])
    reply = await server.client.get(
        "/places/geocode", params={"q": "dworcowa 3"}, headers={"X-API-Key": server.operator_key}
    )
    assert reply.json() == [{"text": "Dworcowa 3", "lat": CENTRE[0], "lon": CENTRE[1], "source": "book"}]


async def http_server(tmp_path: Any, url: str, **settings: Any) -> AsyncIterator[Server]:
    async for running in serve(
        f"sqlite:///{tmp_path / 'keepcab.db'}", geocoder="nominatim", geocoder_url=url, **settings
    ):
        yield running


async def test_a_nominatim_geocoder_answers_through_the_server(tmp_path: Any) -> None:
    """KEEPCAB_GEOCODER=nominatim with a URL: the recorded answer's points reach the operator."""
    with recorded_geocoder() as (base, requests):
        async for server in http_server(tmp_path, f"{base}/nominatim/search"):
            reply = await server.client.get(
                "/places/geocode",
                params={"q": "Floriańska 5", "limit": 1},
                headers={"X-API-Key": server.operator_key},
            )
    assert reply.status_code == 200, reply.text
    assert [(p["lat"], p["lon"], p["source"]) for p in reply.json()] == [
        (50.0637813, 19.9395742, "nominatim")
    ]
    assert requests[0][1]["q"] == ["Floriańska 5"]


async def test_a_hanging_geocoder_is_a_502_and_never_holds_the_writer(tmp_path: Any) -> None:
    """While the geocoder hangs, an order is taken; then the operator reads why there is no point."""
    with recorded_geocoder() as (base, _):
        async for server in http_server(tmp_path, f"{base}/slow", geocoder_timeout_s=1.0):
            headers = {"X-API-Key": server.operator_key}
            asking = asyncio.create_task(
                server.client.get("/places/geocode", params={"q": "x"}, headers=headers)
            )
            await asyncio.sleep(0.1)
            order_id = await server.order(pickup_address="Długa 1")
            assert not asking.done(), "the order must be taken while the geocoder still hangs"
            reply = await asking
    assert order_id
    assert reply.status_code == 502
    assert "did not answer within 1 s" in reply.json()["detail"]


def test_every_places_route_declares_its_roles() -> None:
    """Suggestions, geocoding, the town's points and the map settings are for dispatching roles."""
    from fastapi.routing import APIRoute

    from api.deps import RoleGate
    from api.places.routes import router

    declared = {}
    for route in router.routes:
        assert isinstance(route, APIRoute)
        [gate] = [dep.call for dep in route.dependant.dependencies if isinstance(dep.call, RoleGate)]
        declared[(*route.methods, route.path)] = gate.roles
    dispatching = frozenset({Role.OPERATOR, Role.ADMIN})
    assert declared == {
        ("GET", path): dispatching
        for path in ("/places/suggest", "/places/geocode", "/places/points", "/places/map")
    }
