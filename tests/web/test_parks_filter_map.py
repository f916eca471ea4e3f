"""/ui/parks: the parks map follows the table's filters (its drawn parks = the table's shown rows), and
nothing matching says so ("0 / 200" and a message); in headless Chromium."""

from __future__ import annotations

import os

import pytest

from .test_browser import Watch, _map_frame, login, new_context

pytestmark = pytest.mark.browser


def test_parks_map_follows_the_table_filters(web_browser, server, web):
    web_browser.run(_parks_map_follows_the_table_filters, server, web)


def _drawn(page, frame, expected: int) -> int:
    for _ in range(50):
        n = frame.evaluate("() => PARKPLAN.count('parks')")
        if n == expected:
            break
        page.wait_for_timeout(50)
    return n


def _parks_map_follows_the_table_filters(browser, server, web):
    watch = Watch()
    ctx = new_context(browser, watch)
    page = login(ctx, server, web.tokens["viewer"])
    page.goto(f"{server}/ui/parks", wait_until="load")
    frame = _map_frame(page, "#parks-map")
    total = len(web.app.state.dataset.parks)
    assert _drawn(page, frame, total) == total and page.locator("#parks-empty").is_hidden()
    ds = web.app.state.dataset
    county = ds.parks["county_code"].astype(str).value_counts().index[0]
    page.select_option("#f-county", county)
    shown = int(page.locator("#shown-count").inner_text())
    rows = page.locator("#parks-table tbody tr:not([hidden])").count()
    assert shown == rows == int((ds.parks["county_code"].astype(str) == county).sum()) > 0
    assert _drawn(page, frame, rows) == rows
    assert frame.locator("path.pp-parks").count() == rows
    # a sector no park of this county leads: nothing matches, and the page says so
    from geodata.schema import SECTOR_IDS

    led = set(",".join(ds.parks.loc[ds.parks["county_code"].astype(str) == county, "leading_sectors"]).split(","))
    other = next(s for s in SECTOR_IDS if s not in led)
    page.select_option("#f-sector", other)
    assert page.locator("#shown-count").inner_text() == "0"
    assert f"0 / {total}" in page.locator("#park-filters").inner_text()
    assert page.locator("#parks-empty").is_visible() and "没有符合筛选条件的园区" in page.locator("#parks-empty").inner_text()
    assert _drawn(page, frame, 0) == 0
    shots = os.environ.get("PARKPLAN_TEST_SHOTS")
    if shots:
        page.screenshot(path=os.path.join(shots, "parks-filtered-empty.png"))
    page.select_option("#f-sector", "")
    page.select_option("#f-county", "")
    assert _drawn(page, frame, total) == total
    watch.assert_clean()
    ctx.close()
