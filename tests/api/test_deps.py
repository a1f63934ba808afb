"""Roles and keys: every route declares its roles, and the whole matrix is walked."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.routing import APIRoute

from api.app import ROUTERS
from api.auth import create_api_key, revoke_api_key
from api.deps import KEY_CACHE_TTL_S, KeyCache, Principal, RoleGate
from api.models import Role
from tests.api import app_fixtures
from tests.api.app_fixtures import Live

live = app_fixtures.live  # the fixture, shared with tests/api/routers and tests/api/live

OP, AN, PH, DR, AD = Role.OPERATOR, Role.ANALYST, Role.PHONE, Role.DRIVER, Role.ADMIN
PUBLIC = "public"
EXPECTED: dict[tuple[str, str], frozenset[Role] | str] = {
    ("POST", "/orders"): frozenset({OP, PH, AD}),
    ("GET", "/orders"): frozenset({OP, AN, AD}),
    ("GET", "/orders/{order_id}"): frozenset({OP, AN, AD}),
    ("GET", "/orders/{order_id}/events"): frozenset({OP, AN, AD}),
    ("POST", "/orders/{order_id}/cancel"): frozenset({OP, PH, AD}),
    ("POST", "/orders/{order_id}/assign"): frozenset({OP, AD}),
    ("POST", "/orders/{order_id}/priority"): frozenset({OP, AD}),
    ("GET", "/queue"): frozenset({OP, AN, AD}),
    ("POST", "/drivers"): frozenset({OP, AD}),
    ("GET", "/drivers"): frozenset({OP, AN, AD}),
    ("GET", "/drivers/{driver_id}"): frozenset({DR, OP, AD}),
    ("GET", "/drivers/{driver_id}/order"): frozenset({DR, OP, AD}),
    ("POST", "/drivers/{driver_id}/online"): frozenset({DR, OP, AD}),
    ("POST", "/drivers/{driver_id}/offline"): frozenset({DR, OP, AD}),
    ("POST", "/drivers/{driver_id}/position"): frozenset({DR, OP, AD}),
    ("POST", "/drivers/{driver_id}/arrived"): frozenset({DR, OP, AD}),
    ("POST", "/drivers/{driver_id}/trip-completed"): frozenset({DR, OP, AD}),
    ("GET", "/customers/lookup"): frozenset({OP, PH, AD}),
    ("GET", "/customers/{customer_id}"): frozenset({OP, AN, AD}),
    ("DELETE", "/customers/{customer_id}/personal-data"): frozenset({AD}),
    ("POST", "/orders/{order_id}/requeue"): frozenset({OP, AD}),
    ("PATCH", "/orders/{order_id}"): frozenset({OP, AD}),
    ("GET", "/fares/estimate"): frozenset({OP, PH, AD}),
    ("PUT", "/customers/{customer_id}/notes"): frozenset({OP, AD}),
    ("PUT", "/customers/{customer_id}/flag"): frozenset({OP, AD}),
    ("GET", "/customers/{customer_id}/flag-events"): frozenset({OP, AN, AD}),
    ("POST", "/phone/events"): frozenset({PH, AD}),
    ("POST", "/phone/twilio"): frozenset({PH, AD}),
    ("GET", "/phone/zadarma"): frozenset({PH, AD}),
    ("POST", "/phone/zadarma"): frozenset({PH, AD}),
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): PUBLIC,
}


def declared() -> dict[tuple[str, str], RoleGate]:
    gates: dict[tuple[str, str], RoleGate] = {}
    for router in ROUTERS:
        for route in router.routes:
            assert isinstance(route, APIRoute)
            found = [
                dep.call for dep in route.dependant.dependencies if isinstance(dep.call, RoleGate)
            ]
            assert len(found) == 1, f"{route.path} declares {len(found)} role gates"
            for method in route.methods:
                gates[(method, route.path)] = found[0]
    return gates


def test_every_route_declares_exactly_the_expected_roles() -> None:
    """A new route, or a changed role set, must be added to this table deliberately."""
    actual = {key: PUBLIC if gate.public else gate.roles for key, gate in declared().items()}
    assert actual == EXPECTED


def concrete(path: str) -> str:
    """Fill path parameters; driver routes name the driver key's own driver."""
    return re.sub(r"\{(\w+)\}", lambda m: "d1" if m.group(1) == "driver_id" else "missing", path)


