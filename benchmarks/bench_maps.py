"""Maps: the enterprises map at 20,000 and 100,000 enterprises: HTML size, build time, and time to
first render in headless Chromium (Debian's, via Playwright), served on loopback.

``python -m benchmarks maps`` (full: 20,000 and 100,000; ``--quick``: 2,000 and 10,000; ``--tiny``: 500).

What is measured, per size (median of 3 page loads, each in a fresh browser context):

* HTML size: the page as ``GET /maps/enterprises`` serves it (assets linked), and as
  ``parkplan map enterprises -o FILE.html`` writes it (assets inlined);
* build: ``maps.build_map("enterprises", ds)`` + render to HTML, in Python;
* first render: from navigation start to the first animation frame after the map's script has
  finished (every enterprise's circle marker created and drawn on the canvas; ``PARKPLAN.ready``);
* zoom redraw: ``map.zoomIn()`` to the frame after ``zoomend`` (how the canvas keeps up when used);
* JS heap: ``performance.memory.usedJSHeapSize`` after the first render.

The page and its assets are served by a small loopback HTTP server (no API, no login), every
request for another host is aborted.
"""

from __future__ import annotations

import os
import shutil
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import Report, check_size

__all__ = ["run", "SIZES_BY_RUN"]

SIZES_BY_RUN = {"full": (20_000, 100_000), "quick": (2_000, 10_000), "tiny": (500,)}
_LOADS = 3

_MEASURE = """
(() => {
  function poll() {
    if (window.PARKPLAN && window.PARKPLAN.ready) {
      requestAnimationFrame(() => requestAnimationFrame(() => { window.__ppFirstRender = performance.now(); }));
    } else { setTimeout(poll, 5); }
  }
  poll();
})();
"""


def _chromium() -> str | None:
    env = os.environ.get("PARKPLAN_CHROMIUM")
    if env and os.path.exists(env):
        return env
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _Server:
    """Serves one HTML page at /map and /maps/assets/... from maps.assets, on 127.0.0.1."""

    def __init__(self):
        from maps.assets import AssetError, media_type, read_asset

        pages: dict[str, bytes] = {}
        self.pages = pages

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server API
                path = urlsplit(self.path).path
                if path in pages:
                    body, ctype = pages[path], "text/html; charset=utf-8"
                elif path.startswith("/maps/assets/"):
                    try:
                        body, ctype = read_asset(path.removeprefix("/maps/assets/")), media_type(path)
                    except AssetError:
                        self.send_error(404)
                        return
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _load_once(browser, url: str) -> dict:
    blocked: list[str] = []
    errors: list[str] = []
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})

    def route(r):
        host = urlsplit(r.request.url).hostname
        if r.request.url.startswith("data:") or host == "127.0.0.1":
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    ctx.route("**/*", route)
    ctx.add_init_script(_MEASURE)
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load", timeout=300_000)
    deadline = time.time() + 300
    while page.evaluate("() => window.__ppFirstRender === undefined"):
        if time.time() > deadline:
            raise TimeoutError(f"{url}: no first render in 300 s; errors: {errors}")
        page.wait_for_timeout(20)
    first = page.evaluate("() => window.__ppFirstRender")
    heap = page.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize : null")
    zoom = page.evaluate("""() => new Promise(resolve => {
        const m = PARKPLAN.maps[0];
        const t0 = performance.now();
        m.once('zoomend', () => requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0))));
        m.zoomIn(1, {animate: false});
    })""")
    n_points = page.evaluate("() => PARKPLAN.count('enterprises')")
    ctx.close()
    return {"first_render_ms": first, "zoom_ms": zoom, "heap_bytes": heap, "points": n_points,
            "blocked": blocked, "errors": errors}


def _bench_size(ds, browser, server, n: int, renderer: str) -> dict:
    from maps import inline_assets, render_html
    from maps.enterprises_map import enterprises_map

    t, c = time.perf_counter(), time.process_time()
    html = render_html(enterprises_map(ds, renderer=renderer))
    build_s, build_cpu_s = time.perf_counter() - t, time.process_time() - c
    served = html.encode("utf-8")
    inlined = inline_assets(html).encode("utf-8")
    server.pages[f"/map{n}{renderer}"] = served
    loads = [_load_once(browser, f"{server.url}/map{n}{renderer}") for _ in range(_LOADS)]
    return {
        "enterprises": n,
        "renderer": renderer,
        "html_bytes": len(served),
        "inlined_bytes": len(inlined),
        "build_s": build_s,
        "build_cpu_s": build_cpu_s,
        "first_render_ms": statistics.median(x["first_render_ms"] for x in loads),
        "first_render_all_ms": [round(x["first_render_ms"]) for x in loads],
        "zoom_ms": statistics.median(x["zoom_ms"] for x in loads),
        "heap_mb": (loads[-1]["heap_bytes"] or 0) / 2**20,
        "points": loads[-1]["points"],
        "blocked": sum(len(x["blocked"]) for x in loads),
        "errors": sum(len(x["errors"]) for x in loads),
    }


