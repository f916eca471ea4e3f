"""Fixtures for the map tests: a dataset whose names are hostile, one uvicorn server of the app over it
on 127.0.0.1, tokens, and one headless Chromium (Debian's, driven by Playwright) per session.

Browser tests are marked ``browser``; without chromium they are skipped, except in CI (``CI`` set),
where a missing chromium fails them.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_SCRIPT = "</script><script>alert(2)</script>"


def chromium_path() -> str | None:
    env = os.environ.get("PARKPLAN_CHROMIUM")
    if env and Path(env).exists():
        return env
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def hostile_dataset(raw_dataset):
    """The session's raw dataset with a park, a county and two enterprises renamed to script injections."""
    parks = raw_dataset.parks.copy()
    parks.loc[parks.index[0], "name"] = HOSTILE
    parks.loc[parks.index[1], "name"] = HOSTILE_SCRIPT
    counties = raw_dataset.counties.copy()
    counties.loc[counties.index[0], "name"] = HOSTILE
    ent = raw_dataset.enterprises.copy()
    ent.loc[ent.index[0], "name"] = HOSTILE
    ent.loc[ent.index[1], "name"] = HOSTILE_SCRIPT
    return replace(raw_dataset, parks=parks, counties=counties, enterprises=ent)


@pytest.fixture(scope="session")
def hostile_prepared(hostile_dataset):
    from parks.joins import prepare

    return prepare(hostile_dataset)


@pytest.fixture(scope="session")
def hostile_path(hostile_dataset, tmp_path_factory):
    from geodata.dataset import save_dataset

    return save_dataset(hostile_dataset, tmp_path_factory.mktemp("maps") / "hostile.gpkg")


@pytest.fixture(scope="session")
def map_app(hostile_path, tmp_path_factory):
    from api.app import create_app

    db = tmp_path_factory.mktemp("mapsdb") / "reviews.sqlite"
    return create_app(hostile_path, db_url=f"sqlite:///{db}")


@pytest.fixture(scope="session")
def tokens(map_app):
    from api.auth import create_token

    out = {}
    with map_app.state.sessions() as db:
        for role in ("viewer", "analyst", "admin"):
            out[role], _ = create_token(db, role, label=f"maps-{role}")
        db.commit()
    return out


@pytest.fixture(scope="session")
def server(map_app, tokens, serve_app):
    """The app served by uvicorn on 127.0.0.1 in a thread; yields its base URL."""
    return serve_app(map_app)


@pytest.fixture(scope="session")
def browser():
    path = chromium_path()
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is missing in CI: install Debian's chromium (scripts/test does as root)")
        pytest.skip("chromium not installed (set PARKPLAN_CHROMIUM or install Debian's chromium)")
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    b = pw.chromium.launch(executable_path=path, headless=True,
                           args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                 "--disable-component-update", "--disable-dev-shm-usage"])
    yield b
    b.close()
    pw.stop()


def set_zoom(page, zoom: float, center: tuple[float, float] | None = None) -> None:
    """Zoom the page's first map (to ``center``, lat/lon, when given) without animation. The script returns nothing:
    Leaflet's ``setZoom`` and ``setView`` return the map, and Playwright would serialise its whole object graph back
    to Python (6 to 8 s a call in chromium here, against 50 ms for the zoom itself)."""
    page.evaluate("""([z, c]) => { const m = PARKPLAN.maps[0];
      if (c) { m.setView(c, z, {animate: false}); } else { m.setZoom(z, {animate: false}); } }""",
                  [zoom, list(center) if center is not None else None])


class PageRun:
    """A page with every non-loopback request blocked and recorded, console errors and dialogs recorded."""

    def __init__(self, browser, token: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 900},
                                           extra_http_headers={"Authorization": f"Bearer {token}"})
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", self._dialog)

    def _route(self, route):
        url = route.request.url
        host = urlsplit(url).hostname
        if url.startswith(("data:", "blob:", "about:")) or host in ("127.0.0.1", "localhost", "::1"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def _dialog(self, dialog):
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def open(self, url: str, timeout_ms: int = 60000):
        resp = self.page.goto(url, wait_until="load", timeout=timeout_ms)
        # polled with evaluate: the page's Content-Security-Policy forbids the eval wait_for_function uses
        deadline = time.time() + timeout_ms / 1000
        while not self.page.evaluate("() => !!(window.PARKPLAN && window.PARKPLAN.ready)"):
            if time.time() > deadline:
                raise TimeoutError(f"{url} did not finish rendering; console errors: {self.errors}")
            self.page.wait_for_timeout(100)
        return resp

    def close(self):
        self.context.close()


@pytest.fixture
def page_run(browser, server, tokens):
    runs = []

    def make(role: str = "analyst") -> PageRun:
        run = PageRun(browser, tokens[role])
        runs.append(run)
        return run

    yield make
    for run in runs:
        run.close()
