"""The suitability form's answers are where the user looks, in headless chromium: an AHP matrix refused
as inconsistent is shown next to the form and scrolled into view (not 2,000 px below), and a lookup that
finds nothing names what was looked up (typed text shown as text)."""

from __future__ import annotations

import pytest

from .test_browser import Watch, login, new_context

pytestmark = pytest.mark.browser

_BOX = """sel => { const r = document.querySelector(sel).getBoundingClientRect();
  return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, docTop: r.top + window.scrollY,
          vh: window.innerHeight, vw: window.innerWidth, focused: document.activeElement && document.activeElement.id}; }"""


def _in_view(box: dict) -> bool:
    return 0 <= box["top"] and box["bottom"] <= box["vh"] and 0 <= box["left"] and box["right"] <= box["vw"]


def _ahp_refusal_scrolled_into_view(browser, server, web, height):
    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, web.tokens["analyst"])
    page.set_viewport_size({"width": 1280, "height": height})
    eid = str(web.app.state.dataset.enterprises["enterprise_id"].iloc[7])
    page.goto(f"{server}/ui/suitability?enterprise_id={eid}")
    page.check("#mode-ahp")
    for sel, value in (("#ahp_0_1", "9"), ("#ahp_1_2", "9"), ("#ahp_0_2", "1/9")):
        page.select_option(sel, value)
    with page.expect_navigation():
        page.click("#compute")
    assert page.locator("#ahp-cr.alert").count() == 1 and page.locator("#ranked").count() == 0
    page.wait_for_timeout(200)
    box = page.evaluate(_BOX, "#ahp-cr")
    form = page.evaluate(_BOX, "#suit-form")
    # the refusal lies below the first screen of the page: in view only because the page scrolled to it
    assert box["docTop"] > box["vh"], box
    assert _in_view(box), f"the refusal is out of view after submit: {box}"
    assert box["focused"] == "ahp-cr"  # read by screen readers, keyboard continues from it
    # next to the form: inside it, within its columns
    assert page.locator("#suit-form #ahp-cr").count() == 1
    assert form["left"] <= box["left"] and box["right"] <= form["right"]
    # the matrix is kept as typed, to be revised
    assert page.locator("#ahp_0_1").input_value() == "9" and page.locator("#ahp_0_2").input_value() == "1/9"
    watch.assert_clean()
    ctx.close()


@pytest.mark.parametrize("height", [720, 1000])
def test_ahp_refusal_is_scrolled_into_view_next_to_the_form(web_browser, server, web, height):
    web_browser.run(_ahp_refusal_scrolled_into_view, server, web, height)


def _lookups_name_what_was_looked_up(browser, server, web):
    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, web.tokens["analyst"])
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(f"{server}/ui/suitability")
    query = "<b>无此企业</b>zz9"
    page.fill("#q", query)
    with page.expect_navigation():
        page.click("#search-btn")
    note = page.locator("#no-match")
    assert note.count() == 1 and query in note.inner_text(), note.all_inner_texts()
    assert page.locator("#no-match b").count() == 0  # shown as text
    assert _in_view(page.evaluate(_BOX, "#no-match"))
    # an enterprise id that does not exist: the refusal names the id
    page.fill("#q", "")
    page.fill("#enterprise_id", "E-NOPE-4711")
    with page.expect_navigation():
        page.click("#compute")
    err = page.locator("#suit-error")
    assert err.count() == 1 and "E-NOPE-4711" in err.inner_text(), err.all_inner_texts()
    assert _in_view(page.evaluate(_BOX, "#suit-error"))
    watch.assert_clean()
    ctx.close()


def test_a_lookup_that_finds_nothing_names_what_was_looked_up(web_browser, server, web):
    web_browser.run(_lookups_name_what_was_looked_up, server, web)
