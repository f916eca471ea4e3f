"""The flow map reads at a glance: the main flows (the largest flows carrying 80 % of the firms, or a
minimum) drawn strongly, the other flows in a layer off by default and counted in the legend, an
arrowhead on every drawn flow, the receiving counties as circles by the firms they receive.

The selection is checked against a reference written here independently of :func:`main_flow_mask` (a flow
is a main flow when the flows strictly larger than it carry less than the share), the page in headless
Chromium (the DOM Leaflet drew, the tooltips' text, the legend as shown)."""

from __future__ import annotations

import math
import os
import re

import numpy as np
import pandas as pd
import pytest

from maps import MapError, MapOptions
from maps.base import json_blocks, render_page
from maps.flows_map import DEST_MAX_PX, MAIN_SHARE, SCENARIO_COLORS, flows_map, main_flow_mask


def reference_main(values, share=MAIN_SHARE, min_value=None) -> np.ndarray:
    """A flow is a main flow when the flows strictly larger than it carry less than ``share`` of the total
    (so the smallest set of the largest flows reaching the share, equal flows all in or all out)."""
    v = np.array([float(x) if x is not None and np.isfinite(float(x)) and float(x) > 0 else 0.0 for x in values])
    if min_value is not None:
        return np.array([x >= min_value for x in v], dtype=bool)
    total = sum(v)
    return np.array([x > 0 and sum(y for y in v if y > x) < share * total for x in v], dtype=bool)


@pytest.mark.parametrize("seed", range(40))
def test_rule_matches_the_reference(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 60))
    values = rng.choice([0, 1, 1, 2, 3, 5, 8, 13, 40, 138], n).astype(float)  # ties and zeros on purpose
    for share in (0.5, 0.8, 0.95, 1.0):
        got = main_flow_mask(values, share=share)
        assert got.tolist() == reference_main(values, share).tolist()
        if values.sum():
            # the main flows carry at least the share; without their smallest value, less
            assert values[got].sum() >= share * values.sum() - 1e-9
            smallest = values[got].min()
            assert values[values > smallest].sum() < share * values.sum()
    assert main_flow_mask(values, min_value=5).tolist() == (values >= 5).tolist()


def test_rule_refuses_bad_parameters():
    for share, low in ((0, None), (1.5, None), (float("nan"), None), ("0.8", None), (0.8, 0), (0.8, -2.0),
                       (0.8, float("inf"))):
        with pytest.raises(MapError, match="main_share") as exc:
            main_flow_mask([1, 2], share=share, min_value=low)
        assert exc.value.code == "map.flows_main"
    assert main_flow_mask([0, 0]).tolist() == [False, False] and main_flow_mask([]).tolist() == []


@pytest.fixture(scope="module")
def small(hostile_prepared):
    """Made-up flows between 8 counties (the first one's name hostile): a few large corridors, many
    one- and two-firm flows, ties at the cut, one move within a county; firms and jobs."""
    ds = hostile_prepared
    c = ds.counties["code"].astype(str).tolist()[:8]
    pairs = [(0, 1, 40), (2, 1, 25), (3, 1, 12), (4, 5, 12), (5, 6, 8), (6, 5, 5), (7, 1, 3), (1, 0, 3),
             (2, 3, 2), (3, 4, 2), (4, 6, 1), (5, 7, 1), (6, 7, 1), (7, 0, 1), (0, 2, 1), (2, 2, 6)]
    flows = pd.DataFrame({"origin_county_code": [c[o] for o, _, _ in pairs],
                          "destination_county_code": [c[d] for _, d, _ in pairs],
                          "firms": [f for _, _, f in pairs]})
    flows["jobs"] = flows["firms"] * 30 + np.arange(len(flows))
    return ds, flows


def _main_block(m) -> dict:
    blocks = [b for b in json_blocks(render_page(m).html()).values() if isinstance(b, dict) and "arcs" in b]
    assert len(blocks) == 1
    return blocks[0]


def _key(ds, o, d):
    names = dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str)))
    return f"{names[o]} → {names[d]}"


