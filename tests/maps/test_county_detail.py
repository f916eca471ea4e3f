"""A province map opens with coarse county outlines and draws them in detail once zoomed in (maps.base.add_counties,
``PARKPLAN.detailOnZoom``): the coarse outlines are within the reach the zoom rule assumes on the real county
boundaries, the map opens coarse in a frame the size of the workspace's, and after the first zoom in every county
is drawn from the detailed geometry with its style, tooltip and popup kept."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from maps.base import (COUNTY_OVERVIEW_DEG, COUNTY_SIMPLIFY_DEG, SIMPLIFY_REACH, MapOptions, add_counties,
                       detail_zoom, json_blocks, render_html)

from .conftest import set_zoom


def _vertices_per_feature(geojson: dict) -> int:
    """Vertices as Leaflet keeps them: each ring without its closing point."""
    rings = [geojson["coordinates"]] if geojson["type"] == "Polygon" else geojson["coordinates"]
    return sum(len(r) - 1 for poly in rings for r in poly)


def test_simplification_stays_within_the_reach_the_zoom_rule_assumes(raw_dataset):
    """On the province's real county outlines, coverage simplification moves no border further than
    SIMPLIFY_REACH tolerances (the rule that sets the zoom of the detail), and the overview is much lighter."""
    raw = raw_dataset.counties.to_crs(4326).geometry.to_numpy()
    counts = {}
    for tol in (COUNTY_SIMPLIFY_DEG, COUNTY_OVERVIEW_DEG):
        out = shapely.coverage_simplify(raw, tol)
        reach = shapely.hausdorff_distance(raw, out).max()
        assert reach <= SIMPLIFY_REACH * tol, f"tolerance {tol}: a border moved {reach:.5f} degrees"
        assert shapely.is_valid(out).all() and not shapely.is_empty(out).any()
        counts[tol] = int(shapely.get_num_coordinates(out).sum())
    assert counts[COUNTY_OVERVIEW_DEG] < 0.5 * counts[COUNTY_SIMPLIFY_DEG], counts
    # a pixel at the detail's zoom spans 360 / 256 / 2**z degrees; the coarse reach is DETAIL_PX pixels there
    z = detail_zoom(COUNTY_OVERVIEW_DEG)
    assert 7.5 < z < 8.5 and detail_zoom(COUNTY_SIMPLIFY_DEG) == pytest.approx(z + 2)


def test_the_province_layer_carries_its_detail_and_a_place_map_draws_the_detail(hostile_prepared):
    from folium import Map

    ds = hostile_prepared
    m = Map()
    add_counties(m, ds, MapOptions())
    blocks = list(json_blocks(render_html(m)).values())
    layer = next(b for b in blocks if isinstance(b, dict) and b.get("features"))
    detail = next(b for b in blocks if isinstance(b, list) and len(b) == len(ds.counties))
    assert len(layer["features"]) == len(ds.counties)
    coarse = np.array([_vertices_per_feature(f["geometry"]) for f in layer["features"]])
    fine = np.array([_vertices_per_feature(g) for g in detail])
    assert (coarse <= fine).all() and coarse.sum() < 0.5 * fine.sum()


_STATE_JS = """() => {
  const layer = PARKPLAN.layers['counties'][0], map = PARKPLAN.maps[0];
  const out = {zoom: map.getZoom(), vertices: {}, tips: 0, popups: 0, classed: 0};
  layer.eachLayer((l) => {
    out.vertices[l.feature.id] = l.getLatLngs().flat(3).length;
    if (l.getTooltip()) out.tips++;
    if (l.getPopup()) out.popups++;
    if (l._path && l._path.classList.contains('pp-counties')) out.classed++;
  });
  return out; }"""


@pytest.mark.browser
def test_a_province_map_opens_coarse_and_draws_the_detail_at_the_first_zoom_in(page_run, server, hostile_prepared):
    ds = hostile_prepared
    run = page_run("analyst")
    run.page.set_viewport_size({"width": 700, "height": 780})  # about the parks page's map frame
    assert run.open(f"{server}/maps/parks").status == 200
    blocks = json_blocks(run.page.content())
    detail = next(b for b in blocks.values() if isinstance(b, list) and len(b) == len(ds.counties))
    fine = {str(i): _vertices_per_feature(g) for i, g in enumerate(detail)}
    before = run.page.evaluate(_STATE_JS)
    assert before["zoom"] < detail_zoom(COUNTY_OVERVIEW_DEG), before["zoom"]
    assert sum(before["vertices"].values()) < 0.5 * sum(fine.values())
    run.page.evaluate("""() => new Promise((done) => {
      const layer = PARKPLAN.layers['counties'][0], map = PARKPLAN.maps[0];
      layer.once('pp:detail', () => done(true));
      map.setZoom(map.getZoom() + 1, {animate: false}); })""")
    after = run.page.evaluate(_STATE_JS)
    assert after["zoom"] >= detail_zoom(COUNTY_OVERVIEW_DEG)
    assert after["vertices"] == fine
    n = len(ds.counties)
    assert after["tips"] == after["popups"] == after["classed"] == n, after
    assert run.errors == [] and run.blocked == []
    # zooming out keeps the detail (drawn once, not swapped back and forth)
    set_zoom(run.page, 6)
    assert run.page.evaluate(_STATE_JS)["vertices"] == fine


def test_detail_json_is_data_not_code(hostile_prepared):
    """The detail reaches the page as a JSON block read by PARKPLAN.data, like every other map datum."""
    from folium import Map

    m = Map()
    add_counties(m, hostile_prepared, MapOptions())
    html = render_html(m)
    assert "PARKPLAN.detailOnZoom(" in html
    call = html[html.index("PARKPLAN.detailOnZoom("):].split(";", 1)[0]
    assert "PARKPLAN.data(" in call and "coordinates" not in call
