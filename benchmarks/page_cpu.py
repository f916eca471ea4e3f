"""``python -m benchmarks.page_cpu [--repeat N] [--pages a,b] [--json F]``: chromium's CPU per page of the workspace,
one user at a time (issue 15: eight users walking every page saturate the browsers' core, and the in-place
decision waits for that core; ``docs/performance.md``, "The browsers' core").

A server (2 workers, warmed) on one core, headless chromium on another; the administrator (who may open every page)
logs in and visits each page ``--repeat`` times. A visit's cost is the CPU of every chromium process (browser, GPU,
renderers) from before ``goto`` until the page and its map frames are loaded and the page has been quiet for
``SETTLE_S``, less chromium's idle CPU over the same time (measured before). Reported per page: the median CPU
seconds, the median wall time to quiet, the page's bytes and its map frame's bytes."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

import psutil

from . import bench_web
from ._data import dataset, free_port, gpkg

#: after the load event and the map frames' load: how long the page must have been quiet (no chromium CPU above
#: the idle rate) to count as done
SETTLE_S = 0.6
N_ENT = 20_000

_FRAMES_LOADED_JS = """() => Array.from(document.querySelectorAll('iframe')).every((f) => {
  try { return f.contentDocument && f.contentDocument.readyState === 'complete'; } catch (e) { return true; } })"""
_BYTES_JS = """() => { const out = {page: 0, frames: 0};
  for (const e of performance.getEntriesByType('navigation')) out.page += e.encodedBodySize || 0;
  for (const f of document.querySelectorAll('iframe')) { try {
    for (const e of f.contentWindow.performance.getEntriesByType('navigation')) out.frames += e.encodedBodySize || 0;
  } catch (e) {} }
  return out; }"""


def _chromium_cpu(root: psutil.Process) -> float:
    total = 0.0
    for p in root.children(recursive=True):
        try:
            name = p.name()
            if "chrom" in name or "headless" in name:
                t = p.cpu_times()
                total += t.user + t.system
        except psutil.Error:
            pass
    return total


async def _quiet(root: psutil.Process, idle_rate: float, window: float = SETTLE_S, timeout: float = 30.0) -> None:
    """Wait until chromium used at most its idle rate plus 2 % of a core over ``window`` seconds."""
    deadline = time.perf_counter() + timeout
    last = _chromium_cpu(root)
    while time.perf_counter() < deadline:
        await asyncio.sleep(window)
        now = _chromium_cpu(root)
        if now - last <= (idle_rate + 0.02) * window:
            return
        last = now


async def _measure(base: str, token: str, pages: list[tuple[str, str]], repeat: int, chromium: str) -> dict:
    from playwright.async_api import async_playwright

    me = psutil.Process()
    out: dict[str, dict] = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, headless=True,
                                           args=[*bench_web.OFFLINE_ARGS, "--no-sandbox", "--disable-gpu",
                                                 "--disable-dev-shm-usage", "--disable-background-networking",
                                                 "--disable-component-update"])
        try:
            ctx = await browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
            page = await ctx.new_page()
            await page.goto(f"{base}/login")
            await page.fill("#token", token)
            async with page.expect_navigation():
                await page.click("#login-form button[type=submit]")
            for name, path in pages:  # once each: the browser's cache holds the assets, as in the benchmark's rounds
                await page.goto(base + path, wait_until="load")
            await page.goto("about:blank")
            await asyncio.sleep(2.0)
            c0, t0 = _chromium_cpu(me), time.perf_counter()
            await asyncio.sleep(5.0)
            idle = (_chromium_cpu(me) - c0) / (time.perf_counter() - t0)
            for name, path in pages:
                cpu, wall, sizes = [], [], {}
                for _ in range(repeat):
                    await page.goto("about:blank")
                    await _quiet(me, idle)
                    c0, t0 = _chromium_cpu(me), time.perf_counter()
                    await page.goto(base + path, wait_until="load")
                    await page.wait_for_function(_FRAMES_LOADED_JS, polling=100, timeout=60_000)
                    loaded = time.perf_counter() - t0
                    await _quiet(me, idle)
                    dt = time.perf_counter() - t0
                    cpu.append(_chromium_cpu(me) - c0 - idle * dt)
                    wall.append(loaded)
                    sizes = await page.evaluate(_BYTES_JS)
                out[name] = {"cpu_s": statistics.median(cpu), "cpu_all": cpu, "loaded_s": statistics.median(wall),
                             "page_bytes": sizes.get("page"), "frame_bytes": sizes.get("frames")}
            out["_idle_cpu_per_s"] = {"cpu_s": idle}
        finally:
            await browser.close()
    return out


def run(repeat: int = 5, only: list[str] | None = None) -> dict:
    chromium = bench_web.chromium_path()
    data = gpkg(N_ENT)
    info = bench_web._dataset_info(dataset(N_ENT))
    cores = sorted(os.sched_getaffinity(0))
    server_cores, client_cores = ({cores[0]}, {cores[1]}) if len(cores) >= 2 else (None, None)
    with tempfile.TemporaryDirectory(prefix="parkplan-page-cpu-") as tmp:
        db = Path(tmp) / "reviews.sqlite"
        server = bench_web.Server(data, db, free_port(bench_web.HOST), 2, True, cores=server_cores)
        mine = os.sched_getaffinity(0)
        try:
            server.wait()
            users = bench_web._plan_users(db, len(bench_web.ROSTER))
            admin = next(u for u in users if u.role == "admin")
            server.wait_idle()
            eid, q = info["enterprises"][0]
            pages = [("home", "/"), ("parks", "/ui/parks"), ("park page", f"/ui/parks/{info['parks'][0]}"),
                     ("metrics", "/ui/metrics?sector=textiles"),
                     ("suitability (query)", f"/ui/suitability?q={q}&enterprise_id={eid}"),
                     ("scenarios", "/ui/scenarios?scenario=urban-core"), ("plan", "/ui/plan"),
                     ("review list", "/ui/review?status=pending"), ("candidate", f"/ui/review/{admin.queue[0]}")]
            if only:
                pages = [p for p in pages if p[0] in only]
            if client_cores:
                os.sched_setaffinity(0, client_cores)
            return asyncio.run(_measure(server.url, admin.token, pages, repeat, chromium))
        finally:
            os.sched_setaffinity(0, mine)
            server.stop()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.page_cpu")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--pages", default="", help="comma-separated page names (default: every page)")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args(argv)
    res = run(args.repeat, [p.strip() for p in args.pages.split(",") if p.strip()] or None)
    print(f"chromium idle: {res['_idle_cpu_per_s']['cpu_s']:.3f} CPU-s per s")
    print("| page | chromium CPU-s (median) | loaded (s) | page bytes | map frame bytes |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, r in res.items():
        if not name.startswith("_"):
            print(f"| {name} | {r['cpu_s']:.2f} | {r['loaded_s']:.2f} | {r['page_bytes'] or 0:,} | {r['frame_bytes'] or 0:,} |")
    if args.json:
        args.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
