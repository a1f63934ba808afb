"""A console page in headless chromium, logged in as the test operator, in the language asked for."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from tests.api.console.server import OPERATOR, PASSWORD, Server


async def console_page(browser: Browser, server: Server, lang: str, width: int = 1440) -> Page:
    page = await browser.new_page(viewport={"width": width, "height": 900})
    await page.add_init_script(f"localStorage.setItem('keepcab.lang', '{lang}')")
    await page.goto(server.base_url + "/")
    await page.fill("#login-user", OPERATOR)
    await page.fill("#login-pass", PASSWORD)
    await page.press("#login-pass", "Enter")
    await expect(page.locator("#conn")).to_have_class("conn online")
    return page
