"""The enterprises map as the workspace links it (home page: ``/maps/enterprises``), read in Chinese in headless
chromium like every other map frame (:mod:`tests.web.test_zh_text`), with its enterprise points' popups: those are
built only on a click at the nearest point, so the scan opens them with the click's own function
(``PARKPLAN.pointPopup``) for a point of each sector, size and county. The same popups with ``lang=en`` carry
the English field names (the scan reads what the map shows, in either language)."""

from __future__ import annotations

import pytest

from maps.i18n import t

from .test_browser import Watch, login, new_context
from .test_zh_text import _ids, _names, latin_words, read_texts

pytestmark = pytest.mark.browser

FIELDS = ("enterprise_id", "sector", "size", "employees", "county")  # the popup's rows (maps/assets/parkplan.js)


def _read(browser, server, web, path):
    watch = Watch()
    ctx = new_context(browser, watch, "zh-CN")
    ctx.set_default_timeout(180_000)
    page = login(ctx, server, web.tokens["analyst"])
    page.goto(server + path, wait_until="load")
    counts: dict = {}
    texts, bound = read_texts(page, counts)
    ctx.close()
    return texts, bound, counts.get("point_texts", [])


def test_enterprise_points_popups_are_read_in_chinese(web_browser, server, web):
    ds = web.app.state.dataset
    names, ids = _names(ds, web.tokens), _ids(ds)
    for path in ("/maps/enterprises", "/maps/enterprises?sector=textiles"):
        texts, bound, popups = web_browser.run(_read, server, web, path)
        # a popup for each county with enterprises at least (each sector, size and county is met once)
        shown = ds.enterprises if "sector=" not in path else ds.enterprises[ds.enterprises["sector"] == "textiles"]
        assert len(popups) >= shown["county_code"].nunique(), (path, len(popups))
        assert bound >= len(popups)
        for text in popups:  # each popup has its rows' labels in Chinese
            assert all(t(f, "zh") in text for f in FIELDS), text
        assert latin_words(texts, names, ids) == set(), path


def test_the_same_popups_in_english(web_browser, server, web):
    _texts, _bound, popups = web_browser.run(_read, server, web, "/maps/enterprises?lang=en")
    assert popups
    for text in popups:
        assert all(t(f, "en") in text for f in FIELDS) and not any(t(f, "zh") in text for f in FIELDS), text
