"""The web workspace in headless Debian chromium (Playwright's Python package, ``executable_path``)
against a real uvicorn server of the app on 127.0.0.1, with every request that would leave the
loopback interface blocked and recorded. The browser lives in a worker thread of its own
(``conftest.BrowserThread``) so that it coexists with the maps tests' session-wide Playwright.
"""

from __future__ import annotations

import re
from urllib.parse import urlparse

import httpx
import pytest

from .conftest import HOSTILE

pytestmark = pytest.mark.browser

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


class Watch:
    """What the pages of one browser context did: console errors, page errors, dialogs (an injected
    ``alert`` would open one), requests blocked for leaving the machine, and requests for ``x`` (the
    ``src`` of the hostile ``<img>``)."""

    def __init__(self):
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.blocked: list[str] = []
        self.injected: list[str] = []

    def attach(self, page):
        page.on("console", lambda m: self.errors.append(f"{m.location.get('url')}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda e: self.errors.append(f"{page.url}: {e}"))
        page.on("dialog", self._dialog)
        page.on("request", lambda r: self.injected.append(r.url) if urlparse(r.url).path.endswith("/x") else None)

    def _dialog(self, dialog):
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def assert_clean(self):
        assert self.errors == [], self.errors
        assert self.dialogs == [], f"a script ran: {self.dialogs}"
        assert self.injected == [], f"the hostile <img> was created: {self.injected}"
        assert self.blocked == [], f"requests tried to leave the machine: {self.blocked}"


def new_context(browser, watch: Watch, lang: str = "zh-CN"):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale=lang)

    def route(r):
        url = r.request.url
        if url.startswith(("data:", "blob:", "about:")) or urlparse(url).hostname in LOOPBACK:
            r.continue_()
        else:
            watch.blocked.append(url)
            r.abort()

    ctx.route("**/*", route)
    ctx.on("page", watch.attach)
    return ctx


def login(ctx, server: str, token: str):
    page = ctx.new_page()
    page.goto(f"{server}/login")
    page.fill("#token", token)
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")
    assert "/login" not in page.url, page.content()[:500]
    return page


def not_blank(png: bytes) -> float:
    """Grey-level standard deviation of a screenshot (a blank page is ~0)."""
    import io

    from PIL import Image, ImageStat

    img = Image.open(io.BytesIO(png)).convert("L")
    return ImageStat.Stat(img).stddev[0]


def candidate_ids(page) -> set[str]:
    return set(page.locator("#candidates tbody tr").evaluate_all("rows => rows.map(r => r.dataset.candidate)"))


def test_every_page_renders_without_errors_or_injected_script(web_browser, server, web, tmp_path):
    web_browser.run(_every_page_renders_without_errors_or_injected_script, server, web, tmp_path)


def _every_page_renders_without_errors_or_injected_script(browser, server, web, tmp_path):
    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, web.tokens["admin"])
    hostile_park = str(web.app.state.dataset.parks["park_id"].iloc[0])
    eid = str(web.app.state.dataset.enterprises["enterprise_id"].iloc[7])
    pages = {
        "home": "/",
        "parks": "/ui/parks",
        "park": f"/ui/parks/{hostile_park}",
        "suitability_search": "/ui/suitability?q=%E6%9C%89%E9%99%90%E5%85%AC%E5%8F%B8",
        "suitability": f"/ui/suitability?enterprise_id={eid}",
        "review": "/ui/review",
        "candidate": f"/ui/review/{web.hostile_candidate or web.candidates['a'][0]}",
        "metrics": "/ui/metrics?sector=textiles",
    }
    spreads = {}
    for name, path in pages.items():
        page.goto(server + path, wait_until="load")
        page.wait_for_load_state("networkidle")
        assert page.locator("main").count() == 1, name
        png = page.screenshot(full_page=False)
        (tmp_path / f"{name}.png").write_bytes(png)
        spreads[name] = not_blank(png)
    assert all(s > 5 for s in spreads.values()), spreads
    # the hostile names are on the pages as text
    page.goto(server + "/ui/parks")
    assert HOSTILE in page.locator("#parks-table td.pname").first.inner_text()
    page.goto(server + f"/ui/parks/{hostile_park}")
    assert HOSTILE in page.locator("#park-name").inner_text()
    # sorting and filtering in the page script
    page.goto(server + "/ui/parks")
    page.click("#parks-table thead th:nth-child(6)")
    page.click("#parks-table thead th:nth-child(6)")  # descending by area
    areas = page.locator("#parks-table tbody tr td:nth-child(6)").evaluate_all("c => c.map(x => parseFloat(x.dataset.v))")
    assert areas == sorted(areas, reverse=True)
    page.select_option("#f-kind", "specialty_park")
    shown = int(page.locator("#shown-count").inner_text())
    assert shown == int((web.app.state.dataset.parks["kind"] == "specialty_park").sum())
    watch.assert_clean()
    ctx.close()


