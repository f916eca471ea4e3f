"""The suitability map's frame as the server now writes it (its query's data in a template rendered once per
dataset and language, issue 15) in Debian's headless Chromium: a typed-in profile with a hostile name and a
query that excludes every park both render their layers, title, site, legend and layer control, with the names as
text and no script run, no console error and no request leaving the machine."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from .conftest import HOSTILE, HOSTILE_SCRIPT

pytestmark = pytest.mark.browser

PROFILE = {"sector": "textiles", "land_ha": 3.0, "employees": 120, "pollution_class": "light", "lon": 120.2,
           "lat": 30.25}


def _layer_names(page) -> list[str]:
    return page.evaluate("() => Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
                         ".map(function (l) { return l.textContent.trim(); })")


def test_template_frame_renders_a_profile_with_a_hostile_name(page_run, server, hostile_prepared):
    name = HOSTILE_SCRIPT + HOSTILE + " {{ 7*191 }}"
    run = page_run("analyst")
    resp = run.open(f"{server}/maps/suitability?" + urlencode({**PROFILE, "profile_name": name, "lang": "en"}))
    assert resp.status == 200
    page = run.page
    assert page.title() == f"Relocation suitability · {name}"
    n_parks = len(hostile_prepared.parks)
    ranked, excluded = page.evaluate("[PARKPLAN.count('candidates'), PARKPLAN.count('excluded')]")
    assert ranked > 0 and ranked + excluded == n_parks
    assert page.locator("path.pp-candidates").count() == ranked
    assert page.locator("path.pp-site").count() == 1
    assert page.locator("path.pp-line").count() == min(5, ranked)
    assert page.locator("path.pp-counties").count() == len(hostile_prepared.counties)
    names = _layer_names(page)
    from maps.i18n import t

    assert f"{t('candidates', 'en')} ({ranked})" in names and f"{t('excluded', 'en')} ({excluded})" in names
    # the site's popup: the profile's name as text
    page.evaluate("() => PARKPLAN.layers.site.forEach(function (g) { g.eachLayer(function (l) { l.openPopup(); }); })")
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    assert name in popup.text_content()
    # the title control shows the name as text too
    assert name in page.locator(".leaflet-control").filter(has_text="Relocation suitability").first.text_content()
    assert page.locator("img[src='x']").count() == 0
    assert page.evaluate("document.querySelectorAll('script:not([src]):not([type])').length") > 0
    assert run.errors == [] and run.blocked == [] and run.dialogs == []


def test_template_frame_renders_a_query_that_excludes_every_park(page_run, server, hostile_prepared):
    run = page_run("analyst")
    eid = str(hostile_prepared.enterprises["enterprise_id"].iloc[1])  # named HOSTILE_SCRIPT
    resp = run.open(f"{server}/maps/suitability?enterprise_id={eid}&max_distance_km=0.001")
    assert resp.status == 200
    page = run.page
    assert page.evaluate("PARKPLAN.count('excluded')") == len(hostile_prepared.parks)
    assert page.evaluate("PARKPLAN.layers.candidates === undefined")
    assert page.locator("path.pp-site").count() == 1
    assert page.locator("path.pp-line").count() == 0
    assert page.title().endswith(HOSTILE_SCRIPT)
    # a hostile park's popup: its name as text
    page.evaluate("""() => PARKPLAN.layers.excluded.forEach(function (g) { g.eachLayer(function (l) {
        if (String(l.feature.properties._title).indexOf('<') === 0) { l.openPopup(); } }); })""")
    popup = page.locator(".leaflet-popup-content").first
    popup.wait_for(timeout=5000)
    assert HOSTILE in popup.text_content() or HOSTILE_SCRIPT in popup.text_content()
    assert page.locator("img[src='x']").count() == 0
    assert run.errors == [] and run.blocked == [] and run.dialogs == []
