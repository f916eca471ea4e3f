"""The suitability map's frame made from a template per dataset and language (issue 15): the query's own data
written into a page rendered once (``maps.suitability_map.suitability_template``) must be the page the map
built the old way renders -- the same GeoJSON features, popups, legend, search, title and the same escaping of
hostile names -- up to the names folium gives its elements (random per build). The old way is kept here
verbatim (the builder as it was before the template, over the same public helpers of ``maps.base``)."""

from __future__ import annotations

import re

import geopandas as gpd
import numpy as np
import pytest
import shapely
from branca.colormap import LinearColormap

from maps.base import JsLayer, MapOptions, add_counties, county_legend, finish_map, geojson_layer, new_map, \
    search_source, render_page, json_blocks
from maps.i18n import sector_label, t
from maps.places import add_place_labels
from maps.suitability_map import (EXCLUDED_COLOR, SCORE_COLORS, SuitabilityBase, suitability_map,
                                  suitability_template, suitability_values)

from .conftest import HOSTILE, HOSTILE_SCRIPT

_NAME = re.compile(r"(?<![A-Za-z0-9])[a-z][a-z_]*_[0-9a-f]{32}(?![0-9a-f])")


def normalised(html: str) -> str:
    """``html`` with folium's element names (``kind_<32 hex>``, random per build) numbered by first appearance."""
    seen: dict[str, str] = {}
    return _NAME.sub(lambda m: seen.setdefault(m.group(0), f"el{len(seen)}"), html)


# ---- the builder as it was before the template (issue 15), verbatim ----------------------------------------

