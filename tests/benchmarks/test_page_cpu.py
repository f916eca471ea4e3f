"""``benchmarks.page_cpu``'s two measures, in a real chromium: the CPU it counts is chromium's (a page that spins
for a while adds about that much, this test process's own work adds nothing), and the wait for quiet returns once a
busy page stops, not while it spins."""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

pytestmark = [pytest.mark.browser]

SPIN = """(ms) => { const end = performance.now() + ms; let x = 0; while (performance.now() < end) x += Math.sqrt(x + 1);
  return x > 0; }"""


async def _measured(chromium: str) -> dict:
    import psutil
    from playwright.async_api import async_playwright

    from benchmarks.page_cpu import _chromium_cpu, _quiet

    me = psutil.Process()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, headless=True,
                                           args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            page = await browser.new_page()
            await page.set_content("<p>idle</p>")
            await _quiet(me, 0.0)
            c0 = _chromium_cpu(me)
            t = time.process_time()
            while time.process_time() - t < 0.3:  # this process's own CPU: not chromium's
                sum(range(1000))
            mine = _chromium_cpu(me) - c0
            c0 = _chromium_cpu(me)
            await page.evaluate(SPIN, 600)
            spun = _chromium_cpu(me) - c0
            # a page that keeps spinning for 1.5 s from now: the wait for quiet must outlast it
            await page.evaluate("() => { setTimeout(() => { const end = performance.now() + 1500; "
                                "while (performance.now() < end) {} }, 0); }")
            t0 = time.perf_counter()
            await _quiet(me, 0.0)
            waited = time.perf_counter() - t0
        finally:
            await browser.close()
    return {"mine": mine, "spun": spun, "waited": waited}


def test_chromium_cpu_counts_the_pages_work_and_the_wait_outlasts_it(bench_chromium):
    with ThreadPoolExecutor(max_workers=1) as pool:
        out = pool.submit(lambda: asyncio.run(_measured(bench_chromium))).result(timeout=120)
    assert out["mine"] < 0.1, out
    assert 0.25 < out["spun"] < 1.5, out  # 0.6 s of spinning on one core (a loaded machine gives it less of it)
    assert out["waited"] >= 1.2, out
