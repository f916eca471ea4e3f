"""The maps in a real browser (Debian's headless Chromium via Playwright) against the running API,
with every non-loopback request blocked: each map renders the expected parks and counties, layers
toggle, no console error, no request leaves the machine, the screenshot is not blank, and the
injected names run no script."""

from __future__ import annotations

import io

import pytest

from .conftest import HOSTILE, HOSTILE_SCRIPT, set_zoom

pytestmark = pytest.mark.browser

MAPS = ["parks", "enterprises", "clusters", "suitability", "transfers"]


def _url(server, name, dataset, **params):
    if name == "suitability":
        params.setdefault("enterprise_id", str(dataset.enterprises["enterprise_id"].iloc[0]))
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{server}/maps/{name}" + (f"?{query}" if query else "")


def _not_blank(png: bytes) -> float:
    from PIL import Image, ImageStat

    img = Image.open(io.BytesIO(png)).convert("L")
    return ImageStat.Stat(img).stddev[0]


def _layer_checkbox(page, label: str):
    return page.locator(".leaflet-control-layers-overlays label", has_text=label).locator("input")


@pytest.mark.parametrize("name", MAPS)
def test_map_renders_offline(page_run, server, hostile_prepared, name):
    run = page_run("admin" if name == "transfers" else "analyst")
    resp = run.open(_url(server, name, hostile_prepared))
    assert resp.status == 200
    page = run.page
    n_counties = len(hostile_prepared.counties)
    assert page.evaluate("PARKPLAN.count('counties')") == n_counties
    assert page.locator("path.pp-counties").count() == n_counties
    if name == "parks":
        assert page.evaluate("PARKPLAN.count('parks')") == len(hostile_prepared.parks)
        assert page.locator("path.pp-parks").count() == len(hostile_prepared.parks)
    if name == "enterprises":
        assert page.evaluate("PARKPLAN.count('enterprises')") == len(hostile_prepared.enterprises)
        n_sectors = hostile_prepared.enterprises["sector"].nunique()
        assert page.locator("canvas.pp-points").count() == n_sectors  # one canvas per sector, no DOM per point
    if name == "suitability":
        n = page.evaluate("PARKPLAN.count('candidates') + PARKPLAN.count('excluded')")
        assert n == len(hostile_prepared.parks)
        assert page.locator("path.pp-site").count() == 1
    if name == "transfers":
        assert page.evaluate("PARKPLAN.count('flows')") > 0
    # the shared controls are there
    for selector in (".leaflet-control-layers", ".pp-legend", ".leaflet-control-scale", ".pp-search-input",
                     ".leaflet-control-zoom-fullscreen", ".leaflet-control-measure"):
        assert page.locator(selector).count() == 1, selector
    png = page.screenshot()
    assert _not_blank(png) > 5.0
    page.wait_for_timeout(200)
    assert run.errors == []
    assert run.blocked == []
    assert run.dialogs == []


def test_layers_toggle(page_run, server, hostile_prepared):
    run = page_run("viewer")
    run.open(_url(server, "parks", hostile_prepared))
    page = run.page
    n_parks = len(hostile_prepared.parks)
    n_specialty = int((hostile_prepared.parks["kind"] == "specialty_park").sum())
    box = _layer_checkbox(page, "特色工业园区")
    box.uncheck()
    assert page.locator("path.pp-parks").count() == n_parks - n_specialty
    box.check()
    assert page.locator("path.pp-parks").count() == n_parks
    counties = _layer_checkbox(page, "县（市、区）")
    counties.uncheck()
    assert page.locator("path.pp-counties").count() == 0
    assert run.errors == [] and run.blocked == []