def reference_suitability_map(ds: Dataset, result: SuitabilityResult, *, lang: str = "zh", top_lines: int = 5, top_labels: int = 10,
                    opts: MapOptions | None = None) -> folium.Map:
    """Map a :class:`~parks.suitability.SuitabilityResult` (ranked and excluded parks) over ``ds``."""
    opts = opts or MapOptions(lang=lang)
    lang = opts.lang
    info = result.enterprise
    parks = ds.parks.set_index(ds.parks["park_id"].astype(str))
    names = dict(zip(ds.counties["code"].astype(str), ds.counties["name"]))
    who = info.get("name") or info.get("enterprise_id") or t("profile", lang)
    title = f"{t('title_suitability', lang)} · {who}"
    note = f"{info['enterprise_id']} · {sector_label(info.get('sector'), lang)}" if info.get("enterprise_id") else \
        f"{sector_label(info.get('sector'), lang)} · {info.get('land_ha')} ha · {t('employees', lang)} {info.get('employees')}"
    m = new_map(ds, opts, title, note=note)
    add_counties(m, ds, opts)

    from parks.suitability.criteria import CRITERIA_LABELS_EN, CRITERIA_LABELS_ZH

    crit_labels = CRITERIA_LABELS_ZH if lang == "zh" else CRITERIA_LABELS_EN
    ranked = [r for r in result.ranked if r.park_id in parks.index]
    scores = np.array([r.score for r in ranked], dtype=float)
    lo, hi = (float(np.nanmin(scores)), float(np.nanmax(scores))) if len(scores) else (0.0, 1.0)
    cmap = LinearColormap(SCORE_COLORS, vmin=lo, vmax=hi if hi > lo else lo + 1e-9)
    excluded = [e for e in result.excluded if e.park_id in parks.index]
    reason_key = "message_zh" if lang == "zh" else "message"
    if excluded:
        ex = gpd.GeoDataFrame({"park_id": [e.park_id for e in excluded]},
                              geometry=[parks.geometry[e.park_id] for e in excluded], crs=ds.parks.crs)
        ex_names = [parks["name"][e.park_id] for e in excluded]
        ex_rows = [[(t("park_id", lang), e.park_id), (t("county", lang), names.get(str(e.county_code), e.county_code))]
                   + [(t("reasons", lang) if k == 0 else "", r.get(reason_key) or r.get("message") or r.get("code"))
                      for k, r in enumerate(e.reasons)] for e in excluded]
        geojson_layer(ex, opts, name=f"{t('excluded', lang)} ({len(excluded)})", key="excluded",
                      style={"color": "#888", "weight": 1, "fillColor": EXCLUDED_COLOR, "fillOpacity": 0.5},
                      tip=ex_names, title=ex_names, rows=ex_rows, ids=ex["park_id"]).add_to(m)
    if ranked:
        rk = gpd.GeoDataFrame({"park_id": [r.park_id for r in ranked], "score": scores, "rank": [r.rank for r in ranked]},
                              geometry=[parks.geometry[r.park_id] for r in ranked], crs=ds.parks.crs)
        rk_names = [parks["name"][r.park_id] for r in ranked]
        rk_rows = [[(t("rank", lang), r.rank), (t("score", lang), round(r.score, 3)), (t("park_id", lang), r.park_id),
                    (t("county", lang), names.get(str(r.county_code), r.county_code))]
                   + [(f"{crit_labels.get(c, c)} ({t('contribution', lang)})", round(v.contribution, 3))
                      for c, v in r.criteria.items()] for r in ranked]
        geojson_layer(rk, opts, name=f"{t('candidates', lang)} ({len(ranked)})", key="candidates",
                      style=lambda row: {"color": "#333", "weight": 1, "fillColor": cmap(float(row["score"])),
                                         "fillOpacity": 0.9},
                      tip=[f"#{r.rank} {n}" for r, n in zip(ranked, rk_names)], title=rk_names, rows=rk_rows,
                      label=[f"{r.rank}" if r.rank <= top_labels else None for r in ranked],
                      ids=rk["park_id"]).add_to(m)
    site = None
    if info.get("lon") is not None and info.get("lat") is not None:
        x, y = opts.shift_xy([float(info["lon"])], [float(info["lat"])])
        site = (float(y[0]), float(x[0]))
        lines = []
        for r in ranked[:top_lines]:
            c = opts.shift(gpd.GeoDataFrame(geometry=[parks.geometry[r.park_id]], crs=ds.parks.crs)).geometry.iloc[0]
            p = shapely.Point(c.representative_point())
            lines.append({"to": [round(p.y, 5), round(p.x, 5)], "label": f"#{r.rank} {parks['name'][r.park_id]}"})
        JsLayer(
            "var __NAME__ = L.featureGroup(); (function (d) {"
            " d.lines.forEach(function (l) { L.polyline([d.site, l.to], {color: '#a50f15', weight: 2, dashArray: '6 4', "
            "className: 'pp-line'}).bindTooltip(PARKPLAN.el('span', '', l.label)).addTo(__NAME__); });"
            "})(__DATA__);",
            f"{t('lines_top', lang)} ({len(lines)})", key="lines", data={"site": site, "lines": lines}).add_to(m)
        site_rows = [[t("enterprise_id", lang), info.get("enterprise_id")], [t("sector", lang), sector_label(info.get("sector"), lang)],
                     [t("employees", lang), info.get("employees")], [t("county", lang), names.get(str(info.get("county_code")), None)]]
        JsLayer(
            "var __NAME__ = L.featureGroup(); (function (d) { L.circleMarker(d.site, {radius: 9, color: '#000', weight: 3, "
            "fillColor: '#ffff33', fillOpacity: 1, className: 'pp-site'})"
            ".bindTooltip(PARKPLAN.el('span', '', d.who))"
            ".bindPopup(function () { return PARKPLAN.table(d.title, d.rows); })"
            ".addTo(__NAME__); })(__DATA__);",
            t("site", lang), key="site",
            data={"site": site, "who": str(who), "title": str(info.get("name") or ""), "rows": site_rows}).add_to(m)
    legend = [county_legend(lang),
              {"title": t("score", lang), "items": [{"color": cmap(v), "label": f"{v:.2f}"}
                                                   for v in np.linspace(lo, hi, 5)[::-1]] if ranked else []},
              {"title": "", "items": [{"color": EXCLUDED_COLOR, "label": t("excluded", lang)},
                                      {"color": "#ffff33", "label": t("site", lang), "shape": "dot"},
                                      {"color": "#a50f15", "label": t("lines_top", lang), "shape": "line"}]}]
    pk = ds.parks.geometry.representative_point()
    search: list[dict | str] = [search_source(ds.parks["name"], pk.x, pk.y, opts, t("parks", lang))]
    if site is not None:
        search.append({"label": [str(who)], "lat": [site[0]], "lon": [site[1]],
                       "kind": t("site", lang)})
    add_place_labels(m, ds, opts)
    return finish_map(m, opts, legend=legend, search=search)


# ---- tests -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ctx(hostile_prepared):
    from parks.suitability import context_from_dataset

    return context_from_dataset(hostile_prepared)


