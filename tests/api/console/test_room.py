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

from tests.api.console.server import CENTRE, OPERATOR, PASSWORD, Server, serve

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
    page = await browser.new_page(viewport={"width": width, "height": 900})
    await page.add_init_script(f"localStorage.setItem('keepcab.lang', '{lang}')")
    await page.goto(server.base_url + "/")
    await page.fill("#login-user", OPERATOR)
    await page.fill("#login-pass", PASSWORD)
    await page.press("#login-pass", "Enter")
    await expect(page.locator("#conn")).to_have_class("conn online")
    return page


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
    middle = await page.locator("#middle").bounding_box()
    assert middle is not None
    for button in await page.locator("#queue td.actions button").all():
        box = await button.bounding_box()
        assert box is not None
        assert box["x"] >= middle["x"] and box["x"] + box["width"] <= middle["x"] + middle["width"] + 0.5
        assert box["x"] + box["width"] <= width
    overflow = await page.evaluate("() => { const m = document.querySelector('#middle');"
                                   " return m.scrollWidth - m.clientWidth; }")
    assert overflow <= 0
    await page.screenshot(path=tmp_path / f"queue-{lang}-{width}.png")