def test_enterprise_sector_layer_and_heat_toggle(page_run, server, hostile_prepared):
    run = page_run("analyst")
    run.open(_url(server, "enterprises", hostile_prepared, lang="en"))
    page = run.page
    visible = "PARKPLAN.layers.enterprises.filter(function (l) { return l._map; }).length"
    n_layers = page.evaluate("PARKPLAN.layers.enterprises.length")
    _layer_checkbox(page, "Textiles").uncheck()
    assert page.evaluate(visible) == n_layers - 1
    # the canvas layer's own Web-Mercator arithmetic puts each point where Leaflet itself would
    worst = page.evaluate("""() => {
        const map = PARKPLAN.maps[0], layer = PARKPLAN.layers.enterprises[0], d = layer._data;
        map.setView([29.5, 120.5], 9.75, {animate: false});
        const topLeft = map.containerPointToLayerPoint([0, 0]), origin = map.getPixelOrigin();
        const scale = map.options.crs.scale(map.getZoom());
        let worst = 0;
        for (let k = 0; k < layer._idx.length; k += 7) {
            const i = layer._idx[k];
            // Leaflet's projection, unrounded (latLngToContainerPoint rounds to whole pixels)
            const ref = map.project([d.lat[i], d.lon[i]], map.getZoom()).subtract(origin).subtract(topLeft);
            const x = d._ux[i] * scale - origin.x - topLeft.x, y = d._uy[i] * scale - origin.y - topLeft.y;
            worst = Math.max(worst, Math.abs(x - ref.x), Math.abs(y - ref.y));
        }
        return worst;
    }""")
    assert worst < 1e-6
    heat = _layer_checkbox(page, "heat map")
    heat.check()
    assert page.evaluate("PARKPLAN.layers.heatmap[0]._map !== undefined && PARKPLAN.layers.heatmap[0]._map !== null")
    assert page.locator("canvas.leaflet-heatmap-layer").count() == 1
    assert run.errors == [] and run.blocked == []


def test_injected_names_stay_text(page_run, server, hostile_prepared):
    run = page_run("analyst")
    run.open(_url(server, "parks", hostile_prepared))
    page = run.page
    page.fill(".pp-search-input", "<img")
    hits = page.locator(".pp-search-hit")
    assert hits.count() >= 2  # the park and the county
    assert HOSTILE in hits.first.text_content()
    hits.first.click()
    # open the hostile park's popup
    page.evaluate("""() => {
        PARKPLAN.layers.parks.forEach(function (g) { g.eachLayer(function (l) {
            if (String(l.feature.properties._title).indexOf('<') === 0) { l.openPopup(); }
        }); });
    }""")
    assert HOSTILE in page.locator(".leaflet-popup-content").first.text_content() or \
        HOSTILE_SCRIPT in page.locator(".leaflet-popup-content").first.text_content()
    page.hover(".leaflet-container")
    page.wait_for_timeout(300)
    assert page.locator("img[src='x']").count() == 0
    assert run.dialogs == []
    assert run.errors == []

    run2 = page_run("analyst")
    run2.open(_url(server, "enterprises", hostile_prepared))
    run2.page.fill(".pp-search-input", "alert")
    assert run2.page.locator(".pp-search-hit").count() >= 2
    run2.page.locator(".pp-search-hit").first.click()
    run2.page.wait_for_timeout(300)
    assert run2.page.locator("img[src='x']").count() == 0
    # click the hostile enterprise's point (drawn on the canvas): its popup shows the name as text
    ent = hostile_prepared.enterprises.iloc[0]
    set_zoom(run2.page, 17, (ent.geometry.y, ent.geometry.x))
    run2.page.wait_for_timeout(300)
    box = run2.page.locator(".leaflet-container").bounding_box()
    point = run2.page.evaluate(f"() => PARKPLAN.maps[0].latLngToContainerPoint([{ent.geometry.y}, {ent.geometry.x}])")
    run2.page.mouse.move(box["x"] + point["x"] + 1, box["y"] + point["y"] + 1)
    tip = run2.page.locator(".pp-point-tip")
    tip.wait_for(timeout=5000)
    assert tip.text_content() == HOSTILE  # hover tooltip: the name as text
    run2.page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    popup = run2.page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5000)
    assert HOSTILE in popup.text_content() and str(ent["enterprise_id"]) in popup.text_content()
    assert run2.page.locator("img[src='x']").count() == 0
    assert run2.dialogs == [] and run2.errors == [] and run2.blocked == []


