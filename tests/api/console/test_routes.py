"""The console's HTTP side: the page, operator login, known-address suggestions."""

from __future__ import annotations

import asyncio
import json
import re
from importlib.resources import files
from pathlib import Path

from fastapi.routing import APIRoute

from api.console.routes import router
from api.deps import RoleGate
from tests.api.console.server import OPERATOR, PASSWORD, Server, serve


async def test_the_page_and_its_assets_are_served_without_any_outside_address(server: Server) -> None:
    """`/` is the console; its CSS and JS come from the package, nothing from a CDN."""
    page = await server.client.get("/")
    assert page.status_code == 200 and "ws/console" not in page.text  # the script connects, not the HTML
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(a.startswith("/console/static/") or a.startswith("data:") for a in assets)
    for asset in assets:
        if asset.startswith("/"):
            assert (await server.client.get(asset)).status_code == 200
    for name in (
        "index.html",
        "console.css",
        "care.css",
        "booking.css",
        "map.css",
        *(p.name for p in _scripts()),
    ):
        text = files("api.console").joinpath(f"static/{name}").read_text(encoding="utf-8")
        # an XML namespace (map.js's SVG overlay) is a name, not an address anything fetches
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg\b)", text), name


async def test_login_trades_a_password_for_a_key_and_refuses_a_wrong_one(server: Server) -> None:
    """The right password gives an operator key that works on the API; a wrong one is a 401."""
    good = await server.client.post("/console/login", json={"username": OPERATOR, "password": PASSWORD})
    assert good.status_code == 200 and good.json()["role"] == "operator"
    queue = await server.client.get("/queue", headers={"X-API-Key": good.json()["key"]})
    assert queue.status_code == 200
    bad = await server.client.post("/console/login", json={"username": OPERATOR, "password": "nope"})
    assert bad.status_code == 401
    unknown = await server.client.post("/console/login", json={"username": "nobody", "password": "x"})
    assert unknown.status_code == 401


async def _login(server: Server, password: str) -> tuple[int, str | None]:
    reply = await server.client.post("/console/login", json={"username": OPERATOR, "password": password})
    return reply.status_code, reply.headers.get("Retry-After")


async def test_repeated_wrong_passwords_lock_the_username_even_for_the_right_one(tmp_path: Path) -> None:
    """Three wrong passwords, then a 429 with Retry-After for the right one too; once the lockout
    has passed the right password works again and clears the count."""
    url = f"sqlite:///{tmp_path / 'keepcab.db'}"
    async for server in serve(url, login_free_failures=3, login_lockout_s=1.0):
        assert [await _login(server, "wrong") for _ in range(3)] == [(401, None)] * 3
        locked = await server.client.post("/console/login", json={"username": OPERATOR, "password": PASSWORD})
        assert locked.status_code == 429 and locked.headers["Retry-After"] == "1"
        assert "try again in 1 s" in locked.json()["detail"]
        await asyncio.sleep(float(locked.headers["Retry-After"]))
        assert (await _login(server, PASSWORD))[0] == 200
        assert [await _login(server, "wrong") for _ in range(3)] == [(401, None)] * 3  # count was reset


async def test_one_address_guessing_many_usernames_is_locked(tmp_path: Path) -> None:
    """Guesses spread over made-up usernames still lock the address they come from."""
    url = f"sqlite:///{tmp_path / 'keepcab.db'}"
    async for server in serve(url, login_free_failures_per_address=4, login_lockout_s=60.0):
        for i in range(4):
            body = {"username": f"guess{i}", "password": "x"}
            assert (await server.client.post("/console/login", json=body)).status_code == 401
        locked = await server.client.post("/console/login", json={"username": OPERATOR, "password": PASSWORD})
        assert locked.status_code == 429 and int(locked.headers["Retry-After"]) == 60


def test_every_console_route_declares_its_roles() -> None:
    """The page and the login are public (address suggestions moved to api.places)."""
    declared: dict[tuple[str, ...], object] = {}
    for route in router.routes:
        assert isinstance(route, APIRoute)
        [gate] = [dep.call for dep in route.dependant.dependencies if isinstance(dep.call, RoleGate)]
        declared[(*route.methods, route.path)] = "public" if gate.public else gate.roles
    assert declared == {
        ("GET", "/"): "public",
        ("POST", "/console/login"): "public",
    }


def _static(name: str) -> str:
    return files("api.console").joinpath(f"static/{name}").read_text(encoding="utf-8")


def _scripts() -> list[Path]:
    """Every script of the page: console.js and the modules that hook into it."""
    return sorted(Path(str(files("api.console").joinpath("static"))).glob("*.js"))


def _dictionary() -> dict[str, dict[str, str]]:
    """The one dictionary: i18n.js and the map's words merged into it (i18n-map.js), each a JSON
    object literal after its assignment."""
    merged: dict[str, dict[str, str]] = {}
    for name in ("i18n.js", "i18n-map.js"):
        source = _static(name)
        part = json.loads(source[source.index("{") : source.index("\n};") + 2])
        for lang, words in part.items():
            merged.setdefault(lang, {}).update(words)
    return merged


def test_every_word_on_the_page_is_in_both_languages() -> None:
    """English and Russian have the same keys, and every key the page uses exists."""
    words = _dictionary()
    assert set(words["en"]) == set(words["ru"])
    page = _static("index.html")
    script = "".join(p.read_text(encoding="utf-8") for p in _scripts())
    used = set(re.findall(r'data-i18n(?:-placeholder)?="([^"]+)"', page))
    used |= set(re.findall(r'\bt\("([a-z_.]+[a-z_])"', script))  # console.js: t("..."), modules: K.t("...")
    assert used and used <= set(words["en"])
    for prefix in ("tier.", "cause.", "drivers.", "ev."):  # keys built at run time
        assert any(key.startswith(prefix) for key in words["en"])


def test_no_word_ranks_a_customer_as_worth_less() -> None:
    """Tier words are the neutral five; nothing says low value, unimportant or the like."""
    words = _dictionary()
    tiers = {key: text for key, text in words["en"].items() if key.startswith("tier.")}
    assert set(tiers.values()) == {"new", "occasional", "regular", "at risk", "VIP"}
    everything = " ".join(text.casefold() for language in words.values() for text in language.values())
    for ranking in (
        "low value",
        "low-value",
        "unimportant",
        "worthless",
        "low priority",
        "неважн",
        "малоцен",
    ):
        assert ranking not in everything
