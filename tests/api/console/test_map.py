"""The street map in headless chromium: Leaflet from the package, tiles from the setting, the town
drawn without tiles, cars, waiting pickups and en-route lines, labels that never overlap, a click
that sets the pickup point; in English and Russian."""

from __future__ import annotations

import itertools
import math
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.api.console.pages import logged_in
from tests.api.console.server import CENTRE, Server, serve

pytestmark = pytest.mark.browser
LEAFLET_VERSION = "1.9.4"
# A 1x1 PNG: what the loopback tile server answers for every tile.
PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c63f8cfc0f01f0005000201e2b0"
    "a8e10000000049454e44ae426082"
)


@pytest.fixture
async def offline(tmp_path: Path) -> AsyncIterator[Server]:
    """A server with no tile URL, as `keepcab demo` runs."""
    async for running in serve(f"sqlite:///{tmp_path / 'keepcab.db'}", map_tile_url="none"):
        yield running


@pytest.fixture
def tile_server() -> Iterator[tuple[str, list[str]]]:
    """A real tile server on loopback: every /{z}/{x}/{y}.png is a PNG; the paths asked are kept."""
    asked: list[str] = []

    class Tiles(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(PIXEL)))
            self.end_headers()
            self.wfile.write(PIXEL)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tiles)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", asked
    finally:
        server.shutdown()
        server.server_close()


async def _page(browser: Browser, server: Server, lang: str, width: int = 1440) -> Page:
    return await logged_in(browser, server, lang, width)


def _near(i: int, spread_m: float = 120.0) -> tuple[float, float]:
    """Points on a tight spiral around the centre: cars a few tens of metres apart."""
    angle, radius = i * 2.4, spread_m * math.sqrt(i / 30)
    lat = CENTRE[0] + radius * math.cos(angle) / 111_320
    lon = CENTRE[1] + radius * math.sin(angle) / (111_320 * math.cos(math.radians(CENTRE[0])))
    return lat, lon


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_many_cars_close_together_get_labels_that_do_not_overlap(
    offline: Server, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """Thirty cars within 120 m: every label is shown, no two intersect, none covers a car."""
    for i in range(30):
        await offline.driver_online(f"car-{i:02d}", *_near(i))
    page = await _page(browser, offline, lang)
    labels = page.locator("#map .map-label:not(.hidden)")
    await expect(labels).to_have_count(30)
    await expect(page.locator("#map path.car")).to_have_count(30)
    boxes = [await label.bounding_box() for label in await labels.all()]
    cars = [await car.bounding_box() for car in await page.locator("#map path.car").all()]
    for a, b in itertools.combinations(boxes, 2):
        assert not _intersect(a, b), (a, b)
    for label_box, car in itertools.product(boxes, cars):
        assert not _intersect(label_box, car, shrink=1.5), (label_box, car)
    await page.screenshot(path=tmp_path / f"labels-{lang}.png")


def _intersect(a: dict[str, float] | None, b: dict[str, float] | None, shrink: float = 0.0) -> bool:
    assert a is not None and b is not None
    return (
        a["x"] + shrink < b["x"] + b["width"] - shrink
        and b["x"] + shrink < a["x"] + a["width"] - shrink
        and a["y"] + shrink < b["y"] + b["height"] - shrink
        and b["y"] + shrink < a["y"] + a["height"] - shrink
    )


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_without_tiles_the_town_is_drawn_and_cars_pickups_and_routes_are_on_it(
    offline: Server, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """No tile URL: no tile is asked for; the known addresses and a grid draw the town; a free car,
    a car en route with its line to the pickup, and a waiting pickup are on the map."""
    await offline.driver_online("near", CENTRE[0], CENTRE[1])
    for i in range(12):
        await offline.order(*_near(i, 900), pickup_address=f"Długa {i + 1}", phone=f"+7912000{i:04d}")
    await offline.driver_online("spare", CENTRE[0] + 0.06, CENTRE[1])  # beyond the pickup radius
    requests: list[str] = []
    page = await _page(browser, offline, lang)
    page.on("request", lambda r: requests.append(r.url))
    await expect(page.locator("#map path.route")).to_have_count(1)
    await expect(page.locator("#map .pickup")).to_have_count(11)
    await expect(page.locator("#map path.car.en_route")).to_have_count(1)
    await expect(page.locator("#map path.car.free")).to_have_count(1)
    await expect(page.locator("#map.no-tiles .town-grid canvas").first).to_be_attached()
    await page.reload()
    await expect(page.locator("#conn")).to_have_class("conn online")
    await expect(page.locator("#map.no-tiles")).to_have_count(1)
    assert all(url.startswith(offline.base_url) for url in requests), requests
    await page.screenshot(path=tmp_path / f"town-{lang}.png")


async def test_the_tile_url_setting_is_where_tiles_come_from(
    tmp_path: Path, browser: Browser, tile_server: tuple[str, list[str]]
) -> None:
    """KEEPCAB_MAP_TILE_URL names the tile server: Leaflet asks it for /z/x/y.png tiles around the cars."""
    base, asked = tile_server
    url = f"sqlite:///{tmp_path / 'keepcab.db'}"
    async for server in serve(url, map_tile_url=base + "/{z}/{x}/{y}.png", map_tile_attribution="test tiles"):
        await server.driver_online("a", *CENTRE)
        page = await _page(browser, server, "en")
        await expect(page.locator("#map img.leaflet-tile-loaded").first).to_be_attached()
        await expect(page.locator("#map .leaflet-control-attribution")).to_contain_text("test tiles")
    assert asked and all(p.count("/") == 3 and p.endswith(".png") for p in asked)
    z, x, y = (int(part) for part in asked[-1].removesuffix(".png").strip("/").split("/"))
    n = 2**z  # the tile holding the car, or a neighbour of it, at that zoom
    lat = math.radians(CENTRE[0])
    assert abs(x - int((CENTRE[1] + 180) / 360 * n)) <= 3
    assert abs(y - int((1 - math.asinh(math.tan(lat)) / math.pi) / 2 * n)) <= 3


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_map_click_sets_the_pickup_point(offline: Server, browser: Browser, lang: str) -> None:
    """A click on the map puts its point in the form, near where the click was."""
    await offline.driver_online("a", *CENTRE)
    await offline.driver_online("b", CENTRE[0] + 0.01, CENTRE[1] + 0.01)
    page = await _page(browser, offline, lang)
    await expect(page.locator("#map path.car")).to_have_count(2)
    car = await page.locator("#map path.car.free").first.bounding_box()
    assert car is not None
    await page.mouse.click(car["x"] + car["width"] / 2 + 40, car["y"] + car["height"] / 2)
    await expect(page.locator("#f-coords")).not_to_have_value("")
    lat, lon = (float(v) for v in (await page.locator("#f-coords").input_value()).split(","))
    assert abs(lat - CENTRE[0]) < 0.02 and abs(lon - CENTRE[1]) < 0.03
    await expect(page.locator("#map path.chosen")).to_have_count(1)


def test_leaflet_is_vendored_from_npm_with_its_licence() -> None:
    """The package ships Leaflet's dist files, its licence and where they came from."""
    from importlib.resources import files

    vendor = files("api.console").joinpath("static/vendor/leaflet")
    assert f"Leaflet {LEAFLET_VERSION}" in vendor.joinpath("leaflet.js").read_text(encoding="utf-8")[:200]
    assert "BSD 2-Clause" in vendor.joinpath("LICENSE").read_text(encoding="utf-8")
    assert f"leaflet` {LEAFLET_VERSION}" in vendor.joinpath("VENDORED.md").read_text(encoding="utf-8")
