"""The console page in headless chromium when its session ends under it (a real server, defaults).

Disabling the operator with `keepcab operators disable` closes the page's open websocket with
4401 within the documented 10 s (the key cache time), and the page shows its login again.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from playwright.async_api import Browser, expect

from api.settings import Settings
from tests.api.console.server import OPERATOR, PASSWORD, Server, serve
from tests.api.console.test_page import _logged_in  # the chromium fixture `browser` is in conftest.py
from tests.api.console.test_session_watch import keepcab

DOCUMENTED_S = 10.0  # api.deps.KEY_CACHE_TTL_S: how long a revoked key may still work


async def test_disabling_the_operator_sends_the_open_page_back_to_its_login(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    """The page is online; the admin disables its operator; the socket closes with 4401 within
    10 s, the login shows, and a call ringing afterwards never reaches the page."""
    assert server.app.state.settings.console_key_recheck_s == Settings().console_key_recheck_s
    page = await _logged_in(browser, server, tmp_path)
    await expect(page.locator("#login")).to_be_hidden()
    assert server.hub.client_count == 1
    url = str(server.app.state.settings.database_url)
    disabled_at = time.monotonic()
    await asyncio.to_thread(keepcab, url, "operators", "disable", OPERATOR)
    while server.hub.client_count and time.monotonic() - disabled_at < DOCUMENTED_S + 5:
        await asyncio.sleep(0.05)
    seconds = time.monotonic() - disabled_at
    print(f"revocation: {seconds:.2f} s from `keepcab operators disable` to the socket closed")
    assert server.hub.client_count == 0 and seconds <= DOCUMENTED_S
    await expect(page.locator("#login")).to_be_visible()  # the page got 4401 (other codes reconnect)
    ring = {"event": "call.ringing", "call_id": "after", "from": "8 912 345-67-89"}
    assert (await server.post("/phone/events", ring, key=server.phone_key)).status_code == 200
    await asyncio.sleep(0.5)
    await expect(page.locator(".call")).to_have_count(0)
    assert server.hub.client_count == 0
    await page.screenshot(path=tmp_path / "disabled-back-to-login.png")


async def test_a_throttled_login_says_when_to_try_again(browser: Browser, tmp_path: Path) -> None:
    """After the free failures the page says how long to wait, for the right password too."""
    async for server in serve(f"sqlite:///{tmp_path / 'keepcab.db'}", login_free_failures=2):
        page = await browser.new_page()
        await page.goto(server.base_url + "/")
        await page.fill("#login-user", OPERATOR)
        for password in ("wrong", "still wrong"):
            await page.fill("#login-pass", password)
            await page.press("#login-pass", "Enter")
            await expect(page.locator("#login-error")).to_have_text("Wrong username or password")
        await page.fill("#login-pass", PASSWORD)
        await page.press("#login-pass", "Enter")
        await expect(page.locator("#login-error")).to_have_text("Too many failed logins: try again in 30 s")
        assert server.hub.client_count == 0
        await page.screenshot(path=tmp_path / "login-throttled.png")