def _limits(ds, n: int) -> list[dict]:
    """Beside the map's build, on the same enterprises: the physical limit (only writing the
    coordinate arrays as JSON, orjson, no names, no page) and the peer (folium's FastMarkerCluster
    built and rendered: coordinates only, no popups, no sectors, its assets from CDNs)."""
    import folium
    import numpy as np
    import orjson
    from folium.plugins import FastMarkerCluster

    ent = ds.enterprises.to_crs(4326)
    lon, lat = ent.geometry.x.to_numpy(), ent.geometry.y.to_numpy()
    out = []
    t, c = time.perf_counter(), time.process_time()
    text = orjson.dumps({"lat": np.round(lat, 5), "lon": np.round(lon, 5)}, option=orjson.OPT_SERIALIZE_NUMPY)
    out.append({"enterprises": n, "what": "limit: the coordinate arrays alone to JSON (orjson)",
                "bytes": len(text), "build_s": time.perf_counter() - t, "build_cpu_s": time.process_time() - c})
    t, c = time.perf_counter(), time.process_time()
    m = folium.Map(tiles=None)
    FastMarkerCluster(np.column_stack([lat, lon]).tolist()).add_to(m)
    html = m.get_root().render()
    out.append({"enterprises": n, "what": "peer: folium `FastMarkerCluster` (coordinates only), build + render",
                "bytes": len(html.encode("utf-8")), "build_s": time.perf_counter() - t,
                "build_cpu_s": time.process_time() - c})
    return out


def run(size: str = "full", browser=None) -> Report:
    """Run the benchmark; ``browser``: a Playwright browser already launched (else one is launched)."""
    from . import _data

    check_size(size)
    chromium = _chromium()
    if chromium is None and browser is None:
        return Report("maps", "Maps: enterprises map in Chromium", "Not run: no chromium (install Debian's chromium).")
    rows = []
    limits: list[dict] = []
    server = _Server()

    def measure(b):
        for n in SIZES_BY_RUN[size]:
            ds = _data.prepared(n)
            for renderer in ("points", "circlemarkers"):
                rows.append(_bench_size(ds, b, server, n, renderer))
            limits.extend(_limits(ds, n))

    try:
        if browser is not None:
            measure(browser)
        else:
            from playwright.sync_api import sync_playwright

            with sync_playwright() as pw:
                b = pw.chromium.launch(executable_path=chromium, headless=True,
                                       args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                             "--disable-dev-shm-usage"])
                try:
                    measure(b)
                finally:
                    b.close()
    finally:
        server.close()
    lines = ["| enterprises | renderer | HTML served | HTML self-contained (`parkplan map`) | build (Python): wall / CPU "
             "| first render in Chromium (median of 3) | zoom-in redraw | JS heap | points drawn |",
             "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        label = "**points** (default)" if r["renderer"] == "points" else "circlemarkers (reference)"
        lines.append(f"| {r['enterprises']:,} | {label} | {r['html_bytes'] / 1e6:.1f} MB | {r['inlined_bytes'] / 1e6:.1f} MB | "
                     f"{r['build_s']:.2f} s / {r['build_cpu_s']:.2f} s | {r['first_render_ms'] / 1000:.2f} s | "
                     f"{r['zoom_ms']:.0f} ms | {r['heap_mb']:.0f} MiB | {r['points']:,} |")
        if r["renderer"] == "circlemarkers":
            for lim in (x for x in limits if x["enterprises"] == r["enterprises"]):
                lines.append(f"| {lim['enterprises']:,} | {lim['what']} | {lim['bytes'] / 1e6:.1f} MB |  | "
                             f"{lim['build_s']:.2f} s / {lim['build_cpu_s']:.2f} s |  |  |  |  |")
    notes = (
        "\n\n`points` (the default): `PARKPLAN.PointLayer`, each sector's points drawn straight onto a canvas "
        "from the column arrays, no Leaflet object per point. `circlemarkers`: Leaflet's own way, one "
        "`L.circleMarker` per point on a shared `L.canvas` renderer (`enterprises_map(renderer=\"circlemarkers\")`), "
        "kept as the reference. First render = navigation start to the first animation frame after the map "
        "script finished (every point drawn; heat layer off, as by default). Runs (ms): "
        + "; ".join(f"{r['enterprises']:,} {r['renderer']}: {r['first_render_all_ms']}" for r in rows)
        + f". Requests to other hosts: {sum(r['blocked'] for r in rows)}; page errors: {sum(r['errors'] for r in rows)}. "
        "Build = `render_html(enterprises_map(ds))` in this process (wall / CPU seconds; the machine is shared). "
        "The map's columns are compact (`maps.columns`: coordinates as integers of 1e-5 degrees, ids as "
        "differences) and decoded by `PARKPLAN.columns` in the page. "
        "Headless Chromium with `--disable-gpu` (software canvas), served by a loopback HTTP server (no API), "
        "1400x900 viewport, dataset: built-in Zhejiang, seed 7 (`benchmarks/_data.py`)."
    )
    return Report("maps", "Maps: enterprises map, HTML size and time to first render in Chromium",
                  "\n".join(lines) + notes, data={"rows": rows, "limits": limits})
