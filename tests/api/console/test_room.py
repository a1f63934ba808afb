"""The dispatch room's rough edges, in headless chromium, in English and Russian.

Failed actions say why where the operator is looking, causes and reasons are
words of the page's language, a number typed by hand finds its caller,
ringing cards leave, and every action stays reachable from 1024 px up.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from tests.api.console.pages import console_page
from tests.api.console.server import CENTRE, Server, serve

pytestmark = pytest.mark.browser
WORDS = {
    "en": {"unknown": "Unknown caller", "customer": "customer cancelled", "answered": "answered"},
    "ru": {"unknown": "Неизвестный абонент", "customer": "клиент отменил", "answered": "принят"},
}
LATIN = re.compile(r"[A-Za-z]")


@pytest.fixture
async def quick_cards(tmp_path: Path) -> AsyncIterator[Server]:
    """A server whose ringing cards leave after 3 s without an event of their call."""
    async for running in serve(f"sqlite:///{tmp_path / 'keepcab.db'}", ringing_card_idle_s=3.0):
        yield running


async def _page(browser: Browser, server: Server, lang: str, width: int = 1440) -> Page:
    return await console_page(browser, server, lang, width)


async def _known_caller(server: Server) -> None:
    """A caller the firm knows: one past order from Floriańska 3, cancelled by them."""
    first = await server.order(pickup_address="Floriańska 3", phone="+7 912 345 67 89")
    await server.post(f"/orders/{first}/cancel", {"cause": "customer"})


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_failed_assign_says_why_and_a_cancel_reads_in_the_pages_language(
    server: Server, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """Assign with no free driver shows the server's 422 message in the panel, and it survives the
    queue's once-a-second redraw; a customer's cancellation with the operator's words shows the
    cause in the page's language beside those words, never a dictionary key; reasons carry no English."""
    await _known_caller(server)
    order_id = await server.order(pickup_address="Długa 7", phone="+7 912 345 67 89")
    page = await _page(browser, server, lang)
    row = page.locator(f'tr[data-order="{order_id}"]')
    if lang == "ru":
        await expect(row.locator("td.reason")).not_to_have_text(LATIN)
        await expect(row.locator("td.reason")).to_contain_text("ещё ни одной поездки")
    await row.locator('button[data-act="assign"]').click()
    await page.locator("tr.panel button[type=submit]").click()
    status = page.locator("tr.panel .status")
    await expect(status).to_contain_text("driver_id")
    await page.wait_for_timeout(1500)  # two redraws of the queue
    await expect(status).to_contain_text("driver_id")
    await page.screenshot(path=tmp_path / f"assign-refused-{lang}.png")
    await page.locator('tr.panel button[data-act="close"]').click()
    await row.locator('button[data-act="cancel"]').click()
    await page.select_option('tr.panel select[name="cause"]', "customer")
    await page.fill('tr.panel input[name="reason"]', "called back, found another ride")
    await page.press('tr.panel input[name="reason"]', "Enter")
    await expect(row).to_have_count(0)
    latest = page.locator("#recent li").first
    await expect(latest).to_contain_text(f"{WORDS[lang]['customer']} (called back, found another ride)")
    await expect(page.locator("#recent")).not_to_contain_text("cause.")
    await page.screenshot(path=tmp_path / f"cancelled-{lang}.png")


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_number_typed_by_hand_finds_the_caller(
    server: Server, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """Typing 8 912 345-67-89 fills Customer and offers the caller's addresses, as a ring would;
    a number the firm does not know reads as an unknown caller."""
    await _known_caller(server)
    page = await _page(browser, server, lang)
    await page.locator("#f-phone").press_sequentially("8 912 345-67-89", delay=20)
    customer = page.locator("#f-customer")
    await expect(customer).not_to_have_value("")
    await expect(customer).not_to_have_value(WORDS[lang]["unknown"])
    await expect(page.locator('#f-places option[value="Floriańska 3"]')).to_have_count(1)
    await page.locator("#f-address").fill("Floriańska 3")
    await page.locator("#f-address").dispatch_event("input")
    await expect(page.locator("#f-coords")).not_to_have_value("")
    await page.screenshot(path=tmp_path / f"typed-known-{lang}.png")
    await page.locator("#f-phone").fill("")
    await page.locator("#f-phone").press_sequentially("8 912 000-11-22", delay=10)
    await expect(customer).to_have_value(WORDS[lang]["unknown"])


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_ringing_cards_leave_on_call_end_and_after_the_idle_time(
    quick_cards: Server, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """An answered call keeps its card (marked answered) until the PBX says it ended; a call the PBX
    never closes leaves after KEEPCAB_RINGING_CARD_IDLE_S, and a reloaded page does not bring it back."""
    server = quick_cards
    page = await _page(browser, server, lang)
    for call_id in ("a", "b"):
        ring = {"event": "call.ringing", "call_id": call_id, "from": "+7 912 111 22 3" + str(len(call_id))}
        assert (await server.post("/phone/events", ring, key=server.phone_key)).status_code == 200
    cards = page.locator(".call")
    await expect(cards).to_have_count(2)
    await server.post("/phone/events", {"event": "call.answered", "call_id": "a"}, key=server.phone_key)
    await expect(cards.first).to_contain_text(WORDS[lang]["answered"])
    await server.post("/phone/events", {"event": "call.ended", "call_id": "a"}, key=server.phone_key)
    await expect(cards).to_have_count(1)
    await expect(cards).to_have_count(0, timeout=8000)  # "b" never ends: it leaves after 3 s idle
    await page.reload()
    await expect(page.locator("#conn")).to_have_class("conn online")
    await expect(cards).to_have_count(0)
    await page.screenshot(path=tmp_path / f"cards-gone-{lang}.png")


@pytest.mark.parametrize("width", [1024, 1440])
@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_every_queue_action_is_reachable_from_1024_px(
    server: Server, browser: Browser, tmp_path: Path, lang: str, width: int
) -> None:
    """No column of the queue is cut off: the actions of every row lie inside the queue's box and
    the window, and the queue does not scroll sideways."""
    await _known_caller(server)
    for k in range(3):
        await server.order(CENTRE[0] + 0.001 * k, CENTRE[1], pickup_address=f"Karmelicka {k + 10}, klatka B",
                           phone="+7 912 345 67 89" if k == 0 else None)  # fmt: skip
    page = await _page(browser, server, lang, width)
    await expect(page.locator("#queue tbody tr[data-order]")).to_have_count(3)
    # one read of the page: the queue is redrawn every second, so element handles go stale
    layout = await page.evaluate("""() => {
        const m = document.querySelector('#middle'), box = m.getBoundingClientRect();
        const buttons = [...document.querySelectorAll('#queue td.actions button')]
            .map((b) => b.getBoundingClientRect()).map((b) => [b.left, b.right, b.width]);
        return {left: box.left, right: box.right, overflow: m.scrollWidth - m.clientWidth, buttons};
    }""")
    assert len(layout["buttons"]) == 3 * 4 - 2  # assign, cancel, priority, and history where known
    for left, right, size in layout["buttons"]:
        assert size > 0 and left >= layout["left"] and right <= layout["right"] + 0.5 and right <= width
    assert layout["overflow"] <= 0
    await page.screenshot(path=tmp_path / f"queue-{lang}-{width}.png")


ROSTER = {
    "en": {"free": "free", "offline": "offline", "cancelled": "cancelled", "waiting": "waiting"},
    "ru": {"free": "свободны", "offline": "не на линии", "cancelled": "отменён", "waiting": "ждёт"},
}


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_the_drivers_panel_lists_every_car_and_brings_them_on_and_off_line(
    server: Server, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """Every registered car with its status (offline ones too) and time in it; an operator takes a
    free car offline, adds a new driver and brings them online from the panel."""
    await server.driver_online("car-1")
    await server.post("/drivers", {"id": "car-2", "name": "Oleg"})
    page = await _page(browser, server, lang)
    rows = page.locator("#roster tbody tr")
    await expect(rows).to_have_count(2)
    car1, car2 = page.locator('tr[data-driver-row="car-1"]'), page.locator('tr[data-driver-row="car-2"]')
    await expect(car1.locator(".st")).to_have_text(ROSTER[lang]["free"])
    await expect(car2.locator(".st")).to_have_text(ROSTER[lang]["offline"])
    await expect(car2).to_contain_text("Oleg")
    await car1.locator('button[data-driver-act="offline"]').click()
    await expect(car1.locator(".st")).to_have_text(ROSTER[lang]["offline"])
    state = (await server.client.get("/drivers/car-1", headers={"X-API-Key": server.operator_key})).json()
    assert state["status"] == "offline"
    await page.fill("#new-driver-id", "car-3")
    await page.fill("#new-driver-name", "Nina")
    await page.press("#new-driver-name", "Enter")
    car3 = page.locator('tr[data-driver-row="car-3"]')
    await expect(car3.locator(".st")).to_have_text(ROSTER[lang]["offline"])
    await car3.locator('button[data-driver-act="online"]').click()
    await expect(car3.locator(".st")).to_have_text(ROSTER[lang]["free"])
    state = (await server.client.get("/drivers/car-3", headers={"X-API-Key": server.operator_key})).json()
    assert state["status"] == "free"
    await page.screenshot(path=tmp_path / f"drivers-{lang}.png")


@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_callers_history_opens_from_the_card_and_from_the_queue(
    server: Server, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """The caller's last orders with outcome, time and address, in the page's language."""
    await _known_caller(server)
    waiting = await server.order(pickup_address="Długa 7", phone="+7 912 345 67 89")
    page = await _page(browser, server, lang)
    await page.locator(f'tr[data-order="{waiting}"] button[data-history]').click()
    history = page.locator("#history-list li")
    await expect(history).to_have_count(2)
    await expect(history.nth(0)).to_contain_text(f"{ROSTER[lang]['waiting']}Długa 7")
    await expect(history.nth(1)).to_contain_text(f"{ROSTER[lang]['cancelled']}Floriańska 3")
    await page.locator("#history-close").click()
    ring = {"event": "call.ringing", "call_id": "h1", "from": "8 912 345-67-89"}
    assert (await server.post("/phone/events", ring, key=server.phone_key)).status_code == 200
    await page.locator(".call button[data-history]").click()
    await expect(history).to_have_count(2)
    await page.screenshot(path=tmp_path / f"history-{lang}.png")
