"""The web benchmark's watch for requests off the machine: it listens to failed requests only (every request off
this machine fails in the benchmark's chromium), so a page asking for a name elsewhere is still recorded, a failed
request to loopback is not, and the driver no longer sends every request of every page to the benchmark."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = [pytest.mark.browser]

PAGE = """<!doctype html><meta charset="utf-8"><p>park</p>
<img src="http://tiles.example.invalid/7/105/52.png" alt="">
<script>fetch("http://127.0.0.1:9/closed").catch(() => {});</script>"""


async def _watched(chromium: str) -> dict:
    from playwright.async_api import async_playwright

    from benchmarks.bench_web import OFFLINE_ARGS, watch_offsite

    problems: list[str] = []
    failed: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, headless=True,
                                           args=[*OFFLINE_ARGS, "--no-sandbox", "--disable-gpu",
                                                 "--disable-dev-shm-usage"])
        try:
            ctx = await browser.new_context()
            watch_offsite(ctx, problems)
            ctx.on("requestfailed", lambda r: failed.append(r.url))
            page = await ctx.new_page()
            await page.set_content(PAGE)
            for _ in range(750):  # both requests failed: at most 15 s (a loaded machine)
                if len(failed) >= 2:
                    break
                await asyncio.sleep(0.02)
        finally:
            await browser.close()
    return {"problems": problems, "failed": failed}


def test_a_request_off_the_machine_is_recorded_and_loopback_is_not(bench_chromium):
    # a thread of its own: a sync Playwright of another test may hold this thread's event loop
    with ThreadPoolExecutor(max_workers=1) as pool:
        out = pool.submit(lambda: asyncio.run(_watched(bench_chromium))).result(timeout=120)
    assert sorted(out["failed"]) == ["http://127.0.0.1:9/closed", "http://tiles.example.invalid/7/105/52.png"], out
    assert out["problems"] == ["asked for http://tiles.example.invalid/7/105/52.png"], out


def test_the_watch_does_not_ask_the_driver_for_every_request():
    """Listening to ``request`` makes Playwright's driver send every request of every page; the watch must not."""
    from benchmarks.bench_web import watch_offsite

    class Ctx:
        def __init__(self) -> None:
            self.events: list[str] = []

        def on(self, event: str, handler) -> None:
            self.events.append(event)

    ctx = Ctx()
    watch_offsite(ctx, [])
    assert ctx.events == ["requestfailed"]
