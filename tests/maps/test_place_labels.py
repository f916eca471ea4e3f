"""Place names on every map (no tiles offline): every county's name, city names at provincial zoom,
sized to the zoom; in headless Chromium against the running API."""

from __future__ import annotations

import os

import pytest

from .conftest import set_zoom

pytestmark = pytest.mark.browser

MAPS = ["parks", "enterprises", "clusters", "suitability", "transfers", "flows"]


def _flows_page(dataset) -> str:
    """The flow map (``/ui/scenarios``, ``/ui/plan``) of a few moves, rendered as those pages serve it."""
    import pandas as pd

    from maps.base import render_html
    from maps.flows_map import flows_map
    from parks.flows import county_flows

    ent = dataset.enterprises.iloc[:60]
    moves = pd.DataFrame({"enterprise_id": ent["enterprise_id"].astype(str),
                          "park_id": dataset.parks["park_id"].astype(str).iloc[:60].tolist()})
    return render_html(flows_map(dataset, county_flows(moves, dataset.enterprises, dataset.parks, dataset.counties)))


def _url(server, name, dataset, run=None):
    if name == "flows":  # not a /maps/{name} map: the page as the scenario pages serve it, on the server's origin
        html = _flows_page(dataset)
        run.context.route(f"{server}/test-flows-map",
                          lambda route: route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html))
        return f"{server}/test-flows-map"
    q = f"?enterprise_id={dataset.enterprises['enterprise_id'].iloc[0]}" if name == "suitability" else ""
    return f"{server}/maps/{name}{q}"


def _size(page, kind: str) -> float:
    return page.evaluate(f"() => parseFloat(getComputedStyle(document.querySelector('.pp-place-{kind} span')).fontSize)")


@pytest.mark.parametrize("name", MAPS)
def test_county_and_city_names_drawn_and_sized_to_the_zoom(page_run, server, hostile_prepared, name, tmp_path):
    run = page_run("admin" if name == "transfers" else "analyst")
    run.open(_url(server, name, hostile_prepared, run))
    page = run.page
    counties = sorted(hostile_prepared.counties["name"].astype(str))
    shown = sorted(page.locator(".pp-place-county span").all_text_contents())
    assert shown == counties  # every county named once, as text
    set_zoom(page, 7)
    page.wait_for_timeout(300)
    cities = sorted(hostile_prepared.cities["name"].astype(str))
    assert sorted(page.locator(".pp-place-city span").all_text_contents()) == cities
    small = _size(page, "county")
    set_zoom(page, 10)
    page.wait_for_timeout(300)
    assert _size(page, "county") > small  # bigger when zoomed in
    assert page.locator(".pp-place-city").count() == 0  # cities only at provincial zoom
    shots = os.environ.get("PARKPLAN_TEST_SHOTS")
    set_zoom(page, 8)
    page.wait_for_timeout(300)
    if shots:
        page.screenshot(path=os.path.join(shots, f"places-{name}.png"))
    assert run.errors == [] and run.blocked == []
