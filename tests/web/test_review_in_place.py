"""The review decision submitted in place (``static/review.js``): in headless chromium against a real server, the
decision is stored, the page shows it without a new page (status, version, the saved message, the history's new
entry, escaped), the form answers a second decision, a stale version is refused with the Chinese conflict message,
and without JavaScript the plain form, its 303 and the candidate page still work. Over HTTP: the card alone is
answered only to the in-place header, rendered by the page's template."""

from __future__ import annotations

import re

import pytest

from maps.transfers_map import STATUS_COLORS

from .conftest import csrf_of, login_client, own_review_app
from .test_browser import Watch, login, new_context

CONFLICT_ZH = "其他人已先行作出决定，您的决定未保存。"


@pytest.fixture(scope="module")
def own(hostile_dataset_path, tmp_path_factory):
    """An app of its own (its own review database, one office with four candidates and a reviewer's token), so
    these decisions change no candidate the session's other tests read."""
    return own_review_app(hostile_dataset_path, tmp_path_factory.mktemp("inplace") / "reviews.sqlite", "in place", 901)


@pytest.fixture(scope="module")
def own_server(own, serve_app):
    return serve_app(own.app)


def _stored(own, cid: str) -> tuple[str, int, list[tuple[str, str]]]:
    from api import reviews
    from api.auth import Principal

    with own.app.state.sessions() as db:
        c = reviews.get_candidate(db, Principal(0, "test", "admin"), cid)
        return c.status, c.version, [(r.decision, r.comment) for r in reviews.candidate_reviews(db, cid)]


def _wait_until(page, ok, seconds: float = 30.0) -> None:
    for _ in range(int(seconds * 10)):
        if ok():
            return
        page.wait_for_timeout(100)
    raise AssertionError("timed out")


