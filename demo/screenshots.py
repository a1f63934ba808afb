"""Screenshots of the busy demo for docs/img: EN and RU, 1024 and 1440 px, made by a script.

    python -m demo.screenshots [--out docs/img] [--warm-up 90]

Starts `keepcab demo` on a free port in a temporary folder (offline: no map
tiles, the console draws the town), lets the room fill for `--warm-up`
wall-clock seconds, then logs in with headless chromium (Playwright, the
browser the console tests use), waits (at most `--wait` seconds) for a moment
with a free car while someone waits or is being fetched, opens a caller's
history from the queue or a ringing card and saves, from that one page, a full-page
screenshot per language and width: the map with cars, waiting pickups and
en-route lines, the drivers panel and the caller's history, in
`<out>/room-<lang>-<width>.png`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from playwright.async_api import Page, async_playwright, expect

from demo.cli import OPERATOR, PASSWORD

WIDTHS = (1440, 1024)
LANGS = ("en", "ru")
ARGS = ["--no-sandbox", "--disable-gpu", "--headless"]


def start_demo(speed: float, seconds: float) -> tuple[subprocess.Popen[str], str]:
    """`keepcab demo --port 0` as a child; its URL once it says it is running."""
    command = [
        sys.executable,
        "-c",
        "from api.cli import main; main()",
        "demo",
        "--port",
        "0",
        "--speed",
        str(speed),
        "--duration",
        str(seconds),
    ]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert child.stdout is not None
    deadline = time.monotonic() + 180
    for line in child.stdout:
        found = re.search(r"running at (http://\S+?)/\s", line)
        if found:
            drain = threading.Thread(target=lambda: [None for _ in child.stdout], daemon=True)  # type: ignore[union-attr]
            drain.start()  # the rest of its output, so a full pipe never stalls it
            return child, found.group(1)
        if time.monotonic() > deadline:
            break
    child.kill()
    raise SystemExit("keepcab demo did not start (see its output above)")


async def log_in(page: Page, base_url: str) -> None:
    await page.goto(base_url + "/")
    await page.fill("#login-user", OPERATOR)
    await page.fill("#login-pass", PASSWORD)
    await page.press("#login-pass", "Enter")
    await expect(page.locator("#conn")).to_have_class("conn online", timeout=30_000)
    await expect(page.locator("#map path.car").first).to_be_attached(timeout=30_000)


async def count(page: Page, what: str) -> int:
    return int(await page.locator(f'[data-count="{what}"]').text_content() or 0)


async def busy_moment(page: Page, limit_s: float) -> None:
    """Wait (at most `limit_s`) for a room that breathes: a free car while others are busy and
    someone waits or is being fetched, with a caller whose history can be opened."""
    for _ in range(int(limit_s)):
        free, waiting, en_route = [await count(page, k) for k in ("free", "waiting", "en_route")]
        callers = await page.locator("#queue button[data-history], #calls button[data-history]").count()
        if free > 0 and waiting + en_route > 0 and callers > 0:
            return
        await page.wait_for_timeout(1000)


async def open_history(page: Page) -> None:
    """A caller's history: a waiting caller's, else one a ringing card offers."""
    button = page.locator("#queue button[data-history], #calls button[data-history]").first
    await expect(button).to_be_attached(timeout=120_000)
    await button.click()
    await expect(page.locator("#history")).to_be_visible()
    await expect(page.locator("#history-list li").first).to_be_attached()


async def shoot(base_url: str, out: Path, limit_s: float) -> list[Path]:
    """All four shots of one moment: one page, its language and width switched between shots."""
    saved = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS)
        page = await browser.new_page(viewport={"width": WIDTHS[-1], "height": 900})
        await page.add_init_script(f"localStorage.setItem('keepcab.lang', '{LANGS[0]}')")
        await log_in(page, base_url)
        await busy_moment(page, limit_s)
        for lang in LANGS:
            if await page.locator("html").get_attribute("lang") != lang:
                await page.locator("#lang").click()
            await open_history(page)  # again: its words are written in the page's language
            for width in WIDTHS:
                await page.set_viewport_size({"width": width, "height": 900})
                await page.wait_for_timeout(700)  # the layout, the map's size and its labels settle
                path = out / f"room-{lang}-{width}.png"
                await page.screenshot(path=path, full_page=True)
                saved.append(path)
        await browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    parser.add_argument(
        "--warm-up", type=float, default=90.0, help="wall-clock seconds before the first shot"
    )
    parser.add_argument("--speed", type=float, default=10.0)
    parser.add_argument("--wait", type=float, default=180.0, help="at most this long for a busy moment")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    child, base_url = start_demo(args.speed, args.warm_up + args.wait + 240)
    try:
        time.sleep(args.warm_up)
        for path in asyncio.run(shoot(base_url, args.out, args.wait)):
            print(path)
    finally:
        child.send_signal(signal.SIGTERM)  # the demo stops its server and removes its folder
        try:
            child.wait(timeout=60)
        except subprocess.TimeoutExpired:
            child.kill()


if __name__ == "__main__":
    os.environ.setdefault("KEEPCAB_PHONE_REGION", "RU")
    main()