def test_two_offices_see_their_own_and_a_stale_decision_is_refused(web_browser, server, web):
    web_browser.run(_two_offices_see_their_own_and_a_stale_decision_is_refused, server, web)


def _two_offices_see_their_own_and_a_stale_decision_is_refused(browser, server, web):
    from api import reviews
    from api.auth import Principal

    cid = web.candidates["a"][0]
    watch = Watch()
    ctx_a, ctx_d = new_context(browser, watch), new_context(browser, watch)
    page_a = login(ctx_a, server, web.tokens["reviewer_a"])
    page_d = login(ctx_d, server, web.tokens["reviewer_dest"])
    for page, office in ((page_a, web.offices["a"]), (page_d, web.offices["dest"])):
        page.goto(f"{server}/ui/review")
        expected = {c for c, (o, d) in web.rows.items() if office in (o, d)}
        assert candidate_ids(page) == expected
    assert web.candidates["b"][0] not in candidate_ids(page_a)
    # both offices open the same candidate; A decides first
    page_a.goto(f"{server}/ui/review/{cid}")
    page_d.goto(f"{server}/ui/review/{cid}")
    version = int(page_d.locator("#candidate-version").inner_text())
    page_a.check("#decision-approved")
    page_a.fill("#comment", "同意：迁入园区")
    page_a.click("#submit-decision")  # submitted in place (static/review.js): the card shows the saved decision
    page_a.wait_for_selector("#decision-card #saved")
    assert page_a.locator("#saved").count() == 1
    assert page_a.locator("#candidate-version").inner_text() == str(version + 1)
    # the destination office's page is stale: its rejection must not overwrite the approval
    page_d.check("#decision-rejected")
    page_d.fill("#comment", "不同意")
    page_d.click("#submit-decision")
    page_d.wait_for_selector("#decision-card #conflict")
    assert page_d.locator("#conflict").count() == 1
    assert "同意：迁入园区" in page_d.locator("#conflict").inner_text()
    assert page_d.locator("#candidate-status").get_attribute("class").split() == ["status", "approved"]
    with web.app.state.sessions() as db:
        admin = Principal(0, "test", "admin")
        c = reviews.get_candidate(db, admin, cid)
        assert (c.status, c.version) == ("approved", version + 1)
        assert [r.decision for r in reviews.candidate_reviews(db, cid)] == ["approved"]
    # another office's candidate is 404 in the browser too: office A (an origin office) opens one of
    # office B's (office B's may go to the destination office's county, so not page_d)
    foreign = web.candidates["b"][0]
    assert web.offices["a"] not in web.rows[foreign]
    resp = page_a.goto(f"{server}/ui/review/{foreign}")
    assert resp.status == 404
    watch.errors = [e for e in watch.errors if "404" not in e]  # the 404 just asked for
    watch.assert_clean()
    ctx_a.close()
    ctx_d.close()


def test_a_weight_change_ranks_as_the_api_does(web_browser, server, web):
    web_browser.run(_a_weight_change_ranks_as_the_api_does, server, web)