def _rgb(hex_color: str) -> str:
    r, g, b = (int(hex_color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def _map_status(frame) -> dict:
    """What a candidate's map draws of its status: the site's fill, the proposed line's colour, the legend's two
    swatches, the title's note and the site popup's status row (opened, read, closed)."""
    return frame.evaluate("""() => {
      const css = (el, p) => el ? getComputedStyle(el)[p] : null;
      const site = document.querySelector('path.pp-site');
      const line = [...document.querySelectorAll('path.pp-line')].find(p => p.getAttribute('stroke-dasharray') === null);
      const sw = k => document.querySelector(`.pp-legend-item[data-pp-key=${k}] i`);
      let popup = null;
      PARKPLAN.layers.site[0].eachLayer(l => { l.openPopup();
        const rows = [...document.querySelectorAll('.pp-popup tr')];
        popup = rows.length ? rows[rows.length - 1].querySelector('td').textContent : null; l.closePopup(); });
      const rgb = c => { const d = document.createElement('i'); d.style.color = c; document.body.appendChild(d);
                         const v = getComputedStyle(d).color; d.remove(); return v; };
      return {site: rgb(site.getAttribute('fill')), line: rgb(line.getAttribute('stroke')),
              legend_site: css(sw('site'), 'backgroundColor'), legend_line: css(sw('line_proposed'), 'borderTopColor'),
              note: document.querySelector('.pp-title-note').textContent, popup_status: popup};
    }""")


def _choose(page, decision: str, comment: str) -> None:
    page.check(f"#decision-{decision}")
    if page.locator("#confirm-replace").count():
        page.check("#confirm-replace")
    page.fill("#comment", comment)


@pytest.mark.browser
def test_a_decision_is_shown_in_place_and_the_form_takes_the_next(web_browser, own_server, own):
    web_browser.run(_decision_in_place, own_server, own)


def _decision_in_place(browser, server, own):
    cid = own.candidates[0]
    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, own.token)
    page.goto(f"{server}/ui/review/{cid}")
    _, version, history = _stored(own, cid)
    assert int(page.locator("#candidate-version").inner_text()) == version
    page.evaluate("() => { window.__sameDocument = true; }")  # gone if the page were loaded again
    navigations: list[str] = []
    page.on("framenavigated", lambda f: navigations.append(f.url) if f == page.main_frame else None)
    map_loads: list[str] = []
    page.on("framenavigated", lambda f: map_loads.append(f.url) if f != page.main_frame and "/maps/transfers" in f.url
            else None)
    _wait_until(page, lambda: any("/maps/transfers" in f.url for f in page.frames))
    frame = next(f for f in page.frames if "/maps/transfers" in f.url)
    frame.wait_for_load_state("load")
    _wait_until(page, lambda: frame.evaluate("() => typeof PARKPLAN.candidateStatus === 'function'"))
    frame.evaluate("() => { window.__sameMap = true; }")  # gone if the map were loaded again
    loads_before = len(map_loads)
    comment = "同意 <b>迁入</b> & 扩建"
    _choose(page, "approved", comment)
    page.click("#submit-decision")
    page.wait_for_selector("#decision-card #saved")
    assert page.evaluate("() => window.__sameDocument") is True and navigations == []
    assert page.url == f"{server}/ui/review/{cid}"
    assert page.locator("#saved").inner_text() == "决定已保存。"
    assert page.locator("#candidate-version").inner_text() == str(version + 1)
    assert page.locator("#candidate-status").inner_text() == "已批准"
    assert page.locator("#candidate-status").get_attribute("class").split() == ["status", "approved"]
    rows = page.locator("#history tbody tr")
    assert rows.count() == len(history) + 1
    last = rows.nth(rows.count() - 1)
    assert comment in last.inner_text() and "已批准" in last.inner_text()
    assert last.locator("b").count() == 0  # the comment is text, not markup
    assert _stored(own, cid) == ("approved", version + 1, [*history, ("approved", comment)])
    # the map draws the candidate's status: redrawn in place by the map's own script (not fetched nor drawn again),
    # as a fresh build of the map with the new status draws it
    _wait_until(page, lambda: frame.evaluate("() => document.documentElement.dataset.ppStatus") == "approved")
    assert frame.evaluate("() => window.__sameMap") is True and len(map_loads) == loads_before
    redrawn = _map_status(frame)
    assert redrawn["site"] == _rgb(STATUS_COLORS["approved"]) != _rgb(STATUS_COLORS["pending"])
    assert redrawn["note"].endswith(" · 已批准") and redrawn["popup_status"] == "已批准"
    fresh_page = ctx.new_page()
    fresh_page.goto(f"{server}/maps/transfers?candidate_id={cid}", wait_until="load")
    fresh = _map_status(fresh_page.main_frame)
    fresh_page.close()
    assert redrawn == fresh
    # the card's form now carries the new version and asks to confirm the replacement
    assert page.locator("#decision-form input[name=version]").get_attribute("value") == str(version + 1)
    assert page.locator("#confirm-replace").count() == 1
    _choose(page, "needs_info", "请补充环评")
    page.click("#submit-decision")
    page.wait_for_function("v => document.getElementById('candidate-version').textContent === v", arg=str(version + 2))
    assert page.locator("#saved").count() == 1 and page.locator("#candidate-status").inner_text() == "需补充材料"
    assert page.locator("#history tbody tr").count() == len(history) + 2
    assert _stored(own, cid)[:2] == ("needs_info", version + 2)
    assert navigations == []
    watch.assert_clean()
    ctx.close()


@pytest.mark.browser
def test_a_stale_version_is_refused_in_place_with_the_chinese_message(web_browser, own_server, own):
    web_browser.run(_stale_in_place, own_server, own)


def _stale_in_place(browser, server, own):
    cid = own.candidates[1]
    watch = Watch()
    ctx1, ctx2 = new_context(browser, watch), new_context(browser, watch)
    first, second = login(ctx1, server, own.token), login(ctx2, server, own.token)
    first.goto(f"{server}/ui/review/{cid}")
    second.goto(f"{server}/ui/review/{cid}")
    _, version, history = _stored(own, cid)
    _choose(first, "rejected", "用地不足")
    first.click("#submit-decision")
    first.wait_for_selector("#decision-card #saved")
    _choose(second, "approved", "同意迁入（我的意见）")
    second.click("#submit-decision")
    second.wait_for_selector("#decision-card #conflict")
    conflict = second.locator("#conflict").inner_text()
    assert CONFLICT_ZH in conflict and "用地不足" in conflict
    assert second.locator("#saved").count() == 0
    # the standing decision is shown, the reviewer's own comment kept for another try
    assert second.locator("#candidate-status").get_attribute("class").split() == ["status", "rejected"]
    assert second.locator("#candidate-version").inner_text() == str(version + 1)
    assert second.locator("#comment").input_value() == "同意迁入（我的意见）"
    assert _stored(own, cid) == ("rejected", version + 1, [*history, ("rejected", "用地不足")])
    watch.assert_clean()
    ctx1.close()
    ctx2.close()


@pytest.mark.browser
def test_without_javascript_the_form_posts_and_the_page_shows_the_decision(web_browser, own_server, own):
    web_browser.run(_no_js, own_server, own)


def _no_js(browser, server, own):
    cid = own.candidates[2]
    watch = Watch()
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN", java_script_enabled=False)
    ctx.on("page", watch.attach)
    page = login(ctx, server, own.token)
    page.goto(f"{server}/ui/review/{cid}")
    _, version, history = _stored(own, cid)
    _choose(page, "rejected", "无脚本的决定")
    with page.expect_navigation():
        page.click("#submit-decision")
    assert page.url.endswith(f"/ui/review/{cid}?saved=1")
    assert page.locator("#saved").inner_text() == "决定已保存。"
    assert page.locator("#candidate-version").inner_text() == str(version + 1)
    assert page.locator("#history tbody tr").count() == len(history) + 1
    assert _stored(own, cid) == ("rejected", version + 1, [*history, ("rejected", "无脚本的决定")])
    watch.assert_clean()
    ctx.close()


def test_the_card_alone_only_to_the_in_place_header(own):
    from api.web.pages_review import FRAGMENT_DECISION, FRAGMENT_HEADER

    cid = own.candidates[3]
    client = login_client(own.app, own.token)
    page = client.get(f"/ui/review/{cid}").text
    version = int(re.search(r'name="version" value="(\d+)"', page).group(1))
    seen = re.search(r'name="seen_status" value="(\w+)"', page).group(1)
    form = {"csrf_token": csrf_of(page), "version": version, "seen_status": seen, "confirm_replace": "yes",
            "decision": "approved", "comment": "<script>alert(1)</script>"}
    r = client.post(f"/ui/review/{cid}", data=form, headers={FRAGMENT_HEADER: FRAGMENT_DECISION},
                    follow_redirects=False)
    assert r.status_code == 200 and r.headers[FRAGMENT_HEADER] == FRAGMENT_DECISION
    assert r.headers["cache-control"] == "no-store" and "script-src 'self'" in r.headers["content-security-policy"]
    body = r.text
    assert "<html" not in body and "<header" not in body
    assert re.search(r'<section class="card" id="decision-card" data-status="approved"[^>]*data-version="%d"'
                     % (version + 1), body)
    assert 'id="saved"' in body and "&lt;script&gt;alert(1)&lt;/script&gt;" in body and "<script>alert" not in body
    # the card is the page's own: the same form and history as the next full page shows
    full = client.get(f"/ui/review/{cid}").text
    card = re.search(r'<section class="card" id="decision-card".*?</section>', full, re.S).group(0)
    without_message = re.sub(r'<p class="ok" id="saved"[^>]*>.*?</p>', "", body)
    assert re.sub(r"\s+", " ", card) == re.sub(r"\s+", " ", without_message).strip()
    # a stale version in place: 200, the conflict in the card, nothing stored
    stale = client.post(f"/ui/review/{cid}", data={**form, "decision": "rejected"},
                        headers={FRAGMENT_HEADER: FRAGMENT_DECISION})
    assert stale.status_code == 200 and 'id="conflict"' in stale.text and CONFLICT_ZH in stale.text
    assert _stored(own, cid)[0] == "approved"
    # without the header: the 303 of the plain form
    page = client.get(f"/ui/review/{cid}").text
    plain = client.post(f"/ui/review/{cid}", data={**form, "version": version + 1, "csrf_token": csrf_of(page)},
                        follow_redirects=False)
    assert plain.status_code == 303 and plain.headers["location"].endswith(f"/ui/review/{cid}?saved=1")
