"""Notes on a customer in the console (headless chromium, EN and RU), and erasure of the hub's copies."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect

from tests.api.console.pages import logged_in
from tests.api.console.server import Server, next_message

NOTE = "Deaf: send a text, do not call"
NUMBER = "+7 912 345 67 89"
WHY = "threatened a driver at Lenina 5"


async def _customer(server: Server) -> str:
    order = await server.order(pickup_address="Floriańska 3", phone=NUMBER)
    await server.post(f"/orders/{order}/cancel", {"cause": "customer"})
    headers = {"X-API-Key": server.operator_key}
    return str((await server.client.get(f"/orders/{order}", headers=headers)).json()["customer_id"])


async def _ring(server: Server, call_id: str) -> None:
    ring = {"event": "call.ringing", "call_id": call_id, "from": "8 912 345-67-89"}
    assert (await server.post("/phone/events", ring, key=server.phone_key)).status_code == 200


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_an_operator_writes_notes_in_the_history_and_the_next_ring_shows_them(
    server: Server, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """Notes typed in the caller history are saved (PUT /customers/{id}/notes), shown on the next
    ringing card and in the history again after a reload."""
    customer_id = await _customer(server)
    page = await logged_in(browser, server, lang)
    await _ring(server, "n1")
    await page.locator(".call button[data-history]").click()
    await page.fill("#notes-text", NOTE)
    await page.locator("#notes-form button[type=submit]").click()
    await expect(page.locator("#notes-status")).to_have_text(
        "Notes saved" if lang == "en" else "Заметки сохранены"
    )
    await expect(page.locator(".call [data-notes]")).to_have_text(NOTE)
    headers = {"X-API-Key": server.operator_key}
    stored = (await server.client.get(f"/customers/{customer_id}", headers=headers)).json()
    assert stored["customer"]["notes"] == NOTE
    await _ring(server, "n2")
    await page.reload()
    await expect(page.locator("#conn")).to_have_class("conn online")
    await expect(page.locator(".call [data-notes]")).to_have_count(2)  # both rings, from the snapshot
    await page.locator(".call button[data-history]").first.click()
    await expect(page.locator("#notes-text")).to_have_value(NOTE)
    await page.screenshot(path=tmp_path / f"notes-{lang}.png")


async def test_erasure_takes_the_notes_out_of_the_hubs_copies(server: Server) -> None:
    """A ringing card carried the notes and the flag's reason; after DELETE personal-data neither a
    new console's snapshot nor the replay buffer has them."""
    customer_id = await _customer(server)
    headers = {"X-API-Key": server.operator_key}
    await server.client.put(f"/customers/{customer_id}/notes", json={"notes": NOTE}, headers=headers)
    flag = {"confirm_required": True, "reason": WHY}
    await server.client.put(f"/customers/{customer_id}/flag", json=flag, headers=headers)
    await _ring(server, "e1")
    await server.settled()
    held = json.dumps(server.hub.recent(), ensure_ascii=False)
    assert NOTE in held and WHY in held, "the ringing card must carry the notes and the flag first"
    await server.erase(customer_id)
    resuming = await server.console(last_seq=0)
    welcome = await next_message(resuming)
    replayed = [await next_message(resuming) for _ in range(welcome["seq"])]
    fresh = await server.console()
    await next_message(fresh)
    for sent in (
        json.dumps(replayed, ensure_ascii=False),
        json.dumps(await next_message(fresh), ensure_ascii=False),
    ):
        assert NOTE not in sent and WHY not in sent


FLAG = {"en": "Confirm before serving", "ru": "Подтвердить перед выполнением"}


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["en", "ru"])
async def test_a_flagged_caller_is_marked_on_the_card_and_the_form_needs_the_box_ticked(
    server: Server, browser: Browser, tmp_path: Path, lang: str
) -> None:
    """The operator flags the caller in the history with a reason (audited, listed there); the next
    ring's card says so; the form refuses the order until "I have confirmed" is ticked."""
    await _customer(server)
    page = await logged_in(browser, server, lang)
    await _ring(server, "f1")
    await page.locator(".call button[data-history]").click()
    await page.locator("#flag-form button[type=submit]").click()  # no reason: refused on the page
    await expect(page.locator("#flag-status")).not_to_have_text("")
    await page.fill("#flag-reason", "two no-shows in November")
    await page.locator("#flag-form button[type=submit]").click()
    await expect(page.locator("#flag-audit li")).to_have_count(1)
    await expect(page.locator("#flag-audit li")).to_contain_text("two no-shows in November")
    card_flag = page.locator(".call [data-flag]")
    await expect(card_flag).to_contain_text(FLAG[lang])
    await expect(card_flag).to_contain_text("two no-shows in November")
    await page.locator("#history-close").click()
    await page.locator("body").press("1")
    await expect(page.locator("#f-flag")).to_contain_text(FLAG[lang])
    await page.screenshot(path=tmp_path / f"flagged-form-{lang}.png")
    await page.locator("#f-address").press("Enter")
    await expect(page.locator("#f-status")).to_contain_text("confirmed")
    await expect(page.locator("#queue tbody tr[data-order]")).to_have_count(0)
    await page.locator("#f-confirmed").check()
    await page.locator("#order-form button[type=submit]").click()
    await expect(page.locator("#queue tbody tr[data-order]")).to_have_count(1)
    await expect(page.locator("#f-flag")).to_be_hidden()
