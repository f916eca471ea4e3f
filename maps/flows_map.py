"""The flow map: moves aggregated between counties (not one line per firm), as arcs from the origin
county's representative point to the destination county's, their width by the number of firms (or
jobs), their colour by scenario (or by review status), moves within a county as circles, the place
names of every map (:mod:`maps.places`: every county, the cities at provincial zoom, sized to the
zoom), legend and popups in Chinese (``lang="zh"``) or English.

Input: a table of :func:`parks.flows.county_flows` (one row per county pair, optionally a ``scenario``
column and ``status_<status>`` counts), e.g. :attr:`parks.suitability.plan_report.PlanReport.flows`.

Data reach the page only as JSON blocks read by constant scripts (:class:`maps.base.JsLayer`'s
``data``), and the page puts every name into the DOM as text.
"""

from __future__ import annotations

import math
from typing import Any

import folium
import numpy as np
import pandas as pd

from geodata.messages import listing
from .base import JsLayer, MapError, MapOptions, add_counties, county_legend, finish_map, new_map, search_source
from .i18n import t
from .places import add_place_labels
from geodata.dataset import Dataset

__all__ = ["flows_map", "SCENARIO_COLORS", "arc", "main_flow_mask", "MAIN_SHARE"]

SCENARIO_COLORS = {"urban-core": "#e41a1c", "scattered": "#377eb8", "coastal-transfer": "#4daf4a"}
OTHER_COLORS = ["#984ea3", "#ff7f00", "#a65628", "#f781bf", "#999999"]
MAX_WIDTH_PX = 14.0
MIN_WIDTH_PX = 1.5
ARC_POINTS = 24
ARC_BEND = 0.18  # the arc's control point sits this fraction of the chord to the right of its middle
MAIN_SHARE = 0.8  # the main flows: the largest flows between counties that together carry this share
DEST_MAX_PX = 18.0  # the radius of the circle of the county receiving the most firms (area by firms received)
DEST_MIN_PX = 2.5

_NEEDED = ("origin_county_code", "destination_county_code", "firms")


def arc(start: tuple[float, float], end: tuple[float, float], *, bend: float = ARC_BEND, n: int = ARC_POINTS) -> list[list[float]]:
    """``n + 1`` points ``[lat, lon]`` of a quadratic Bézier curve from ``start`` to ``end`` (``(lat,
    lon)``), bending to the right of the direction of travel, so that the flows A->B and B->A are two
    arcs, not one line."""
    (y0, x0), (y1, x1) = start, end
    # the bend is drawn in a plane where a degree of longitude is cos(lat) of a degree of latitude
    k = math.cos(math.radians((y0 + y1) / 2)) or 1.0
    dx, dy = (x1 - x0) * k, y1 - y0
    cx, cy = (x0 + x1) / 2 + bend * dy / k, (y0 + y1) / 2 - bend * dx
    s = np.linspace(0.0, 1.0, n + 1)
    xs = (1 - s) ** 2 * x0 + 2 * (1 - s) * s * cx + s ** 2 * x1
    ys = (1 - s) ** 2 * y0 + 2 * (1 - s) * s * cy + s ** 2 * y1
    return [[round(float(y), 5), round(float(x), 5)] for x, y in zip(xs, ys)]


def main_flow_mask(values, *, share: float = MAIN_SHARE, min_value: float | None = None) -> np.ndarray:
    """Which flows are main flows (drawn strongly; the others go to a layer off by default).

    With ``min_value``: the flows of at least ``min_value``. Otherwise the largest flows that together carry
    ``share`` of the total: the flows of at least ``v``, ``v`` the largest value such that those flows carry
    ``share`` of the total (so equal flows are all in or all out). Missing, negative and zero values count
    as 0 and are never main flows."""
    if min_value is None and not (isinstance(share, (int, float)) and 0 < share <= 1):
        raise MapError("map.flows_main", share=share, min=min_value)
    if min_value is not None and not (isinstance(min_value, (int, float)) and np.isfinite(min_value) and min_value > 0):
        raise MapError("map.flows_main", share=share, min=min_value)
    v = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float)
    v = np.where(np.isfinite(v) & (v > 0), v, 0.0)
    if min_value is not None:
        return v >= min_value
    total = v.sum()
    if total <= 0:
        return np.zeros(len(v), dtype=bool)
    desc = np.sort(v)[::-1]
    k = int(np.searchsorted(np.cumsum(desc), share * total * (1 - 1e-12), side="left"))
    return (v >= desc[min(k, len(desc) - 1)]) & (v > 0)


