"""The console page in headless chromium (Debian's binary) against a real server, step by step.

Each step saves a screenshot in the test's output folder (tmp_path).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, WebSocket, expect

from api.console.hub import CLOSE_TOO_SLOW
from tests.api.console.pages import logged_in
from tests.api.console.server import CENTRE, OPERATOR, PASSWORD, Server

pytestmark = pytest.mark.browser


async def _logged_in(browser: Browser, server: Server, shots: Path) -> Page:
    page = await browser.new_page(viewport={"width": 1500, "height": 900})
    await page.goto(server.base_url + "/")
    await page.fill("#login-user", OPERATOR)
    await page.fill("#login-pass", PASSWORD)
    await page.press("#login-pass", "Enter")
    await expect(page.locator("#conn")).to_have_class("conn online")
    await page.screenshot(path=shots / "01-logged-in.png")
    return page


async def _take_a_ringing_call_with_the_keyboard(page: Page, server: Server, shots: Path) -> None:
    ring = {"event": "call.ringing", "call_id": "pbx-1", "from": "8 912 345-67-89"}
    assert (await server.post("/phone/events", ring, key=server.phone_key)).status_code == 200
    card = page.locator(".call")
    await expect(card).to_contain_text("Floriańska 3")
    await expect(card.locator(".tier")).to_have_count(1)
    await page.screenshot(path=shots / "02-call-ringing.png")
    await page.locator("body").press("1")  # take the call with its first address
    await expect(page.locator("#f-address")).to_have_value("Floriańska 3")
    await expect(page.locator("#f-phone")).to_have_value("8 912 345-67-89")
    await page.keyboard.press("Enter")
    await expect(page.locator("#f-status")).to_contain_text("created")
    await expect(page.locator("#queue tbody tr")).to_have_count(1)
    await expect(page.locator("#queue tbody")).to_contain_text("Floriańska 3")
    await page.screenshot(path=shots / "03-order-from-call.png")


async def _see_it_assigned_when_a_driver_goes_free(page: Page, server: Server, shots: Path) -> None:
    await server.driver_online("d1", CENTRE[0] + 0.001, CENTRE[1])
    await expect(page.locator("#queue tbody tr")).to_have_count(0)
    await expect(page.locator("#recent")).to_contain_text("car d1")
    await expect(page.locator('[data-count="en_route"]')).to_have_text("1")
    await page.screenshot(path=shots / "04-assigned.png")


async def _cancel_with_a_cause(page: Page, server: Server, shots: Path) -> None:
    order_id = await server.order(CENTRE[0] + 0.002, CENTRE[1], pickup_address="Długa 7")
    row = page.locator(f'tr[data-order="{order_id}"]')
    await row.locator('button[data-act="cancel"]').click()
    await page.select_option('tr.panel select[name="cause"]', "dispatcher_cancelled")
    await page.fill('tr.panel input[name="reason"]', "duplicate booking")
    await page.press('tr.panel input[name="reason"]', "Enter")
    await expect(row).to_have_count(0)
    headers = {"X-API-Key": server.operator_key}
    cancelled = (await server.client.get(f"/orders/{order_id}", headers=headers)).json()
    assert (cancelled["status"], cancelled["failure_cause"]) == ("cancelled", "dispatcher_cancelled")
    await page.screenshot(path=shots / "05-cancelled.png")


async def _override_priority_with_a_reason(page: Page, server: Server, shots: Path) -> None:
    rows = page.locator("#queue tbody tr[data-order]")
    await server.order(CENTRE[0] + 0.003, CENTRE[1], pickup_address="Lubicz 1")
    later = await server.order(CENTRE[0] + 0.004, CENTRE[1], pickup_address="Lubicz 2")
    await expect(rows.nth(1)).to_have_attribute("data-order", later)
    await page.locator(f'tr[data-order="{later}"] button[data-act="priority"]').click()
    await page.fill('tr.panel input[name="head_start_s"]', "300")
    await page.press('tr.panel input[name="head_start_s"]', "Enter")  # no reason yet: refused
    await expect(page.locator("tr.panel .status")).to_have_text("A reason is required")
    await page.fill('tr.panel input[name="reason"]', "elderly caller, cold night")
    await page.press('tr.panel input[name="reason"]', "Enter")
    await expect(rows.first).to_have_attribute("data-order", later)
    await page.screenshot(path=shots / "06-priority.png")


async def _switch_to_russian(page: Page, shots: Path) -> None:
    await page.click("#lang")
    queue_title = "Очередь — в том порядке, в каком будут выданы машины"
    await expect(page.locator("#middle > h2")).to_have_text(queue_title)
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    await page.screenshot(path=shots / "07-russian.png")


async def test_an_operator_takes_a_call_dispatches_cancels_and_switches_language(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    """Log in; a ringing call shows its card; keys 1 and Enter order a car; a free driver takes it;
    another is cancelled with a cause; a head start is set with a reason; the page switches to Russian."""
    first = await server.order(pickup_address="Floriańska 3", phone="+7 912 345 67 89")
    await server.post(f"/orders/{first}/cancel", {"cause": "customer"})  # a known place, no live order
    page = await _logged_in(browser, server, tmp_path)
    await _take_a_ringing_call_with_the_keyboard(page, server, tmp_path)
    await _see_it_assigned_when_a_driver_goes_free(page, server, tmp_path)
    await _cancel_with_a_cause(page, server, tmp_path)
    await _override_priority_with_a_reason(page, server, tmp_path)
    await _switch_to_russian(page, tmp_path)
    assert len([shot for shot in tmp_path.glob("0*.png") if shot.stat().st_size > 0]) == 7


async def test_a_wrong_password_keeps_the_login_open(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    """A failed login says so and opens no websocket."""
    page = await browser.new_page()
    await page.goto(server.base_url + "/")
    await page.fill("#login-user", OPERATOR)
    await page.fill("#login-pass", "not the password")
    await page.press("#login-pass", "Enter")
    await expect(page.locator("#login-error")).to_have_text("Wrong username or password")
    assert server.hub.client_count == 0
    await page.screenshot(path=tmp_path / "login-refused.png")


async def test_a_dropped_console_reconnects_and_resumes_without_a_snapshot(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    """Closed by the server (as a slow client would be), the page reconnects with its last seq and
    stream, is resumed from the buffer, and shows what happened while it was away."""
    welcomes: list[dict[str, object]] = []

    def watch(socket: WebSocket) -> None:
        def frame(payload: str | bytes) -> None:
            message = json.loads(payload)
            if isinstance(message, dict) and message.get("type") == "welcome":
                welcomes.append(message)

        socket.on("framereceived", frame)

    page = await browser.new_page()
    page.on("websocket", watch)
    await page.goto(server.base_url + "/")
    await page.fill("#login-user", OPERATOR)
    await page.fill("#login-pass", PASSWORD)
    await page.press("#login-pass", "Enter")
    await expect(page.locator("#conn")).to_have_class("conn online")
    for client in list(server.hub._clients):
        client.close(CLOSE_TOO_SLOW, "test: too slow")
    order_id = await server.order(pickup_address="Basztowa 5")  # while the page is away
    await expect(page.locator(f'tr[data-order="{order_id}"]')).to_have_count(1)
    assert [w["resumed"] for w in welcomes] == [False, True]
    await page.screenshot(path=tmp_path / "resumed.png")


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_every_script_of_the_page_loads_and_runs_without_an_error(
    server: Server, browser: Browser, lang: str
) -> None:
    """The console is several scripts that hook into one another (console.js, the map, places,
    care, booking): one that throws while loading silently takes its feature away (the notes
    and the confirm flag were gone once after a layout change moved the element they anchor
    to), so a page error anywhere fails here."""
    errors: list[str] = []
    page = await logged_in(browser, server, lang, errors=errors)
    await server.order(pickup_address="Floriańska 3", phone="+7 912 345 67 89")
    ring = {"event": "call.ringing", "call_id": "e1", "from": "8 912 345-67-89"}
    assert (await server.post("/phone/events", ring, key=server.phone_key)).status_code == 200
    await page.locator(".call button[data-history]").click()
    await expect(page.locator("#history-care textarea")).to_have_count(1)
    await page.locator("#f-dest").press_sequentially("Flo", delay=20)
    await page.wait_for_timeout(300)
    assert errors == []