def test_data_split_by_the_rule_and_firms_conserved(small):
    ds, flows = small
    between = flows[flows["origin_county_code"] != flows["destination_county_code"]]
    for kwargs, by in (({}, "firms"), (dict(main_share=0.6), "firms"), (dict(main_min=5), "firms"),
                       (dict(width_by="jobs"), "jobs")):
        block = _main_block(flows_map(ds, flows, **kwargs))
        expect = reference_main(between[by].tolist(), kwargs.get("main_share", MAIN_SHARE), kwargs.get("main_min"))
        want = sorted(_key(ds, o, d) for (o, d), e in zip(between[["origin_county_code", "destination_county_code"]]
                                                            .itertuples(index=False), expect) if e)
        got = sorted(a["title"].split(" · ")[0] for a in block["arcs"] if a["main"])
        assert got == want, kwargs
        firms = [int(a["title"].rsplit(" ", 1)[1]) for a in block["arcs"]] + \
            [int(w["title"].rsplit(" ", 1)[1]) for w in block["within"]]
        assert sum(firms) == flows["firms"].sum()  # every firm in one layer or the other, none dropped
        assert len(block["arcs"]) == len(between) and len(block["within"]) == 1
        widths = [a["w"] for a in block["arcs"]]
        assert widths == sorted(widths)  # smallest first: the largest drawn last, on top


def test_receiving_counties_by_firms_received(small):
    ds, flows = small
    between = flows[flows["origin_county_code"] != flows["destination_county_code"]]
    received = between.groupby("destination_county_code")["firms"].sum()
    names = dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str)))
    block = _main_block(flows_map(ds, flows))
    got = {d["title"]: d["r"] for d in block["dest"]}
    assert sorted(got) == sorted(f"{names[c]} 接收 {n:,} 家企业" for c, n in received.items())
    top = received.max()
    for c, n in received.items():
        assert got[f"{names[c]} 接收 {n:,} 家企业"] == pytest.approx(max(2.5, DEST_MAX_PX * math.sqrt(n / top)), abs=0.01)