def _queries(ds):
    """Enterprises (the two hostile names first, then a spread of the dataset), a typed-in profile with a hostile
    name, a query that excludes most parks and one that excludes every park."""
    ent = ds.enterprises
    ids = [str(x) for x in ent["enterprise_id"].iloc[[0, 1]]] + \
        [str(x) for x in ent["enterprise_id"].iloc[np.linspace(2, len(ent) - 1, 5).astype(int)]]
    out = [(i, None, None) for i in ids]
    profile = {"sector": "textiles", "land_ha": 3.0, "employees": 120, "pollution_class": "light", "lon": 120.2,
               "lat": 30.25, "name": HOSTILE_SCRIPT + " {{ 7*191 }}"}
    out.append((profile, None, None))
    out.append((ids[2], None, {"max_distance_km": 40.0}))
    out.append((ids[3], None, {"max_distance_km": 0.001}))
    out.append((ids[4], {"distance": 60, "sector_fit": 5}, {"less_developed_only": True}))
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_template_page_equals_the_map_built_the_old_way(hostile_prepared, ctx, lang):
    from parks.suitability import score_enterprise

    opts = MapOptions(lang=lang)
    base = SuitabilityBase.build(hostile_prepared, opts)
    templates: dict = {}
    shapes = set()
    for target, weights, constraints in _queries(hostile_prepared):
        result = score_enterprise(ctx, target, weights, constraints)
        old = render_page(reference_suitability_map(hostile_prepared, result, opts=opts)).html()
        shape, values = suitability_values(base, result)
        shapes.add(shape)
        template = templates.get(shape) or templates.setdefault(shape, suitability_template(base, shape))
        new = template.page(values).html()
        assert normalised(new) == normalised(old)
        # and the map the public builder makes now is the same page
        assert normalised(render_page(suitability_map(hostile_prepared, result, opts=opts)).html()) == normalised(old)
        blocks = json_blocks(new)
        assert blocks  # the data blocks parse
    # the queries cover a map with candidates and excluded parks, and one with no candidate at all
    assert (True, True, True) in shapes and (True, False, True) in shapes


def test_hostile_names_are_escaped_in_the_template_page(hostile_prepared, ctx):
    from parks.suitability import score_enterprise

    base = SuitabilityBase.build(hostile_prepared, MapOptions(lang="en"))
    eid = str(hostile_prepared.enterprises["enterprise_id"].iloc[1])  # named HOSTILE_SCRIPT
    result = score_enterprise(ctx, eid)
    shape, values = suitability_values(base, result)
    html = suitability_template(base, shape).page(values).html()
    # the only script tags are the renderer's; the names are in the data as typed
    assert HOSTILE_SCRIPT not in html and HOSTILE not in html
    assert "\\u003c/script\\u003e" in html
    blocks = json_blocks(html)
    site = next(v for v in blocks.values() if isinstance(v, dict) and "who" in v)
    assert site["who"] == HOSTILE_SCRIPT
    names = {f["properties"].get("_title") for v in blocks.values() if isinstance(v, dict) and "features" in v
             for f in v["features"]}
    assert HOSTILE in names and HOSTILE_SCRIPT in names  # the two hostile parks, as typed
    assert f"<title>Relocation suitability · {HOSTILE_SCRIPT}" not in html
    assert "&lt;/script&gt;" in html.split("<title>", 1)[1].split("</title>", 1)[0]


def test_a_value_that_spells_a_slot_stays_text(hostile_prepared, ctx):
    """A request's values are written into the template's segments, never searched for slots: a name that is
    even the very token of a slot (random per process, so no data could know it) is shown as typed, and the page
    is the one the old way renders."""
    from maps.base import Slot
    from parks.suitability import score_enterprise

    opts = MapOptions(lang="en")
    spelled = Slot("title", "html").token + Slot("legend").token + '"' + Slot("excluded_name", "name").token + '"'
    base = SuitabilityBase.build(hostile_prepared, opts)
    profile = {"sector": "textiles", "land_ha": 3.0, "employees": 120, "pollution_class": "light", "lon": 120.2,
               "lat": 30.25, "name": spelled}
    result = score_enterprise(ctx, profile)
    shape, values = suitability_values(base, result)
    html = suitability_template(base, shape).page(values).html()
    assert normalised(html) == normalised(render_page(reference_suitability_map(hostile_prepared, result,
                                                                                opts=opts)).html())
    site = next(v for v in json_blocks(html).values() if isinstance(v, dict) and "who" in v)
    assert site["who"] == spelled