def test_measure_tool_and_fullscreen(page_run, server, hostile_prepared):
    import re

    from pyproj import Geod

    run = page_run("viewer")
    run.open(_url(server, "parks", hostile_prepared))
    page = run.page
    page.locator(".pp-measure-toggle").click()
    box = page.locator(".leaflet-container").bounding_box()
    pixels = [(500, 300), (700, 300), (700, 500)]
    for x, y in pixels:  # on top of county polygons: measuring wins over their popups
        page.mouse.click(box["x"] + x, box["y"] + y)
    assert page.locator(".leaflet-popup").count() == 0
    lonlat = [page.evaluate(f"() => PARKPLAN.maps[0].containerPointToLatLng([{x}, {y}])") for x, y in pixels]
    distance = page.locator(".pp-measure-distance").text_content()
    area = page.locator(".pp-measure-area").text_content()
    km = float(re.search(r"([\d.]+) km", distance).group(1))
    ha = float(re.search(r"([\d.]+) ha", area).group(1))
    geod = Geod(ellps="WGS84")
    lons, lats = [p["lng"] for p in lonlat], [p["lat"] for p in lonlat]
    ref_km = geod.line_length(lons, lats) / 1000
    ref_ha = abs(geod.polygon_area_perimeter(lons, lats)[0]) / 1e4
    assert km == pytest.approx(ref_km, rel=0.01)  # spherical vs ellipsoidal: within 1 %
    assert ha == pytest.approx(ref_ha, rel=0.01)
    page.locator(".leaflet-control-zoom-fullscreen").click()
    page.wait_for_timeout(200)
    assert page.evaluate("() => !!document.fullscreenElement")
    assert run.errors == [] and run.blocked == []


def test_park_highlighted_from_the_url_and_by_message(page_run, server, hostile_prepared):
    run = page_run("viewer")
    ids = hostile_prepared.parks["park_id"].astype(str).tolist()
    run.open(_url(server, "parks", hostile_prepared, highlight=ids[3]))
    page = run.page
    assert page.evaluate("PARKPLAN.highlighted") == ids[3]
    assert page.locator("path.pp-highlight").count() == 1
    # a message from the same origin moves the highlight; one from elsewhere is ignored
    page.evaluate(f"window.postMessage({{type: 'parkplan:highlight', id: {ids[7]!r}}}, window.location.origin)")
    page.wait_for_timeout(200)
    assert page.evaluate("PARKPLAN.highlighted") == ids[7] and page.locator("path.pp-highlight").count() == 1
    assert page.evaluate("PARKPLAN.highlight('parks', 'NO-SUCH-PARK')") is False
    assert page.locator("path.pp-highlight").count() == 0
    assert run.errors == [] and run.blocked == []


def test_ranked_parks_keep_their_label_and_their_hover_text(page_run, server, hostile_prepared):
    """On the suitability map a park with a rank label shows its name while the pointer is over it."""
    run = page_run("analyst")
    run.open(_url(server, "suitability", hostile_prepared))
    page = run.page
    # a labelled park whose centre is not covered by anything else: hover there with the real mouse
    spot = page.evaluate("""() => {
        const map = PARKPLAN.maps[0], box = map.getContainer().getBoundingClientRect();
        const out = [];
        PARKPLAN.layers.candidates[0].eachLayer(function (l) {
            const p = l.feature.properties;
            if (p._label === undefined || !l._path) return;
            const r = l._path.getBoundingClientRect();
            const x = r.left + r.width / 2, y = r.top + r.height / 2;
            if (document.elementFromPoint(x, y) === l._path) out.push({x: x, y: y, label: p._label, tip: p._tip});
        });
        return out[0] || null;
    }""")
    assert spot is not None, "no labelled park to hover"
    label = page.locator(".leaflet-tooltip.pp-label", has_text=spot["label"]).first
    assert label.inner_text() == spot["label"]
    page.mouse.move(spot["x"], spot["y"])
    page.wait_for_timeout(100)
    hover = page.locator(".leaflet-tooltip.pp-label-hover")
    assert hover.count() == 1 and hover.inner_text() == spot["tip"]
    page.mouse.move(5, 5)
    page.wait_for_timeout(100)
    assert page.locator(".leaflet-tooltip.pp-label-hover").count() == 0
    assert page.locator(".leaflet-tooltip.pp-label", has_text=spot["label"]).count() >= 1
    assert run.errors == [] and run.blocked == [] and run.dialogs == []
