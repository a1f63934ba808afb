"""Address suggestions on the order form, in headless chromium, in English and Russian."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.api.console.pages import logged_in
from tests.api.console.server import Server, serve
from tests.api.places.recorded import recorded_geocoder

pytestmark = pytest.mark.browser


async def _page(browser: Browser, server: Server, lang: str, width: int = 1440) -> Page:
    return await logged_in(browser, server, lang, width)


async def _book(server: Server) -> None:
    """Other callers' pickups: Długa 70 twice, Długa 7 once, and a street that only shares a word."""
    await server.order(50.0641, 19.9402, pickup_address="Długa 7", phone="+79120000001")
    for number in ("+79120000002", "+79120000003"):
        await server.order(50.0655, 19.9411, pickup_address="Długa 70", phone=number)
    await server.order(50.05, 19.93, pickup_address="ul. Rynek Dębnicki 2", phone="+79120000004")


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_typing_suggests_every_callers_addresses_and_the_choice_sets_the_point(
    server: Server, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """A new caller types "dług": the firm's known addresses appear, the most used first; ↓ and Enter
    take the second, which fills the address and its point; Enter again orders the car."""
    await _book(server)
    page = await _page(browser, server, lang)
    await page.locator("#f-address").press_sequentially("dług", delay=30)
    options = page.locator("#f-suggest li[data-i]")
    await expect(options).to_have_count(2)
    await expect(options.nth(0)).to_have_attribute("data-text", "Długa 70")
    await expect(options.nth(0)).to_contain_text("2×")
    await page.screenshot(path=tmp_path / f"suggest-{lang}.png")
    await page.press("#f-address", "ArrowDown")
    await page.press("#f-address", "Enter")
    await expect(page.locator("#f-address")).to_have_value("Długa 7")
    await expect(page.locator("#f-coords")).to_have_value("50.0641, 19.9402")
    await expect(page.locator("#f-suggest")).to_be_hidden()
    await page.press("#f-address", "Enter")
    await expect(page.locator("#f-status")).to_have_attribute("data-order-id", __import__("re").compile(".+"))


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_word_inside_the_address_finds_it_and_nothing_known_says_so(
    server: Server, browser: Browser, lang: str
) -> None:
    """ "dębnicki" finds "ul. Rynek Dębnicki 2" (a word, not the start); an unknown street says
    to click the map or press Find, in the page's language."""
    await _book(server)
    page = await _page(browser, server, lang)
    await page.locator("#f-address").press_sequentially("dębnicki", delay=20)
    await expect(page.locator("#f-suggest li[data-i]")).to_have_text(["ul. Rynek Dębnicki 2" + ("1×")])
    await page.locator("#f-address").fill("")
    await page.locator("#f-address").press_sequentially("Zielona", delay=20)
    note = {"en": "click the map or press Find", "ru": "щёлкните по карте"}[lang]
    await expect(page.locator("#f-suggest li.note")).to_contain_text(note)


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_find_asks_the_geocoder_and_its_trouble_is_shown(
    tmp_path: Path, browser: Browser, lang: str
) -> None:
    """With a Nominatim URL set, Find lists the geocoder's answers and a click takes one; a
    geocoder that fails shows its error in the list, where the operator is looking."""
    with recorded_geocoder() as (base, _):
        for path, ok in (("/nominatim/search", True), ("/broken", False)):
            url = f"sqlite:///{tmp_path / (path.strip('/').replace('/', '-') + '.db')}"
            async for server in serve(
                url, geocoder="nominatim", geocoder_url=base + path, map_tile_url="none"
            ):
                page = await _page(browser, server, lang)
                await page.locator("#f-address").fill("Floriańska 5")
                await page.locator("#f-find").click()
                if ok:
                    found = page.locator("#f-suggest li[data-i]")
                    await expect(found).to_have_count(2)
                    await expect(found.first).to_contain_text("Nominatim")
                    await found.first.dispatch_event("mousedown")
                    await expect(page.locator("#f-coords")).to_have_value("50.063781, 19.939574")
                else:
                    await expect(page.locator("#f-suggest li.note")).to_contain_text("answered HTTP 500")