def _a_weight_change_ranks_as_the_api_does(browser, server, web):
    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, web.tokens["analyst"])
    eid = str(web.app.state.dataset.enterprises["enterprise_id"].iloc[7])
    page.goto(f"{server}/ui/suitability?enterprise_id={eid}")
    before = page.locator("#ranked tbody tr").evaluate_all("rows => rows.map(r => r.dataset.park)")
    page.fill("#w_distance", "90")
    page.fill("#w_sector_fit", "2")
    assert page.locator("output[for=w_distance]").inner_text() == "90"
    with page.expect_navigation():
        page.click("#compute")
    after = page.locator("#ranked tbody tr").evaluate_all("rows => rows.map(r => r.dataset.park)")
    weights = {k[2:]: float(v) for k, v in page.locator("input[type=range]").evaluate_all(
        "xs => xs.map(x => [x.name, x.value])")}
    assert weights["distance"] == 90 and weights["sector_fit"] == 2
    api = httpx.post(f"{server}/suitability", json={"enterprise_id": eid, "weights": weights, "top": 20},
                     headers={"Authorization": f"Bearer {web.tokens['analyst']}"}).json()
    assert after == [r["park_id"] for r in api["ranked"]]
    assert after and after != before
    watch.assert_clean()
    ctx.close()


def test_logout_ends_the_session(web_browser, server, web):
    web_browser.run(_logout_ends_the_session, server, web)


def _logout_ends_the_session(browser, server, web):
    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, web.tokens["viewer"])
    page.goto(f"{server}/ui/parks")
    cookies = [c for c in ctx.cookies() if c["name"] == "parkplan_session"]
    assert cookies and cookies[0]["httpOnly"] and cookies[0]["sameSite"] == "Strict"
    assert page.evaluate("document.cookie").find("parkplan_session") < 0  # not readable by scripts
    with page.expect_navigation():
        page.click("#logout")
    assert re.search(r"/login", page.url)
    page.goto(f"{server}/ui/parks")
    assert "/login" in page.url
    # the old cookie, replayed in a fresh context, opens nothing
    other = new_context(browser, watch)
    other.add_cookies(cookies)
    p2 = other.new_page()
    p2.goto(f"{server}/ui/parks")
    assert "/login" in p2.url
    watch.assert_clean()
    other.close()
    ctx.close()


def test_ahp_form_shows_the_consistency_ratio_and_refuses_inconsistency(web_browser, server, web):
    web_browser.run(_ahp_form_shows_the_consistency_ratio_and_refuses_inconsistency, server, web)


def _ahp_form_shows_the_consistency_ratio_and_refuses_inconsistency(browser, server, web):
    import numpy as np

    from parks.suitability import CRITERIA, ahp

    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, web.tokens["analyst"])
    eid = str(web.app.state.dataset.enterprises["enterprise_id"].iloc[7])
    page.goto(f"{server}/ui/suitability?enterprise_id={eid}")
    assert page.locator("#ahp").is_hidden()
    page.check("#mode-ahp")
    assert page.locator("#ahp").is_visible() and page.locator("#sliders").is_hidden()
    assert page.locator("#ahp-live-cr").inner_text() == "0.000"
    for sel, value in (("#ahp_0_1", "9"), ("#ahp_1_2", "9"), ("#ahp_0_2", "1/9")):
        page.select_option(sel, value)
    a = np.ones((9, 9))
    a[0, 1], a[1, 0], a[1, 2], a[2, 1], a[0, 2], a[2, 0] = 9, 1 / 9, 9, 1 / 9, 1 / 9, 9
    expected = ahp(a, CRITERIA).cr
    live = float(page.locator("#ahp-live-cr").inner_text())
    assert live == pytest.approx(expected, abs=2e-3) and live >= 0.1
    with page.expect_navigation():
        page.click("#compute")
    assert page.locator("#ahp-cr.alert").count() == 1 and page.locator("#ranked").count() == 0
    assert float(page.locator("#cr-value").inner_text()) == pytest.approx(expected, abs=5e-4)
    watch.assert_clean()
    ctx.close()