@pytest.mark.browser
def test_page_in_chromium(browser, small, tmp_path):
    from maps.assets import inline_assets
    from maps.base import render_html

    ds, flows = small
    between = flows[flows["origin_county_code"] != flows["destination_county_code"]]
    main = reference_main(between["firms"].tolist())
    n_main, n_rest = int(main.sum()), int((~main).sum())
    rest_firms = int(between.loc[~main, "firms"].sum())
    assert n_main and n_rest  # the fixture exercises both layers
    received = between.groupby("destination_county_code")["firms"].sum()
    shots = os.environ.get("PARKPLAN_TEST_SHOTS") or str(tmp_path)

    for lang in ("zh", "en"):
        html = inline_assets(render_html(flows_map(ds, flows, opts=MapOptions(lang=lang))))
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        errors: list[str] = []
        page = ctx.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("dialog", lambda d: (errors.append(d.message), d.dismiss()))
        page.set_content(html, wait_until="load")
        page.wait_for_function("() => window.PARKPLAN && PARKPLAN.ready === true")
        # the main layer shown, the other flows off by default
        assert page.locator("path.pp-flow").count() == n_main
        assert page.locator("path.pp-flow-rest").count() == 0
        assert page.locator("svg.pp-flow-head").count() == n_main  # an arrowhead per drawn flow
        assert page.locator("path.pp-flow-within").count() == 1
        # the arrowheads point into the destination: each arc's head (drawn in the arcs' order) has its tip
        # on the arc's last segment, back from the end by the radius of the receiving county's circle there,
        # pointing along the direction of travel (Leaflet's projection, not the module's arithmetic)
        heads = page.evaluate("""() => {
            var m = PARKPLAN.maps[0], box = m.getContainer().getBoundingClientRect(), arcs = [], circles = [];
            PARKPLAN.layers['flows-flows'][0].eachLayer(function (l) {
              if (l.options.className === 'pp-flow') { arcs.push(l.getLatLngs()); }
              if (l.options.className === 'pp-flow-dest') { circles.push(l); }
            });
            var polys = Array.from(document.querySelectorAll('svg.pp-flow-head polygon'));
            return arcs.map(function (ll, i) {
              var end = ll[ll.length - 1], b = m.latLngToContainerPoint(end), p = polys[i], q = p.points[0],
                  z = m.getZoom(), a0 = m.project(ll[ll.length - 2], z), b0 = m.project(end, z);
              var tip = new DOMPoint(q.x, q.y).matrixTransform(p.getScreenCTM()),
                  back = new DOMPoint((p.points[1].x + p.points[2].x) / 2, (p.points[1].y + p.points[2].y) / 2)
                    .matrixTransform(p.getScreenCTM());  // the middle of the head's base
              var circle = circles.filter(function (c) { return c.getLatLng().equals(end); });
              return {seg: Math.atan2(b0.y - a0.y, b0.x - a0.x), b: [b.x, b.y], tip: [tip.x - box.left, tip.y - box.top],
                      base: [back.x - box.left, back.y - box.top], r: circle.length ? circle[0].getRadius() : null};
            });
        }""")
        assert len(heads) == n_main
        for h in heads:
            assert h["r"] is not None  # every arc ends at a receiving county's circle
            seg, (bx, by), (tx, ty), (sx, sy) = h["seg"], h["b"], h["tip"], h["base"]
            assert math.hypot(bx - tx, by - ty) == pytest.approx(h["r"], abs=1.5)  # the tip at the circle's edge
            # the head points along the last segment (unrounded projection); the tip lies before the end
            # (checked where the circle is large enough for Leaflet's whole-pixel end point not to matter)
            assert abs(math.remainder(math.atan2(ty - sy, tx - sx) - seg, 2 * math.pi)) < math.radians(3)
            if h["r"] > 8:
                assert abs(math.remainder(math.atan2(by - ty, bx - tx) - seg, 2 * math.pi)) < math.radians(10)
        # the receiving circles: radii ordered by the firms received (read from their tooltips as shown)
        circles = page.evaluate("""() => {
            var out = [];
            PARKPLAN.layers['flows-flows'][0].eachLayer(function (l) {
              if (l.options.className === 'pp-flow-dest') {
                out.push([l.getTooltip().getContent().textContent, l.getRadius()]);
              }
            });
            return out;
        }""")
        assert len(circles) == len(received)
        said = r"接收 ([\d,]+) 家企业$" if lang == "zh" else r"receives ([\d,]+) firms$"
        got = sorted((int(re.search(said, text).group(1).replace(",", "")), r) for text, r in circles)
        assert [n for n, _ in got] == sorted(received.tolist())
        assert [r for _, r in got] == sorted(r for _, r in got) and got[-1][1] == DEST_MAX_PX
        legend = page.locator(".pp-legend").inner_text()
        if lang == "zh":
            assert f"其余 {n_rest} 条流向，共 {rest_firms} 家企业" in legend
            assert f"主要流向 {n_main} 条" in legend
            assert re.search(r"[A-Za-z]", legend) is None, legend  # no English in Chinese
        else:
            assert f"{n_rest} other flows, {rest_firms} firms" in legend and f"{n_main} main flows" in legend
            assert re.search(r"[\u4e00-\u9fff]", legend) is None, legend
        page.screenshot(path=os.path.join(shots, f"flows-legible-{lang}.png"))
        # the other flows: switched on from the layer control, each with its arrowhead; firms conserved
        rest_label = page.locator(".leaflet-control-layers-overlays label", has_text="其余流向" if lang == "zh"
                                  else "other flows")
        assert rest_label.count() == 1
        rest_label.locator("input").check()
        assert page.locator("path.pp-flow-rest").count() == n_rest
        assert page.locator("svg.pp-flow-head-rest").count() == n_rest
        shown = page.evaluate("""() => {
            var n = 0;
            [PARKPLAN.layers['flows-flows'][0], PARKPLAN.layers['flows-rest-flows'][0]].forEach(function (g) {
              g.eachLayer(function (l) {
                if (l.getTooltip && l.getTooltip() && l.options.className !== 'pp-flow-dest') {
                  n += parseInt(l.getTooltip().getContent().textContent.split(' ').pop(), 10);
                }
              });
            });
            return n;
        }""")
        assert shown == flows["firms"].sum()
        assert errors == []
        ctx.close()


def test_rule_per_scenario_and_the_legend_counts_all(small):
    """With a scenario column each scenario's own main flows (its own 80 %), each in its scenario's
    layers; the legend counts the other flows of all scenarios."""
    ds, flows = small
    two = pd.concat([flows.assign(scenario="urban-core"),
                     flows.assign(scenario="scattered", firms=flows["firms"][::-1].to_numpy())], ignore_index=True)
    html = render_page(flows_map(ds, two)).html()
    blocks = [b for b in json_blocks(html).values() if isinstance(b, dict) and "arcs" in b]
    assert len(blocks) == 2
    n_rest = rest_firms = 0
    for scenario in ("urban-core", "scattered"):
        sub = two[(two["scenario"] == scenario) & (two["origin_county_code"] != two["destination_county_code"])]
        expect = reference_main(sub["firms"].tolist())
        want = sorted(_key(ds, o, d) for o, d, e in zip(sub["origin_county_code"], sub["destination_county_code"],
                                                         expect) if e)
        block = next(b for b in blocks if b["color"] == SCENARIO_COLORS[scenario])
        assert sorted(a["title"].split(" · ")[0] for a in block["arcs"] if a["main"]) == want
        n_rest += int((~expect).sum())
        rest_firms += int(sub.loc[~expect, "firms"].sum())
    legend = next(b for b in json_blocks(html).values() if isinstance(b, list) and b and "items" in b[0])
    labels = [i["label"] for s in legend for i in s["items"]]
    assert f"其余 {n_rest} 条流向，共 {rest_firms} 家企业" in labels


