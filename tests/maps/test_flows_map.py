"""The flow map builder: arcs, widths and colours from a county_flows table, data delivered as JSON
(hostile county names exactly as stored, never as markup), and its refusals."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from maps import MapError, MapOptions
from maps.base import json_blocks, render_page
from maps.flows_map import MAX_WIDTH_PX, MIN_WIDTH_PX, SCENARIO_COLORS, _width, arc, flows_map
from parks.flows import county_flows

from .conftest import HOSTILE


@pytest.fixture(scope="module")
def plan(hostile_prepared):
    """A made-up plan over the hostile dataset: 300 firms sent to parks, two scenarios, review statuses;
    the first county (hostile name) sends firms too."""
    ds = hostile_prepared
    rng = np.random.default_rng(5)
    ent = ds.enterprises
    first = str(ds.counties["code"].iloc[0])
    ids = list(ent.loc[ent["county_code"].astype(str) == first, "enterprise_id"].astype(str)[:10])
    ids += list(rng.choice(ent["enterprise_id"].astype(str), 290, replace=False))
    ids = list(dict.fromkeys(ids))
    a = pd.DataFrame({"enterprise_id": ids, "park_id": rng.choice(ds.parks["park_id"].astype(str), len(ids)),
                      "scenario": rng.choice(["urban-core", "scattered"], len(ids)),
                      "status": rng.choice(["pending", "approved", "rejected"], len(ids))})
    return ds, a


def _layers(m):
    blocks = json_blocks(render_page(m).html())
    return [b for b in blocks.values() if isinstance(b, dict) and "arcs" in b]


def _firms(item, lang="zh"):
    key = "企业数" if lang == "zh" else "Firms"
    return next(v for k, v in item["rows"] if k == key)


def test_every_firm_is_drawn_once_per_scenario(plan):
    ds, a = plan
    flows = county_flows(a.drop(columns="status"), ds.enterprises, ds.parks, ds.counties, by="scenario")
    layers = _layers(flows_map(ds, flows))
    assert sorted(layer["color"] for layer in layers) == sorted(SCENARIO_COLORS[s] for s in ("urban-core", "scattered"))
    drawn = sum(_firms(i) for layer in layers for i in layer["arcs"] + layer["within"])
    assert drawn == len(a)
    pairs = sum(len(layer["arcs"]) + len(layer["within"]) for layer in layers)
    assert pairs == len(flows)
    within = [i for layer in layers for i in layer["within"]]
    assert len(within) == int((flows["origin_county_code"] == flows["destination_county_code"]).sum())


def test_widths_follow_the_firms(plan):
    ds, a = plan
    flows = county_flows(a, ds.enterprises, ds.parks, ds.counties)
    layers = _layers(flows_map(ds, flows, color_by="none"))
    items = [i for layer in layers for i in layer["arcs"] + layer["within"]]
    by_firms = sorted(items, key=_firms)
    widths = [i["w"] for i in by_firms]
    assert widths == sorted(widths) and max(widths) == MAX_WIDTH_PX and min(widths) >= MIN_WIDTH_PX
    vmax = flows["firms"].max()
    for i in items:
        assert i["w"] == pytest.approx(MIN_WIDTH_PX + (MAX_WIDTH_PX - MIN_WIDTH_PX) * math.sqrt(_firms(i) / vmax), abs=0.01)
    jobs = _layers(flows_map(ds, flows, color_by="none", width_by="jobs"))
    assert max(i["w"] for layer in jobs for i in layer["arcs"] + layer["within"]) == MAX_WIDTH_PX
    assert _width(0, 10) == MIN_WIDTH_PX and _width(5, 0) == MIN_WIDTH_PX


def test_colour_by_review_status(plan):
    from maps.transfers_map import STATUS_COLORS

    ds, a = plan
    flows = county_flows(a, ds.enterprises, ds.parks, ds.counties)
    layers = _layers(flows_map(ds, flows))  # no scenario column: status counts colour the flows
    status_cols = [c for c in flows.columns if c.startswith("status_")]
    dominant = flows[status_cols].idxmax(axis=1).str.removeprefix("status_")
    expected = {STATUS_COLORS[s]: int((dominant == s).sum()) for s in set(dominant)}
    assert {layer["color"]: len(layer["arcs"]) + len(layer["within"]) for layer in layers} == expected


def test_hostile_names_reach_the_page_as_text(plan):
    ds, a = plan
    flows = county_flows(a, ds.enterprises, ds.parks, ds.counties, by="scenario")
    html = render_page(flows_map(ds, flows)).html()
    assert HOSTILE not in html  # '<' is escaped in the JSON blocks
    blocks = json_blocks(html)
    places = [b for b in blocks.values() if isinstance(b, dict) and "counties" in b]
    assert len(places) == 1
    assert places[0]["counties"]["name"] == ds.counties["name"].astype(str).tolist()  # exactly as stored
    assert any(HOSTILE in n for n in places[0]["counties"]["name"])
    rows = [v for b in blocks.values() if isinstance(b, dict) and "arcs" in b
            for i in b["arcs"] + b["within"] for _, v in i["rows"]]
    assert any(isinstance(v, str) and HOSTILE in v for v in rows)  # the origin county, exactly as stored


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_place_names_are_those_of_every_map(plan, lang):
    """The flow map names places with maps.places, as the parks map does: every county (not only those
    with the largest flows), the cities, the same points, one label layer."""
    from maps.parks_map import parks_map
    from maps.places import place_data

    ds, a = plan
    opts = MapOptions(lang=lang)
    flows = county_flows(a, ds.enterprises, ds.parks, ds.counties)
    html = render_page(flows_map(ds, flows, opts=opts)).html()
    flow_places = [b for b in json_blocks(html).values() if isinstance(b, dict) and "counties" in b]
    park_places = [b for b in json_blocks(render_page(parks_map(ds, opts=opts)).html()).values()
                   if isinstance(b, dict) and "counties" in b]
    assert flow_places == park_places == [json_blocks_ready(place_data(ds, opts))]
    assert len(flow_places[0]["counties"]["name"]) == len(ds.counties)
    assert "PARKPLAN.placeLabels(" in html and "pp-county-name" not in html


def json_blocks_ready(value):
    """``value`` as the page's JSON block reads back (numpy numbers to plain ones)."""
    import json

    from maps.base import js_json

    return json.loads(js_json(value))