def test_clicking_a_park_row_highlights_it_on_the_map(web_browser, server, web):
    web_browser.run(_clicking_a_park_row_highlights_it_on_the_map, server, web)


def _map_frame(page, selector: str):
    frame = page.locator(selector).element_handle().content_frame()
    for _ in range(300):  # polled: the map's CSP forbids the eval that wait_for_function uses
        if frame.evaluate("() => !!(window.PARKPLAN && window.PARKPLAN.ready)"):
            return frame
        page.wait_for_timeout(100)
    raise TimeoutError(f"the map in {selector} did not render")


def _clicking_a_park_row_highlights_it_on_the_map(browser, server, web):
    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, web.tokens["viewer"])
    page.goto(f"{server}/ui/parks", wait_until="load")
    frame = _map_frame(page, "#parks-map")
    ids = page.locator("#parks-table tbody tr").evaluate_all("rows => rows.map(r => r.dataset.park)")
    zoom0 = frame.evaluate("() => PARKPLAN.maps[0].getZoom()")
    for park_id in (ids[0], ids[5]):  # the first is the park with the hostile name
        page.locator(f'#parks-table tbody tr[data-park="{park_id}"] td.pname').click()
        for _ in range(50):
            if frame.evaluate("() => PARKPLAN.highlighted") == park_id:
                break
            page.wait_for_timeout(50)
        assert frame.evaluate("() => PARKPLAN.highlighted") == park_id
        assert frame.locator("path.pp-highlight").count() == 1  # the previous highlight is cleared
        assert page.locator("#parks-table tr.selected").evaluate_all("rs => rs.map(r => r.dataset.park)") == [park_id]
    assert frame.evaluate("() => PARKPLAN.maps[0].getZoom()") > zoom0  # zoomed to the park
    # the park's link still opens the park's page, without a highlight message
    with page.expect_navigation():
        page.locator(f'#parks-table tbody tr[data-park="{ids[1]}"] a').click()
    assert page.url.endswith(f"/ui/parks/{ids[1]}")
    watch.assert_clean()
    ctx.close()


def test_candidate_page_map_shows_this_candidate(web_browser, server, web):
    web_browser.run(_candidate_page_map_shows_this_candidate, server, web)


def _candidate_page_map_shows_this_candidate(browser, server, web):
    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, web.tokens["reviewer_a"])
    cid = web.hostile_candidate or web.candidates["a"][0]
    page.goto(f"{server}/ui/review/{cid}", wait_until="load")
    frame = _map_frame(page, "#candidate-map")
    counts = frame.evaluate("() => ['proposed', 'second', 'lines', 'site'].map(k => PARKPLAN.count(k))")
    assert counts == [1, 1, 2, 1]
    assert frame.locator("path.pp-site").count() == 1 and frame.locator("path.pp-line").count() == 2
    assert frame.locator(".leaflet-tooltip.pp-label").count() == 2  # the two parks named on the map
    watch.assert_clean()
    ctx.close()


def test_clicking_a_ranked_park_highlights_it_on_the_suitability_map(web_browser, server, web):
    web_browser.run(_clicking_a_ranked_park_highlights_it_on_the_suitability_map, server, web)


def _clicking_a_ranked_park_highlights_it_on_the_suitability_map(browser, server, web):
    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, web.tokens["analyst"])
    eid = str(web.app.state.dataset.enterprises["enterprise_id"].iloc[7])
    page.goto(f"{server}/ui/suitability?enterprise_id={eid}", wait_until="load")
    page.locator("#suit-map").scroll_into_view_if_needed()
    frame = _map_frame(page, "#suit-map")
    park_id = page.locator("#ranked tbody tr").nth(2).get_attribute("data-park")
    page.locator("#ranked tbody tr").nth(2).locator("td.pname").click()
    for _ in range(50):
        if frame.evaluate("() => PARKPLAN.highlighted") == park_id:
            break
        page.wait_for_timeout(50)
    assert frame.evaluate("() => PARKPLAN.highlighted") == park_id
    assert frame.locator("path.pp-highlight").count() == 1
    watch.assert_clean()
    ctx.close()
