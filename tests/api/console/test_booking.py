"""The order beyond its pickup in headless chromium, EN and RU: destination and fare quote."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.api.console.pages import console_page
from tests.api.console.server import CENTRE, Server, serve

pytestmark = pytest.mark.browser
AIRPORT = (CENTRE[0] + 0.05, CENTRE[1] - 0.04)
QUOTE = {"en": "Fare ≈ ", "ru": "Стоимость ≈ "}


@pytest.fixture
async def priced(tmp_path: Path) -> AsyncIterator[Server]:
    """A server whose firm charges 150 + 25/km + 8/min in roubles."""
    url = f"sqlite:///{tmp_path / 'keepcab.db'}"
    async for running in serve(url, fare_base=150.0, fare_per_km=25.0, fare_per_min=8.0, currency="RUB"):
        yield running


async def _known_places(server: Server) -> None:
    """The caller rode from Floriańska 3 before; someone was picked up at the airport."""
    first = await server.order(pickup_address="Floriańska 3", phone="+7 912 345 67 89")
    await server.post(f"/orders/{first}/cancel", {"cause": "customer"})
    other = await server.order(*AIRPORT, pickup_address="Airport Balice", phone="+7 912 000 00 01")
    await server.post(f"/orders/{other}/cancel", {"cause": "customer"})


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_the_form_quotes_the_fare_to_the_destination_and_the_queue_shows_both(
    priced: Server, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """A known destination fills its point, the form quotes the tariff's fare before ordering, and the
    queue row shows where to and the same figure the server stored with the order."""
    server = priced
    await _known_places(server)
    page = await console_page(browser, server, lang)
    ring = {"event": "call.ringing", "call_id": "d1", "from": "8 912 345-67-89"}
    assert (await server.post("/phone/events", ring, key=server.phone_key)).status_code == 200
    await expect(page.locator(".call")).to_contain_text("Floriańska 3")
    await page.locator("body").press("1")
    await page.locator("#f-dest").press_sequentially("Airport", delay=30)
    await expect(page.locator('#f-dest-places option[value="Airport Balice"]')).to_have_count(1)
    await page.locator("#f-dest").fill("Airport Balice")
    await page.locator("#f-dest").dispatch_event("input")
    await expect(page.locator("#f-dest-coords")).to_have_value(f"{AIRPORT[0]}, {AIRPORT[1]}")
    fare = page.locator("#f-fare")
    await expect(fare).to_contain_text(QUOTE[lang])
    await expect(fare).to_contain_text("RUB")
    quoted = (await fare.text_content() or "").split("≈ ")[1].split(" ")[0]
    await page.screenshot(path=tmp_path / f"fare-form-{lang}.png")
    await page.locator("#order-form button[type=submit]").click()
    await expect(page.locator("#f-status")).to_have_attribute("data-order-id", re.compile(r"\w+"))
    order_id = await page.locator("#f-status").get_attribute("data-order-id")
    assert order_id
    row = page.locator(f'tr[data-order="{order_id}"]')
    await expect(row.locator("[data-dest]")).to_contain_text("→ Airport Balice")
    await expect(row.locator("[data-fare]")).to_have_text(f"≈ {quoted} RUB")
    await expect(fare).to_have_text("")  # the form is clear for the next call
    stored = (
        await server.client.get(f"/orders/{order_id}", headers={"X-API-Key": server.operator_key})
    ).json()
    assert f"{stored['fare_estimate']:.2f}" == quoted and stored["dropoff_address"] == "Airport Balice"
    await page.screenshot(path=tmp_path / f"fare-queue-{lang}.png")
