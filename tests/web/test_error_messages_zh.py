"""The suitability page shows the model's refusal in the page's language (Chinese by default, English with
``lang=en``), in headless chromium, with what the user typed shown as text: a ``<script>`` in the refused
value neither runs nor becomes an element."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from .test_browser import Watch, login, new_context

pytestmark = pytest.mark.browser

HOSTILE = "<script>alert('x')</script><img src=x>"


def _refusal(browser, server, web, lang):
    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, web.tokens["analyst"])
    query = {"p_sector": "textiles", "p_land_ha": "2", "p_employees": "120", "p_pollution_class": HOSTILE,
             "p_lon": "120.2", "p_lat": "30.2"}
    if lang == "en":
        query["lang"] = "en"
    page.goto(f"{server}/ui/suitability?{urlencode(query)}", wait_until="load")
    err = page.locator("#suit-error")
    assert err.count() == 1, page.content()[:2000]
    text = err.inner_text()
    assert repr(HOSTILE) in text, text  # the value, as typed, shown as text
    assert err.locator("script, img").count() == 0
    if lang == "en":
        assert text.startswith("profile pollution_class ") and "is unknown; accepted: light, medium, heavy" in text
    else:
        assert text.startswith("企业概况的污染等级 pollution_class ") and "未知；可接受的值：light, medium, heavy" in text
        assert "unknown" not in text and "accepted" not in text
    assert page.evaluate("() => document.querySelectorAll('#suit-error script, #suit-error img').length") == 0
    watch.assert_clean()  # no dialog opened, no request for the <img>'s x, no console error
    ctx.close()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_refused_profile_is_shown_in_the_page_language_and_escaped(web_browser, server, web, lang):
    web_browser.run(_refusal, server, web, lang)
