"""The order beyond its pickup in headless chromium, EN and RU: destination, fare quote, pre-bookings."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, expect

from tests.api.console.pages import logged_in
from tests.api.console.server import CENTRE, Server, next_message, serve

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


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_the_form_quotes_the_fare_to_the_destination_and_the_queue_shows_both(
    priced: Server, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """A known destination fills its point, the form quotes the tariff's fare before ordering, and the
    queue row shows where to and the same figure the server stored with the order."""
    server = priced
    await _known_places(server)
    page = await logged_in(browser, server, lang)
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


LOCAL_INPUT = """(aheadMin) => {
  const d = new Date(Date.now() + aheadMin * 60000), p = (n) => String(n).padStart(2, "0");
  const day = `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
  return `${day}T${p(d.getHours())}:${p(d.getMinutes())}`;
}"""
PRE = {"en": "Pre-booked", "ru": "Предварительные заказы"}


async def _stored(server: Server, order_id: str) -> dict[str, Any]:
    response = await server.client.get(f"/orders/{order_id}", headers={"X-API-Key": server.operator_key})
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_prebooked_orders_have_their_own_list_and_are_edited_and_cancelled_there(
    server: Server, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """A pickup time on the form makes a pre-booking: it shows in its own list (not the queue) with
    its release time; Edit moves its time and address (PATCH /orders/{id}); a time within the lead
    sends it to the queue; Cancel ends another one."""
    page = await logged_in(browser, server, lang)
    await expect(page.locator("#prebooked-box h2")).to_contain_text(PRE[lang])
    for address, ahead_min in (("Długa 7", 120), ("Karmelicka 3", 180)):
        await page.fill("#f-address", address)
        await page.fill("#f-coords", f"{CENTRE[0]}, {CENTRE[1]}")
        await page.fill("#f-when", await page.evaluate(LOCAL_INPUT, ahead_min))
        await page.locator("#order-form button[type=submit]").click()
        made = page.locator("#prebooked tbody tr[data-booking]", has_text=address)
        await expect(made).to_have_count(1)
        made_id = str(await made.get_attribute("data-booking"))
        await expect(page.locator("#f-status")).to_have_attribute("data-order-id", made_id)  # form cleared
    rows = page.locator("#prebooked tbody tr[data-booking]")
    await expect(rows).to_have_count(2)
    await page.reload()  # the list comes back from the snapshot
    await expect(page.locator("#conn")).to_have_class("conn online")
    await expect(rows).to_have_count(2)
    await expect(page.locator("#queue tbody tr[data-order]")).to_have_count(0)
    first = rows.filter(has_text="Długa 7")
    booking = str(await first.get_attribute("data-booking"))
    stored = await _stored(server, booking)
    assert stored["status"] == "scheduled"
    await page.screenshot(path=tmp_path / f"prebooked-{lang}.png")
    await first.locator('button[data-pre="edit"]').click()
    await page.fill('#prebooked tr.panel input[name="when"]', await page.evaluate(LOCAL_INPUT, 240))
    await page.fill('#prebooked tr.panel input[name="address"]', "Długa 9")
    await page.locator("#prebooked tr.panel button[type=submit]").click()
    await expect(page.locator(f'tr[data-booking="{booking}"]')).to_contain_text("Długa 9")
    moved = await _stored(server, booking)
    assert moved["pickup_address"] == "Długa 9" and moved["pickup_at"] > stored["pickup_at"]
    assert (await rows.first.get_attribute("data-booking")) != booking  # Karmelicka is released sooner now
    await page.locator(f'tr[data-booking="{booking}"] button[data-pre="edit"]').click()
    await page.fill('#prebooked tr.panel input[name="when"]', await page.evaluate(LOCAL_INPUT, 5))
    await page.locator("#prebooked tr.panel button[type=submit]").click()
    await expect(page.locator(f'tr[data-order="{booking}"]')).to_have_count(1)  # within the lead: queued
    await expect(rows).to_have_count(1)
    await expect(page.locator("#recent")).not_to_contain_text("ev.")  # the change reads as words
    other = str(await rows.first.get_attribute("data-booking"))
    await rows.first.locator('button[data-pre="cancel"]').click()
    await page.locator("#prebooked tr.panel button[type=submit]").click()
    await expect(rows).to_have_count(0)
    assert (await _stored(server, other))["status"] == "cancelled"
    await page.screenshot(path=tmp_path / f"prebooked-done-{lang}.png")


async def test_a_snapshot_lists_the_prebookings_with_their_release_time(stored_server: Server) -> None:
    """On SQLite and PostgreSQL: state.scheduled holds each pre-booking not yet released, with its
    address, pickup time and release time (pickup - KEEPCAB_PREBOOK_LEAD_S), soonest first."""
    server = stored_server
    now_s = server.app.state.console_clock()
    ids = []
    for address, ahead_s in (("Długa 7", 7200.0), ("Lubicz 1", 3600.0)):
        when = datetime.fromtimestamp(now_s + ahead_s, UTC).isoformat()
        ids.append(await server.order(pickup_address=address, pickup_at=when))
    console = await server.console()
    await next_message(console)
    snapshot = await next_message(console)
    scheduled = snapshot["state"]["scheduled"]
    lead_s = server.app.state.settings.prebook_lead_s
    assert [entry["order_id"] for entry in scheduled] == ids[::-1]
    assert [entry["pickup_address"] for entry in scheduled] == ["Lubicz 1", "Długa 7"]
    for entry in scheduled:
        assert entry["release_at"] == pytest.approx(entry["pickup_at"] - lead_s)
    assert snapshot["state"]["queue"] == []


NEXT = {
    "en": {"waits": "waits for car d1", "next": "next: Długa 7", "en_route": "en route"},
    "ru": {"waits": "ждёт машину d1", "next": "следующий: Długa 7", "en_route": "едут к клиенту"},
}


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_an_order_assigned_to_a_car_about_to_be_free_waits_for_it_and_goes_to_it(
    server: Server, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """Assign offers the cars on a job too; chosen, the order is marked in the queue ("waits for car
    d1") and in the drivers panel ("next: ..."); Back to queue undoes it; promised again, it goes to
    d1 when d1's trip ends."""
    await server.driver_online("d1")
    trip = await server.order(pickup_address="Floriańska 3")
    waiting = await server.order(CENTRE[0] + 0.004, CENTRE[1], pickup_address="Długa 7")
    page = await logged_in(browser, server, lang)
    row = page.locator(f'tr[data-order="{waiting}"]')
    words = NEXT[lang]

    async def promise() -> None:
        await row.locator('button[data-act="assign"]').click()
        await page.select_option('tr.panel select[name="driver"]', "next:d1")
        await page.locator("tr.panel button[type=submit]").click()
        await expect(row.locator("[data-held]")).to_contain_text(words["waits"])

    await promise()
    await expect(page.locator('tr[data-driver-row="d1"] [data-next]')).to_have_text(words["next"])
    await page.screenshot(path=tmp_path / f"next-{lang}.png")
    await row.locator("button[data-requeue]").click()
    await expect(row.locator("[data-held]")).to_have_count(0)
    await expect(page.locator('tr[data-driver-row="d1"] [data-next]')).to_have_count(0)
    await promise()
    assert (await server.post("/drivers/d1/arrived")).status_code == 200
    ended = await server.post("/drivers/d1/trip-completed", {"lat": CENTRE[0], "lon": CENTRE[1]})
    assert ended.status_code == 200, ended.text
    await expect(row).to_have_count(0)
    d1 = page.locator('tr[data-driver-row="d1"]')
    await expect(d1.locator(".st")).to_have_text(words["en_route"])
    await expect(d1).to_contain_text("Długa 7")
    stored = await _stored(server, waiting)
    assert (stored["status"], stored["driver_id"]) == ("assigned", "d1") and trip != waiting
    await page.screenshot(path=tmp_path / f"next-handed-over-{lang}.png")


async def test_a_snapshot_carries_the_promised_orders_and_the_cars_next(stored_server: Server) -> None:
    """On SQLite and PostgreSQL: state.held lists the promised order with its car, the car's entry
    names its next order, and the queue leaves it out."""
    server = stored_server
    await server.driver_online("d1")
    await server.order(pickup_address="Floriańska 3")
    waiting = await server.order(CENTRE[0] + 0.004, CENTRE[1], pickup_address="Długa 7")
    held = await server.post(f"/orders/{waiting}/assign", {"driver_id": "d1", "when_free": True})
    assert held.status_code == 200, held.text
    console = await server.console()
    await next_message(console)
    state = (await next_message(console))["state"]
    assert [(o["order_id"], o["held_for"], o["pickup_address"]) for o in state["held"]] == [
        (waiting, "d1", "Długa 7")
    ]
    assert [d["next_order_id"] for d in state["drivers"]] == [waiting]
    assert state["queue"] == []