async def test_the_whole_role_matrix(live: Live) -> None:
    """No key: 401; a role outside the set: 403; a role inside: never 401 or 403."""
    for (method, path), roles in EXPECTED.items():
        url = concrete(path)
        anonymous = await live.client.request(method, url, json={})
        if roles == PUBLIC:
            assert anonymous.status_code == 200, (method, path)
            continue
        assert anonymous.status_code == 401, (method, path, anonymous.text)
        for role in Role:
            response = await live.client.request(method, url, json={}, headers=live.auth(role))
            if role in roles:
                assert response.status_code not in (401, 403), (method, path, role, response.text)
            else:
                assert response.status_code == 403, (method, path, role, response.text)


async def test_a_driver_key_acts_only_for_its_own_driver(live: Live) -> None:
    """d1's key may report for d1, not for d2."""
    await live.post("/drivers", json={"id": "d2"})
    own = await live.post("/drivers/d1/online", role=DR, json={"lat": 55.7, "lon": 37.6})
    other = await live.post("/drivers/d2/online", role=DR, json={"lat": 55.7, "lon": 37.6})
    assert own.status_code == 200 and other.status_code == 403


@pytest.mark.parametrize("presented", ["", "kc_", "kc_abc_def", "garbage", "kc_" + "x" * 500])
async def test_malformed_keys_are_401(live: Live, presented: str) -> None:
    """Whatever arrives in the header, a bad key is a 401, never a 500."""
    response = await live.client.get("/queue", headers={"X-API-Key": presented})
    assert response.status_code == 401


async def test_a_key_passed_as_query_is_accepted_only_on_webhooks(live: Live) -> None:
    """Providers that cannot set headers use ?key= on their webhook, nowhere else."""
    key = live.keys[PH]
    echo = await live.client.get("/phone/zadarma", params={"key": key, "zd_echo": "abc"})
    queue = await live.client.get("/customers/lookup", params={"key": key, "phone": "+79123456789"})
    assert echo.status_code == 200 and echo.text == "abc"
    assert queue.status_code == 401


async def test_expired_and_revoked_keys_stop_working(live: Live) -> None:
    """An expired key is refused at once; a revoked one once the short cache entry lapses."""
    with live.session() as session:
        expired = create_api_key(session, OP, expires_at=datetime.now(UTC) - timedelta(seconds=1))
        revoked = create_api_key(session, OP)
        session.commit()
    assert (
        await live.client.get("/queue", headers={"X-API-Key": expired.plaintext})
    ).status_code == 401
    with live.session() as session:
        assert revoke_api_key(session, revoked.row.key_id, datetime.now(UTC))
        session.commit()
    live.app.state.key_cache = KeyCache()  # what KEY_CACHE_TTL_S seconds of waiting would do
    assert (
        await live.client.get("/queue", headers={"X-API-Key": revoked.plaintext})
    ).status_code == 401


def test_the_key_cache_forgets_after_its_ttl() -> None:
    """An entry is served within the TTL and not after."""
    cache = KeyCache()
    principal = Principal(OP, "id")
    cache.put("k", principal, now_s=100.0)
    assert cache.get("k", 100.0 + KEY_CACHE_TTL_S - 0.1) is principal
    assert cache.get("k", 100.0 + KEY_CACHE_TTL_S + 0.1) is None


def test_actor_names_the_role_and_the_key_holder() -> None:
    """The audit log reads `operator:anna`, or the key id when the key has no name."""
    assert Principal(OP, "k1", "anna").actor == "operator:anna"
    assert Principal(PH, "k2").actor == "phone:k2"
    assert Principal(None).actor == "anonymous"