def test_arcs_start_and_end_at_the_counties_and_bend_right():
    a, b = (30.0, 120.0), (29.0, 121.0)
    pts = np.array(arc(a, b))
    assert pts[0].tolist() == [30.0, 120.0] and pts[-1].tolist() == [29.0, 121.0]
    mid = pts[len(pts) // 2]
    k = math.cos(math.radians(29.5))
    # right of the direction of travel: the cross product (chord x to-midpoint) is negative
    cross = ((b[1] - a[1]) * k) * (mid[0] - a[0]) - (b[0] - a[0]) * ((mid[1] - a[1]) * k)
    assert cross < 0
    back = np.array(arc(b, a))
    assert not np.allclose(back[::-1], pts)  # A->B and B->A are two arcs


@pytest.mark.parametrize("kwargs, frame, match", [
    (dict(width_by="land"), None, "width_by"),
    (dict(color_by="kind"), None, "color_by"),
    (dict(color_by="scenario"), "no-scenario", "no scenario column"),
    ({}, "no-firms", r"lack column\(s\) firms"),
])
def test_refusals(plan, kwargs, frame, match):
    ds, a = plan
    flows = county_flows(a, ds.enterprises, ds.parks, ds.counties)
    if frame == "no-firms":
        flows = flows.drop(columns="firms")
    with pytest.raises(MapError, match=match):
        flows_map(ds, flows, **kwargs)


def test_english_labels(plan):
    ds, a = plan
    flows = county_flows(a.drop(columns="status"), ds.enterprises, ds.parks, ds.counties, by="scenario")
    html = render_page(flows_map(ds, flows, opts=MapOptions(lang="en"))).html()
    assert "Flows between counties" in html and "Urban-core relocation" in html
    layers = _layers(flows_map(ds, flows, opts=MapOptions(lang="en")))
    assert sum(_firms(i, "en") for layer in layers for i in layer["arcs"] + layer["within"]) == len(a)
