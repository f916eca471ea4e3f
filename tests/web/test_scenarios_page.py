"""``/ui/scenarios``: the planner's report page, served by the app over the hostile-names dataset, in
Chinese and English, for analysts only; in headless chromium the tables render and the flow map in its
iframe draws its arcs without console errors, dialogs or requests leaving the machine."""

from __future__ import annotations

import html
import re
import time

import pytest

from api.routes import scenarios as scenario_route
from api.web import pages_scenarios

from .conftest import HOSTILE, login_client
from .test_browser import Watch, login, new_context, not_blank


def test_while_computing_the_page_says_so_and_reloads(web, monkeypatch):
    """First of the module: no plan of this app is computed yet; a page that may not wait shows the notice."""
    monkeypatch.setattr(pages_scenarios, "PAGE_WAIT_S", 0.0)
    client = login_client(web.app, web.tokens["analyst"])
    with web.app.state.parkplan.plan_lock:  # the background computation waits until this block ends
        key_future = scenario_route.plan_future(web.app, "coastal-transfer")
        if key_future.done():
            pytest.skip("the coastal-transfer plan of this app was computed before this test")
        r = client.get("/ui/scenarios?scenario=coastal-transfer")
    assert r.status_code == 200
    assert 'id="plan-computing"' in r.text and "方案正在计算" in r.text
    assert re.search(r'<meta http-equiv="refresh" content="\d+">', r.text)
    assert r.headers["refresh"] == str(pages_scenarios.REFRESH_S)
    key_future.result(timeout=600)
    monkeypatch.setattr(pages_scenarios, "PAGE_WAIT_S", 600.0)
    r = client.get("/ui/scenarios?scenario=coastal-transfer")
    assert 'id="plan-computing"' not in r.text and 'id="table-summary"' in r.text


def test_page_in_chinese_with_the_report_tables(web):
    client = login_client(web.app, web.tokens["analyst"])
    r = client.get("/ui/scenarios")
    assert r.status_code == 200
    html = r.text
    assert "搬迁安置方案评估" in html and "联合方案（全部情景）" in html
    for table in ("summary", "distance-bands", "top-parks", "park-land", "park-load", "unplaced", "flows"):
        assert f'id="table-{table}"' in html, table
    for header in ("搬迁距离中位数（公里）", "留在本县比例", "留在本市比例", "0–10 公里", "100 公里以上", "原因",
                   "剩余可用土地（公顷）"):
        assert header in html, header
    assert " km" not in html  # the distance bands in Chinese, not as the report writes them in English
    assert 'id="flows-map"' in html and 'src="/scenarios/all/map"' in html
    assert 'href="/scenarios/all/plan.xlsx"' in html
    assert 'id="bands-chart"' in html and 'src="data:image/svg+xml;base64,' in html
    # the summary shows the joint plan's numbers, as the API serves them
    done = scenario_route.get_plan(web.app, "all")
    row = done.report.summary.set_index("scenario").loc["all"]
    assert f"{int(row['assigned']):,}" in html
    assert HOSTILE not in html  # names are escaped (the first park's name is an <img onerror>)


def test_page_in_english_and_the_picker(web):
    client = login_client(web.app, web.tokens["analyst"])
    r = client.get("/ui/scenarios?scenario=urban-core&lang=en")
    assert r.status_code == 200
    assert "Relocation plans: the planner's report" in html.unescape(r.text) and "Median move (km)" in r.text
    bands = r.text[r.text.index('id="table-distance-bands"'):]
    bands = bands[:bands.index("</thead>")]
    assert "<th" in bands and "0-10 km" in bands and "100+ km" in bands and "公里" not in bands
    assert '<option value="urban-core" selected>' in r.text
    assert 'src="/scenarios/urban-core/map?lang=en"' in r.text
    assert 'href="/scenarios/urban-core/plan.xlsx?lang=en"' in r.text
    # an unknown scenario falls back to the joint plan
    r = client.get("/ui/scenarios?scenario=nowhere")
    assert '<option value="all" selected>' in r.text


def test_only_analysts_and_up(web):
    client = login_client(web.app, web.tokens["viewer"])
    r = client.get("/ui/scenarios")
    assert r.status_code == 403
    page = {"Accept": "text/html"}
    home = client.get("/", headers=page).text
    assert 'id="page-links"' in home and "/ui/scenarios" not in home
    assert 'id="link-scenarios"' in login_client(web.app, web.tokens["analyst"]).get("/", headers=page).text
    from fastapi.testclient import TestClient

    r = TestClient(web.app, base_url="http://127.0.0.1").get("/ui/scenarios", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


@pytest.mark.browser
def test_page_in_chromium(web_browser, server, web, tmp_path):
    web_browser.run(_page_in_chromium, server, web, tmp_path)


def _page_in_chromium(browser, server, web, tmp_path):
    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, web.tokens["analyst"])
    page.goto(server + "/ui/scenarios?scenario=urban-core", wait_until="load", timeout=600_000)
    # the Chinese tables as the browser shows them
    heads = page.locator("#table-summary thead th").all_inner_texts()
    assert "搬迁距离中位数（公里）" in heads and "留在本市比例" in heads
    assert page.locator("#table-summary tbody tr").count() == 1
    assert page.locator("#table-top-parks tbody tr").count() >= 1
    assert page.locator("#table-distance-bands tbody tr td").first.inner_text() == "城区企业退城入园"
    # the flow map in its iframe: loaded, its script ran, arcs or within-county circles drawn
    frame = page.frame_locator("#flows-map")
    page.locator("#flows-map").scroll_into_view_if_needed()
    map_frame = _wait_for_frame(page, "/scenarios/urban-core/map")
    map_frame.wait_for_function("window.PARKPLAN && PARKPLAN.ready === true", timeout=120_000)
    drawn = frame.locator(".pp-flow, .pp-flow-within").count()
    assert drawn > 0
    assert "县际流向" in frame.locator(".leaflet-control").first.inner_text() or \
        "县际流向" in map_frame.evaluate("document.body.innerText")
    # sorting a column works (the page's own script)
    page.locator("#table-top-parks thead th").nth(4).click()
    png = page.screenshot(full_page=True)
    (tmp_path / "scenarios.png").write_bytes(png)
    assert not_blank(png) > 5
    page.wait_for_load_state("networkidle")
    ctx.close()
    watch.assert_clean()


def _wait_for_frame(page, path: str, timeout_s: float = 120.0):
    """The page's frame whose URL ends with ``path``, once the (lazy) iframe has navigated to it; under load it
    may start after the page's load event."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = next((f for f in page.frames if f.url.endswith(path)), None)
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"no frame loaded {path} within {timeout_s:.0f} s; frames: {[f.url for f in page.frames]}")
        page.wait_for_timeout(250)