def _radius(value: float, vmax: float) -> float:
    """A receiving county's circle: its area by the firms it receives."""
    if not vmax or value <= 0:
        return DEST_MIN_PX
    return round(max(DEST_MIN_PX, DEST_MAX_PX * math.sqrt(value / vmax)), 2)


def _heading(path: list[list[float]]) -> float:
    """The direction of travel at the end of ``path`` (``[lat, lon]`` points) on the Web Mercator map, in
    degrees clockwise from east (as the screen's y axis points down)."""
    (lat0, lon0), (lat1, lon1) = path[-2], path[-1]

    def merc(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

    return round(math.degrees(math.atan2(-(merc(lat1) - merc(lat0)), math.radians(lon1 - lon0))), 2)


# the main layer of a group: the arcs smallest first (the largest on top), an arrowhead at each arc's end (a
# small SVG triangle made here, its tip at the receiving circle's edge), the receiving counties' circles
# (white, ringed in the group's colour, above the arcs, in a pane of their own below the arrowheads; the
# circles of every shown layer restacked largest first whenever a layer is shown, so that where a county
# receives in several scenarios their rings nest, each visible and each with its tooltip),
# moves within a county as circles; the other flows go to a group of their own in a pane below
# (PARKPLAN.flowRest[this layer's name], the layer "other flows", off by default)
_MAIN_JS = (
    "var __NAME__ = L.featureGroup(); (function (d, map) {"
    " if (!map.getPane('ppFlowRest')) { map.createPane('ppFlowRest').style.zIndex = 390; }"
    " if (!map.getPane('ppFlowDest')) { map.createPane('ppFlowDest').style.zIndex = 450; }"
    " var rest = L.featureGroup(); (PARKPLAN.flowRest = PARKPLAN.flowRest || {})['__NAME__'] = rest;"
    " function head(f, cls, opacity, pane, group) {"
    "  var hl = 5 + f.w * 0.8, hw = 3 + f.w * 0.6, b = f.back, s = Math.ceil(2 * (b + hl + 2)), c = s / 2;"
    "  var ns = 'http://www.w3.org/2000/svg', svg = document.createElementNS(ns, 'svg'),"
    "   p = document.createElementNS(ns, 'polygon');"
    "  svg.setAttribute('width', s); svg.setAttribute('height', s); svg.setAttribute('class', cls);"
    "  p.setAttribute('points', (c - b) + ',' + c + ' ' + (c - b - hl) + ',' + (c - hw) + ' ' + (c - b - hl) + ',' + (c + hw));"
    "  p.setAttribute('transform', 'rotate(' + f.head + ' ' + c + ' ' + c + ')');"
    "  p.setAttribute('fill', d.color); p.setAttribute('fill-opacity', opacity); svg.appendChild(p);"
    "  L.marker(f.path[f.path.length - 1], {icon: L.divIcon({html: svg, className: 'pp-flow-head-icon',"
    "   iconSize: [s, s], iconAnchor: [c, c]}), interactive: false, keyboard: false, pane: pane}).addTo(group); }"
    " var rings = (map.ppFlowDest = map.ppFlowDest || []);"
    " d.dest.forEach(function (f) {"
    "  rings.push(L.circleMarker(f.at, {radius: f.r, color: d.ring, weight: 2, fillColor: '#ffffff', fillOpacity: 0.8,"
    "   pane: 'ppFlowDest', className: 'pp-flow-dest'}).bindTooltip(PARKPLAN.el('span', '', f.title), {sticky: true})"
    "   .addTo(__NAME__)); });"
    " __NAME__.on('add', function () {"
    "  rings.filter(function (c) { return map.hasLayer(c); })"
    "   .sort(function (a, b) { return b.getRadius() - a.getRadius(); })"
    "   .forEach(function (c) { c.bringToFront(); }); });"
    " d.arcs.forEach(function (f) {"
    "  var main = f.main, group = main ? __NAME__ : rest;"
    "  L.polyline(f.path, {color: d.color, weight: f.w, opacity: main ? 0.6 : 0.3, lineCap: 'round',"
    "   className: main ? 'pp-flow' : 'pp-flow-rest', pane: main ? 'overlayPane' : 'ppFlowRest'})"
    "   .bindTooltip(PARKPLAN.el('span', '', f.title), {sticky: true})"
    "   .bindPopup(function () { return PARKPLAN.table(f.title, f.rows); }).addTo(group);"
    "  head(f, main ? 'pp-flow-head' : 'pp-flow-head-rest', main ? 0.9 : 0.45, main ? 'markerPane' : 'ppFlowRest', group); });"
    " d.within.forEach(function (f) {"
    "  L.circleMarker(f.at, {radius: 3 + f.w, color: d.color, weight: 2, fill: true, fillOpacity: 0.25,"
    "   dashArray: '4 3', className: 'pp-flow-within'})"
    "   .bindTooltip(PARKPLAN.el('span', '', f.title), {sticky: true})"
    "   .bindPopup(function () { return PARKPLAN.table(f.title, f.rows); }).addTo(__NAME__); });"
    "})(__DATA__, __MAP__);")


def _width(value: float, vmax: float) -> float:
    if not vmax or not np.isfinite(value) or value <= 0:
        return MIN_WIDTH_PX
    return round(MIN_WIDTH_PX + (MAX_WIDTH_PX - MIN_WIDTH_PX) * math.sqrt(value / vmax), 2)


def _labels(lang: str):
    from parks.suitability.plan_report import label

    return lambda key, **kw: label(key, lang, **kw)


def flows_map(ds: Dataset, flows: pd.DataFrame, *, lang: str = "zh", opts: MapOptions | None = None,
              width_by: str = "firms", color_by: str | None = None, title_suffix: str | None = None,
              main_share: float = MAIN_SHARE, main_min: float | None = None) -> folium.Map:
    """The map of ``flows`` over the dataset's counties (see the module docstring).

    ``width_by``: ``firms`` or ``jobs``. ``color_by``: ``scenario`` (one layer per scenario), ``status``
    (the most frequent ``status_<status>`` of each pair) or None (``scenario`` when the column exists,
    else ``status`` when status counts exist, else one colour).

    ``main_share`` / ``main_min``: which flows between counties are drawn strongly (:func:`main_flow_mask`
    over the ``width_by`` values of each colour group: by default the largest flows carrying 80 % of it);
    the others are in a layer of their own, off by default, and the legend counts them.
    """
    from .transfers_map import _STATUS_LABEL, STATUS_COLORS

    opts = opts or MapOptions(lang=lang)
    lang = opts.lang
    L = _labels(lang)
    if width_by not in ("firms", "jobs"):
        raise MapError("map.width_by", width_by=width_by)
    main_flow_mask([], share=main_share, min_value=main_min)  # the rule's parameters checked before any work
    frame = pd.DataFrame(flows).copy()
    missing = [c for c in _NEEDED if c not in frame.columns]
    if missing:
        raise MapError("map.flows_columns", missing=listing(missing))
    if width_by == "jobs" and "jobs" not in frame.columns:
        raise MapError("map.flows_no_jobs")
    status_cols = [c for c in frame.columns if c.startswith("status_")]
    if color_by is None:
        color_by = "scenario" if "scenario" in frame.columns else ("status" if status_cols else "none")
    if color_by not in ("scenario", "status", "none"):
        raise MapError("map.color_by", color_by=color_by)
    if color_by == "scenario" and "scenario" not in frame.columns:
        raise MapError("map.flows_no_scenario")
    if color_by == "status" and not status_cols:
        raise MapError("map.flows_no_status")

    codes = ds.counties["code"].astype(str)
    names = dict(zip(codes, ds.counties["name"].astype(str)))
    cities = dict(zip(codes, ds.counties["city"].astype(str)))
    centre = ds.counties.to_crs(ds.metric_crs).geometry.representative_point().to_crs(4326)
    cx, cy = opts.shift_xy(centre.x.to_numpy(), centre.y.to_numpy())
    point = {c: (round(float(y), 5), round(float(x), 5)) for c, x, y in zip(codes, cx, cy)}
    for side in ("origin", "destination"):
        frame[f"{side}_county_code"] = frame[f"{side}_county_code"].map(lambda v: None if pd.isna(v) else str(v))
    drawable = frame["origin_county_code"].isin(point) & frame["destination_county_code"].isin(point)
    frame = frame[drawable].reset_index(drop=True)
    frame["flow_value"] = pd.to_numeric(frame[width_by], errors="coerce").fillna(0.0)
    vmax = float(frame["flow_value"].max()) if len(frame) else 0.0

    if color_by == "scenario":
        groups = list(dict.fromkeys(frame["scenario"].astype(str)))
        palette = {g: SCENARIO_COLORS.get(g) or OTHER_COLORS[i % len(OTHER_COLORS)] for i, g in enumerate(groups)}
        frame["flow_group"] = frame["scenario"].astype(str)
        group_label = {g: L(f"scenario_{g}") for g in groups}
    elif color_by == "status":
        frame["flow_group"] = frame[status_cols].idxmax(axis=1).str.removeprefix("status_") if len(frame) else []
        groups = list(dict.fromkeys(frame["flow_group"]))
        palette = {g: STATUS_COLORS.get(g, "#ff7f00") for g in groups}
        group_label = {g: t(_STATUS_LABEL.get(g, g), lang) for g in groups}
    else:
        frame["flow_group"] = "flows"
        groups = ["flows"] if len(frame) else []
        palette, group_label = {"flows": "#e41a1c"}, {"flows": L("table_flows")}

    title = L("table_flows") + (f" · {title_suffix}" if title_suffix else "")
    total = int(frame["firms"].sum()) if len(frame) else 0
    colon = "：" if lang == "zh" else ": "
    note = f"{L('firms')}{colon}{total:,}" + (f" · {L('jobs')}{colon}{int(frame['jobs'].sum()):,}"
                                               if "jobs" in frame.columns and len(frame) else "")
    m = new_map(ds, opts, title, note=note)
    add_counties(m, ds, opts)

    def rows(r) -> list[list]:
        out = [[L("origin_county"), f"{names[r.origin_county_code]}（{cities[r.origin_county_code]}）" if lang == "zh"
                else f"{names[r.origin_county_code]} ({cities[r.origin_county_code]})"],
               [L("destination_county"), f"{names[r.destination_county_code]}（{cities[r.destination_county_code]}）"
                if lang == "zh" else f"{names[r.destination_county_code]} ({cities[r.destination_county_code]})"],
               [L("firms"), int(r.firms)]]
        if "jobs" in frame.columns and not pd.isna(r.jobs):
            out.append([L("jobs"), f"{int(r.jobs):,}"])  # as the pages write numbers: 2,189
        if "land_ha" in frame.columns and not pd.isna(r.land_ha):
            out.append([L("land_ha"), f"{float(r.land_ha):,.2f}"])
        if color_by == "scenario":
            out.insert(0, [L("scenario"), group_label[r.flow_group]])
        for c in status_cols:
            n = int(frame.at[r.Index, c])
            if n:
                s = c.removeprefix("status_")
                out.append([t(_STATUS_LABEL.get(s, s), lang), n])
        return out

    # the main flows: the rule over the flows between counties of each group (scenario / status)
    arcs_mask = frame["origin_county_code"] != frame["destination_county_code"]
    frame["main"] = False
    for g in groups:
        sel = arcs_mask & (frame["flow_group"] == g)
        frame.loc[sel, "main"] = main_flow_mask(frame.loc[sel, "flow_value"], share=main_share, min_value=main_min)
    between = frame[arcs_mask]
    received = between.groupby(["flow_group", "destination_county_code"])["firms"].sum()
    rmax = float(received.max()) if len(received) else 0.0

    several = len(groups) > 1  # then each group's receiving circles are ringed in its colour and named
    for g in groups:
        # smallest first: the largest flows are drawn last, on top
        sub = frame[frame["flow_group"] == g].sort_values("flow_value", ascending=True, kind="stable")
        dest_r = {d: _radius(float(n), rmax) for (gg, d), n in received.items() if gg == g}
        arcs, within = [], []
        for r in sub.itertuples():
            o, d = r.origin_county_code, r.destination_county_code
            title_text = (f"{names[o]} → {names[d]}" if o != d else f"{names[o]} · {L('same_county')}") + \
                f" · {L('firms')} {int(r.firms)}"
            item: dict[str, Any] = {"title": title_text, "rows": rows(r), "w": _width(float(r.flow_value), vmax)}
            if o == d:
                item["at"] = list(point[o])
                within.append(item)
            else:
                path = arc(point[o], point[d])
                item["path"] = path
                item["main"] = bool(r.main)
                item["head"] = _heading(path)
                item["back"] = dest_r.get(d, 0.0)
                arcs.append(item)
        # the largest circles first, so that a smaller one next to a larger one stays on top of it
        ins = sorted(((d, int(n)) for (gg, d), n in received.items() if gg == g), key=lambda x: -x[1])
        prefix = f"{group_label[g]} · " if several else ""  # rings of several groups may nest
        dest = [{"at": list(point[d]), "r": dest_r[d], "n": n,
                 "title": prefix + t("flows_receives", lang).format(name=names[d], n=f"{n:,}")} for d, n in ins]
        n_main = sum(1 for a in arcs if a["main"])
        main_layer = JsLayer(_MAIN_JS, t("flows_main", lang).format(group=group_label[g], n=n_main),
                             key=f"flows-{g}", data={"color": palette[g], "arcs": arcs, "within": within, "dest": dest,
                                   "ring": palette[g] if several else "#333333"})
        main_layer.add_to(m)
        if n_main < len(arcs):
            JsLayer("var __NAME__ = PARKPLAN.flowRest[__DATA__.of];",
                    t("flows_rest", lang).format(group=group_label[g], n=len(arcs) - n_main), key=f"flows-rest-{g}",
                    show=False, data={"of": main_layer.get_name()}).add_to(m)

    add_place_labels(m, ds, opts)  # every county named, cities at provincial zoom, sized to the zoom (as every map)

    by = L("firms") if width_by == "firms" else L("jobs")
    width_note = L("width_note", by=by, max=f"{vmax:,.0f}")
    main_rows, rest_rows = between[between["main"]], between[~between["main"]]
    moving = int(between["firms"].sum())
    share_text = f"{(int(main_rows['firms'].sum()) / moving if moving else 0.0):.0%}"
    main_key = "flows_main_note" if main_min is None else "flows_main_min_note"
    main_note = t(main_key, lang).format(n=len(main_rows), firms=f"{int(main_rows['firms'].sum()):,}", share=share_text,
                                         min="" if main_min is None else f"{main_min:,g}")
    notes = [{"color": "#555555", "label": main_note, "shape": "line"}]
    if len(rest_rows):
        notes.append({"color": "#bbbbbb", "label": t("flows_rest_note", lang).format(
            n=len(rest_rows), firms=f"{int(rest_rows['firms'].sum()):,}"), "shape": "line"})
        notes.append({"color": "#ffffff", "label": t("flows_rest_where", lang), "shape": "line"})
    if len(between):
        notes.append({"color": "#555555", "label": t("flows_arrow", lang), "shape": "line"})
        notes.append({"color": "#ffffff", "border": "#555555", "shape": "dot",
                      "label": t("flows_receiving_groups" if several else "flows_receiving", lang)
                      .format(max=f"{rmax:,.0f}")})
    if (~arcs_mask).any():
        notes.append({"color": "#888888", "label": L("same_county"), "shape": "dot"})
    notes.append({"color": "#888888", "label": width_note, "shape": "line"})
    legend = [county_legend(lang),
              {"title": L("table_flows"), "items": [{"color": palette[g], "label": group_label[g], "shape": "line"}
                                                    for g in groups]},
              {"title": "", "items": notes}]
    search = [search_source(ds.counties["name"], centre.x, centre.y, opts, t("counties", lang))]
    return finish_map(m, opts, legend=legend, search=search)
