"""`/docs` in headless chromium with every request off loopback refused: Swagger UI still renders.

It lives beside the console page test for the real server and the Debian
chromium fixture both use.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Route, expect

from tests.api.console.server import Server
from tests.api.console.test_page import browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.browser


async def test_the_api_docs_render_with_no_network_but_loopback(
    browser: Browser,  # noqa: F811
    server: Server,
    tmp_path: Path,
) -> None:
    """Title, version and the order routes show; nothing was fetched from outside (no CDN)."""
    page = await browser.new_page()
    outside: list[str] = []

    async def offline(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            await route.continue_()
        else:
            outside.append(route.request.url)
            await route.abort("internetdisconnected")

    await page.route("**/*", offline)
    await page.goto(server.base_url + "/docs")
    await expect(page.locator(".swagger-ui .info .title")).to_contain_text("keepcab", timeout=15_000)
    await expect(page.locator(".opblock-summary-path", has_text="/orders/{order_id}/cancel")).to_have_count(1)
    await page.screenshot(path=tmp_path / "api-docs.png")
    assert outside == []
