"""``/ui/plan``: the targets with progress bars and charts, the county table and map, overdue projects,
chains and key enterprises; Chinese by default; an edited targets file changes the page; and the page in
headless chromium (progress bars and charts present and drawn, no console errors, nothing leaves the
machine, hostile names stay text)."""

from __future__ import annotations

import re

import pytest

from ..parks.monitoring.plan_layers import HOSTILE_NAME, plan_dataset_file
from .conftest import login_client
from .test_browser import Watch, login, new_context, not_blank


@pytest.fixture(scope="module")
def plan_web(raw_dataset, tmp_path_factory):
    from types import SimpleNamespace

    from api.app import create_app
    from api.auth import create_token

    d = tmp_path_factory.mktemp("planweb")
    path = plan_dataset_file(raw_dataset, d / "plan.gpkg")
    app = create_app(path, f"sqlite:///{d / 'reviews.sqlite'}")
    with app.state.sessions() as db:
        tokens = {role: create_token(db, role, label=role)[0] for role in ("viewer", "analyst")}
        db.commit()
    return SimpleNamespace(app=app, tokens=tokens, client=login_client(app, tokens["analyst"]))


def _edited_targets(tmp, value: int):
    from geodata.targets import builtin_targets_path

    text = builtin_targets_path().read_text(encoding="utf-8")
    p = tmp / f"t{value}.toml"
    p.write_text(text.replace("target_value = 25\n", f"target_value = {value}\n"), encoding="utf-8")
    return p


def _card(html: str, target_id: str) -> str:
    m = re.search(rf'<div class="card target" id="target-{target_id}".*?</div>', html, re.S)
    assert m, target_id
    return m.group(0)


def test_page_in_chinese_with_targets_charts_counties_and_lists(plan_web, monkeypatch):
    monkeypatch.delenv("PARKPLAN_TARGETS", raising=False)
    c = plan_web.client
    r = c.get("/ui/plan")
    assert r.status_code == 200
    html = r.text
    assert '<html lang="zh-CN">' in html and "计划目标" in html and "逾期项目" in html
    assert html.count("<progress") == 8 and html.count('class="chart target-chart"') == 8
    assert 'id="county-map" src="data:image/svg+xml;base64,' in html
    assert html.count("<tr>", html.index('id="county-table"')) >= len(plan_web.app.state.dataset.counties)
    # the plan's own sentences, quoted
    assert "力争有5家企业年销售收入达到100亿元以上" in html and "重点建好100个乡镇工业专业区和100个特色工业园区" in html
    # names from the data are escaped text
    assert HOSTILE_NAME not in html and "&lt;img src=x onerror=alert(1)&gt;有限公司" in html
    en = c.get("/ui/plan?lang=en").text
    assert '<html lang="en">' in en and "The plan&#39;s targets" in en and "Overdue projects" in en
    # the key-enterprise filter lists small giants only
    sg = c.get("/ui/plan?key=small_giant").text
    rows = re.findall(r'<tr class="key-row">(.*?)</tr>', sg, re.S)
    ent = plan_web.app.state.dataset.enterprises
    assert len(rows) == min(200, int(ent["small_giant"].sum()))
    assert all(re.findall(r"<td>(✔|)</td>", row)[-1] == "✔" for row in rows)
    # access and bad parameters
    assert login_client(plan_web.app, plan_web.tokens["viewer"]).get("/ui/plan").status_code == 403
    assert c.get("/ui/plan?year=abc").status_code == 400 and c.get("/ui/plan?key=<b>").status_code == 400


def test_an_edited_target_changes_the_page(plan_web, monkeypatch, tmp_path):
    c = plan_web.client
    # targets above any share the data can have, so neither progress bar is full
    monkeypatch.setenv("PARKPLAN_TARGETS", str(_edited_targets(tmp_path, 400)))
    a = _card(c.get("/ui/plan").text, "high_tech_share")
    monkeypatch.setenv("PARKPLAN_TARGETS", str(_edited_targets(tmp_path, 200)))
    b = _card(c.get("/ui/plan").text, "high_tech_share")
    # full-width brackets and colon in Chinese, ASCII in English
    assert "目标值（2005）：400.00" in a and "目标值（2005）：200.00" in b
    assert "(2005)" not in a and ": " not in re.sub(r"<[^>]*>", "", a)
    en = _card(c.get("/ui/plan?lang=en").text, "high_tech_share")
    assert "Target (2005): 200.00" in en
    value = re.compile(r'<strong class="value">([^<]*)</strong>')
    assert value.search(a).group(1) == value.search(b).group(1)
    prog = re.compile(r'<progress class="target-progress" max="1" value="([^"]*)"')
    pa, pb = float(prog.search(a).group(1)), float(prog.search(b).group(1))
    assert 0 < pa < pb < 1 and pb == pytest.approx(2 * pa)


@pytest.mark.browser
def test_page_in_chromium(web_browser, serve_app, plan_web, tmp_path, monkeypatch):
    monkeypatch.delenv("PARKPLAN_TARGETS", raising=False)
    server = serve_app(plan_web.app)
    web_browser.run(_in_chromium, server, plan_web.tokens["analyst"], tmp_path)


def _in_chromium(browser, server, token, tmp_path):
    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, token)
    page.goto(server + "/ui/plan", wait_until="load")
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "计划目标" in page.locator("main").inner_text()
    bars = page.locator("progress.target-progress")
    assert bars.count() == 8
    values = bars.evaluate_all("bs => bs.map(b => b.value)")
    assert all(0 <= v <= 1 for v in values) and any(v > 0 for v in values)
    charts = page.locator("img.target-chart")
    assert charts.count() == 8
    sizes = charts.evaluate_all("is => is.map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
    assert all(ok and w > 100 and h > 50 for ok, w, h in sizes), sizes
    assert page.locator("#county-map").evaluate("i => i.naturalWidth") > 100
    assert page.locator("#overdue-table tbody tr").count() > 0
    assert HOSTILE_NAME in page.locator("#key-table").inner_text()
    png = page.screenshot(full_page=True)
    (tmp_path / "plan.png").write_bytes(png)
    assert not_blank(png) > 5
    # the key-enterprise filter, through the form
    page.select_option("#key-select", "key_enterprise")
    with page.expect_navigation():
        page.click("#plan-form button[type=submit]")
    assert "key=key_enterprise" in page.url and page.locator("#key-table tbody tr").count() > 0
    page.goto(server + "/ui/plan?lang=en", wait_until="load")
    assert "The plan's targets" in page.locator("main").inner_text()
    watch.assert_clean()
    ctx.close()


def test_plan_charts_draw_chinese_in_the_packaged_font(recwarn):
    """Every text of the /ui/plan charts is set in the packaged CJK font: no glyph falls back to a font that lacks it."""
    from api.web.pages_plan import target_chart

    svg = target_chart([2001, 2002, 2003], [1.0, 2.0, None], [1.0, 1.12, 1.25], title="技术改造投资（亿元）",
                       unit="亿元", value_label="实际值", path_label="目标路径")
    assert svg.startswith("data:image/svg+xml;base64,")
    assert not [str(w.message) for w in recwarn if "missing from font" in str(w.message)]
