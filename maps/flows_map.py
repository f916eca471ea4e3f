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

import folium
import numpy as np
import pandas as pd

from geodata.messages import listing
from .base import JsLayer, MapError, MapOptions, add_counties, county_legend, finish_map, new_map, search_source
from .i18n import t
from .places import add_place_labels
from geodata.dataset import Dataset

__all__ = ["flows_map", "SCENARIO_COLORS", "arc"]

SCENARIO_COLORS = {"urban-core": "#e41a1c", "scattered": "#377eb8", "coastal-transfer": "#4daf4a"}
OTHER_COLORS = ["#984ea3", "#ff7f00", "#a65628", "#f781bf", "#999999"]
MAX_WIDTH_PX = 14.0
MIN_WIDTH_PX = 1.5
ARC_POINTS = 24
ARC_BEND = 0.18  # the arc's control point sits this fraction of the chord to the right of its middle

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


def _width(value: float, vmax: float) -> float:
    if not vmax or not np.isfinite(value) or value <= 0:
        return MIN_WIDTH_PX
    return round(MIN_WIDTH_PX + (MAX_WIDTH_PX - MIN_WIDTH_PX) * math.sqrt(value / vmax), 2)


def _labels(lang: str):
    from parks.suitability.plan_report import label

    return lambda key, **kw: label(key, lang, **kw)


def flows_map(ds: Dataset, flows: pd.DataFrame, *, lang: str = "zh", opts: MapOptions | None = None,
              width_by: str = "firms", color_by: str | None = None, title_suffix: str | None = None) -> folium.Map:
    """The map of ``flows`` over the dataset's counties (see the module docstring).

    ``width_by``: ``firms`` or ``jobs``. ``color_by``: ``scenario`` (one layer per scenario), ``status``
    (the most frequent ``status_<status>`` of each pair) or None (``scenario`` when the column exists,
    else ``status`` when status counts exist, else one colour).
    """
    from .transfers_map import _STATUS_LABEL, STATUS_COLORS

    opts = opts or MapOptions(lang=lang)
    lang = opts.lang
    L = _labels(lang)
    if width_by not in ("firms", "jobs"):
        raise MapError("map.width_by", width_by=width_by)
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

    for g in groups:
        sub = frame[frame["flow_group"] == g].sort_values("flow_value", ascending=False)
        arcs, within = [], []
        for r in sub.itertuples():
            o, d = r.origin_county_code, r.destination_county_code
            title_text = (f"{names[o]} → {names[d]}" if o != d else f"{names[o]} · {L('same_county')}") + \
                f" · {L('firms')} {int(r.firms)}"
            item = {"title": title_text, "rows": rows(r), "w": _width(float(r.flow_value), vmax)}
            if o == d:
                item["at"] = list(point[o])
                within.append(item)
            else:
                item["path"] = arc(point[o], point[d])
                arcs.append(item)
        JsLayer(
            "var __NAME__ = L.featureGroup(); (function (d) {"
            " d.arcs.forEach(function (f) {"
            "  L.polyline(f.path, {color: d.color, weight: f.w, opacity: 0.75, lineCap: 'round', className: 'pp-flow'})"
            "   .bindTooltip(PARKPLAN.el('span', '', f.title), {sticky: true})"
            "   .bindPopup(function () { return PARKPLAN.table(f.title, f.rows); }).addTo(__NAME__);"
            "  L.circleMarker(f.path[f.path.length - 1], {radius: 2 + f.w / 3, color: d.color, weight: 1, fill: true,"
            "   fillOpacity: 0.9, className: 'pp-flow-end'}).addTo(__NAME__); });"
            " d.within.forEach(function (f) {"
            "  L.circleMarker(f.at, {radius: 3 + f.w, color: d.color, weight: 2, fill: true, fillOpacity: 0.25,"
            "   className: 'pp-flow-within'})"
            "   .bindTooltip(PARKPLAN.el('span', '', f.title), {sticky: true})"
            "   .bindPopup(function () { return PARKPLAN.table(f.title, f.rows); }).addTo(__NAME__); });"
            "})(__DATA__);",
            f"{group_label[g]} ({len(sub)})", key=f"flows-{g}",
            data={"color": palette[g], "arcs": arcs, "within": within}).add_to(m)

    add_place_labels(m, ds, opts)  # every county named, cities at provincial zoom, sized to the zoom (as every map)

    by = L("firms") if width_by == "firms" else L("jobs")
    width_note = L("width_note", by=by, max=f"{vmax:,.0f}")
    legend = [county_legend(lang),
              {"title": L("table_flows"), "items": [{"color": palette[g], "label": group_label[g], "shape": "line"}
                                                    for g in groups]},
              {"title": "", "items": [{"color": "#888888", "label": L("same_county"), "shape": "dot"},
                                      {"color": "#888888", "label": width_note, "shape": "line"}]}]
    search = [search_source(ds.counties["name"], centre.x, centre.y, opts, t("counties", lang))]
    return finish_map(m, opts, legend=legend, search=search)