@pytest.mark.browser
def test_rings_of_several_scenarios_nest(browser, small):
    """Where a county receives in several scenarios, each scenario's circle is ringed in its colour and the
    circles nest, the largest below: each ring is seen and the smallest answers at the centre; still so
    after the largest scenario's layer is switched off and on again (a re-added layer is drawn last)."""
    from maps.assets import inline_assets
    from maps.base import render_html

    ds, _ = small
    c = ds.counties["code"].astype(str).tolist()[:8]
    names = dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str)))
    received = {"urban-core": 5, "scattered": 40, "coastal-transfer": 15}  # the largest in the middle layer
    flows = pd.DataFrame({"scenario": list(received) + ["urban-core"],
                          "origin_county_code": [c[0], c[2], c[3], c[4]],
                          "destination_county_code": [c[1], c[1], c[1], c[5]],
                          "firms": list(received.values()) + [3]})
    html = inline_assets(render_html(flows_map(ds, flows)))
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page = ctx.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.set_content(html, wait_until="load")
    page.wait_for_function("() => window.PARKPLAN && PARKPLAN.ready === true")
    rings_js = """() => Array.from(document.querySelectorAll('.leaflet-ppFlowDest-pane path.pp-flow-dest')).map(
        function (p) { var b = p.getBoundingClientRect();
                       return {stroke: p.getAttribute('stroke'), w: b.width, x: b.left + b.width / 2,
                               y: b.top + b.height / 2}; })"""
    top_js = """([x, y]) => { var p = document.elementsFromPoint(x, y).find(function (e) {
        return e.classList && e.classList.contains('pp-flow-dest'); });
        return p ? p.getAttribute('stroke') : null; }"""

    def check() -> None:
        rings = page.evaluate(rings_js)
        assert len(rings) == 4
        widths = [r["w"] for r in rings]
        assert widths == sorted(widths, reverse=True)  # drawn largest first: the smaller ones on top
        big = next(r for r in rings if r["stroke"] == SCENARIO_COLORS["scattered"])
        nest = [r for r in rings if math.hypot(r["x"] - big["x"], r["y"] - big["y"]) < 1]
        # the three rings of the county receiving in every scenario, each in its scenario's colour, by size
        assert [r["stroke"] for r in nest] == [SCENARIO_COLORS[s] for s in ("scattered", "coastal-transfer",
                                                                            "urban-core")]
        # at the centre the smallest (urban-core, 5 firms) answers; between the middle and the largest
        # radius, the largest (scattered, 40 firms)
        assert page.evaluate(top_js, [big["x"], big["y"]]) == SCENARIO_COLORS["urban-core"]
        off = (nest[1]["w"] + big["w"]) / 4
        assert page.evaluate(top_js, [big["x"] + off, big["y"]]) == SCENARIO_COLORS["scattered"]

    check()
    label = page.locator(".leaflet-control-layers-overlays label").filter(
        has=page.locator("input")).filter(has_text="分散")
    assert label.count() >= 1
    box = label.first.locator("input")
    box.uncheck()
    assert len(page.evaluate(rings_js)) == 3
    box.check()
    check()
    legend = page.locator(".pp-legend").inner_text()
    assert "圆圈颜色同其流向" in legend
    assert errors == []
    ctx.close()
    # the tooltips name the scenario as well as the county
    blocks = [b for b in json_blocks(render_page(flows_map(ds, flows)).html()).values()
              if isinstance(b, dict) and "dest" in b]
    from parks.suitability.scenarios import SCENARIO_LABELS_ZH

    titles = {d["title"] for b in blocks for d in b["dest"]}
    assert {f"{SCENARIO_LABELS_ZH[s]} · {names[c[1]]} 接收 {n} 家企业" for s, n in received.items()} <= titles
