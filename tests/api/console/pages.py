"""A console page in headless chromium, logged in and live, for the browser tests."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.api.console.server import OPERATOR, PASSWORD, Server


async def logged_in(
    browser: Browser, server: Server, lang: str, width: int = 1440, errors: list[str] | None = None
) -> Page:
    """A new page in `lang` at `width` px, logged in as the test operator, its socket online;
    `errors` collects every script error from the first load on."""
    page = await browser.new_page(viewport={"width": width, "height": 900})
    if errors is not None:
        page.on("pageerror", lambda error: errors.append(str(error)))
    await page.add_init_script(f"localStorage.setItem('keepcab.lang', '{lang}')")
    await page.goto(server.base_url + "/")
    await page.fill("#login-user", OPERATOR)
    await page.fill("#login-pass", PASSWORD)
    await page.press("#login-pass", "Enter")
    await expect(page.locator("#conn")).to_have_class("conn online")
    return page
