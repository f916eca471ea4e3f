"""The transfers map: flows from origin counties to the receiving parks in less-developed counties,
each candidate's status, the less-developed counties highlighted; optionally one county's candidates
(origin or destination) for its office.

Input: transfer candidates as a DataFrame with ``candidate_id``, ``enterprise_id``,
``origin_county_code``, ``destination_county_code``, ``park_id``, ``status`` (and ``score``), as the
review API lists them or as ``parks.suitability`` proposes them.
"""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import pandas as pd
import shapely

from geodata.dataset import Dataset

from geodata.messages import listing
from .base import (JsLayer, MapError, MapOptions, add_counties, county_legend, finish_map, geojson_layer,
                   new_map, search_source)
from .flows_map import _width, arc
from .places import add_place_labels
from .i18n import t

__all__ = ["transfers_map", "candidate_map", "candidate_map_inputs", "STATUS_COLORS", "SECOND_COLOR", "normalise_candidates"]

STATUS_COLORS = {"pending": "#ff7f00", "proposed": "#ff7f00", "approved": "#1a9641", "needs_info": "#2c7bb6",
                 "rejected": "#7b7b7b"}
#: a review status -> its glossary key (the words of the review pages)
_STATUS_LABEL = {"pending": "status_pending", "proposed": "status_proposed", "approved": "status_approved",
                 "rejected": "status_rejected", "needs_info": "status_needs_info"}
#: statuses with a decision; the others are drawn dashed
DECIDED = ("approved", "rejected", "needs_info")
SECOND_COLOR = "#80b1d3"
_REQUIRED = ("candidate_id", "enterprise_id", "origin_county_code", "destination_county_code", "park_id", "status")


def normalise_candidates(candidates) -> pd.DataFrame:
    """Candidates as a DataFrame with the required columns as strings (raises MapError if one lacks)."""
    if candidates is None:
        return pd.DataFrame({c: pd.Series(dtype=str) for c in _REQUIRED})
    frame = pd.DataFrame(candidates)
    missing = [c for c in _REQUIRED if c not in frame.columns]
    if missing:
        raise MapError("map.candidates_columns", missing=listing(missing), required=listing(_REQUIRED))
    frame = frame.copy()
    for c in _REQUIRED:
        frame[c] = frame[c].astype(str)
    return frame


def transfers_map(ds: Dataset, candidates, *, lang: str = "zh", county: str | None = None,
                  opts: MapOptions | None = None, width_by: str = "firms", firms: bool = True) -> folium.Map:
    """Flows aggregated between counties (one arc per origin and destination county, drawn as
    :func:`maps.flows_map.arc`; width by the number of firms or, ``width_by="jobs"``, their employees;
    colour by the most frequent review status, undecided pairs dashed) and the receiving parks.
    ``county`` keeps that office's candidates and fits the view to its origins and destinations.
    ``firms=False`` draws the aggregated flows only: counts by county pair and status, no candidate id or
    firm name (what a viewer or an analyst, who reviews no office's candidates, is shown)."""
    if width_by not in ("firms", "jobs"):
        raise MapError("map.width_by", width_by=width_by)
    opts = opts or MapOptions(lang=lang)
    lang = opts.lang
    cand = normalise_candidates(candidates)
    codes = ds.counties["code"].astype(str)
    if county is not None:
        if str(county) not in set(codes):
            raise MapError("map.county", county=county)
        cand = cand[(cand["origin_county_code"] == str(county)) | (cand["destination_county_code"] == str(county))]
    names = dict(zip(codes, ds.counties["name"]))
    ent_names = dict(zip(ds.enterprises["enterprise_id"].astype(str), ds.enterprises["name"]))
    parks = ds.parks.set_index(ds.parks["park_id"].astype(str))
    cand = cand[cand["park_id"].isin(parks.index)]
    title = t("title_transfers", lang) + (f" · {names.get(str(county), county)}" if county else "")
    note = (f"{t('n_candidates', lang)}{'：' if lang == 'zh' else ': '}{len(cand):,}" if len(cand)
            else t("no_transfers", lang))
    involved = set(cand["origin_county_code"].astype(str)) | set(cand["destination_county_code"].astype(str))
    county_frame = (ds.counties[codes.isin(involved)] if county and involved
                    else ds.counties[codes == str(county)] if county else None)
    m = new_map(ds, opts, title, note=note, bounds_frame=county_frame)
    add_counties(m, ds, opts)

    park_ids = sorted(set(cand["park_id"]))
    if park_ids:
        rp = gpd.GeoDataFrame({"park_id": park_ids}, geometry=[parks.geometry[p] for p in park_ids], crs=ds.parks.crs)
        rows = []
        for p in park_ids:
            sub = cand[cand["park_id"] == p]
            rows.append([(t("park_id", lang), p), (t("county", lang), names.get(str(parks["county_code"][p]))),
                         (t("n_enterprises", lang), len(sub))]
                        + [(t(_STATUS_LABEL.get(s, s), lang), int(n)) for s, n in sub["status"].value_counts().items()])
        pnames = [parks["name"][p] for p in park_ids]
        geojson_layer(rp, opts, name=t("transfer_parks", lang), key="parks",
                      style={"color": "#000", "weight": 1.5, "fillColor": "#ffd92f", "fillOpacity": 0.9},
                      tip=pnames, title=pnames, rows=rows).add_to(m)

    centre = ds.counties.to_crs(ds.metric_crs).geometry.representative_point().to_crs(4326)
    cx, cy = opts.shift_xy(centre.x.to_numpy(), centre.y.to_numpy())
    centres = {c: (round(float(y), 5), round(float(x), 5)) for c, x, y in zip(codes, cx, cy)}
    jobs = dict(zip(ds.enterprises["enterprise_id"].astype(str),
                    pd.to_numeric(ds.enterprises["employees"], errors="coerce").fillna(0)))
    cand = cand.assign(jobs=[float(jobs.get(str(e), 0.0)) for e in cand["enterprise_id"]])
    pairs = (cand[cand["origin_county_code"].isin(centres) & cand["destination_county_code"].isin(centres)]
             .groupby(["origin_county_code", "destination_county_code"], sort=True))
    values = pairs["jobs"].sum() if width_by == "jobs" else pairs.size()
    vmax = float(values.max()) if len(values) else 0.0
    unit = t("n_enterprises", lang) if width_by == "firms" else t("employees", lang)
    flows = []
    for (origin, dest), sub in pairs:
        counts = sub["status"].value_counts()
        status = counts.idxmax()
        value = float(values[(origin, dest)])
        flows.append({
            "from": centres[origin], "to": centres[dest], "n": int(len(sub)),
            "path": arc(centres[origin], centres[dest]) if origin != dest else [centres[origin]],
            "width": _width(value, vmax), "color": STATUS_COLORS.get(status, "#ff7f00"),
            "dash": None if status in DECIDED else "6 4",
            "title": f"{names.get(origin, origin)} → {names.get(dest, dest)}",
            "rows": [[t("origin", lang), names.get(origin, origin)], [t("destination", lang), names.get(dest, dest)],
                     [t("n_enterprises", lang), f"{len(sub):,}"], [t("employees", lang), f"{int(sub['jobs'].sum()):,}"]]
                    + [[t(_STATUS_LABEL.get(st, st), lang), f"{int(n):,}"] for st, n in counts.items()]
                    + ([[f"{r.candidate_id} · {ent_names.get(r.enterprise_id, r.enterprise_id)}",
                         t(_STATUS_LABEL.get(r.status, r.status), lang)] for r in sub.itertuples()][:30]
                       if firms else []),
        })
    JsLayer(
        "var __NAME__ = L.featureGroup(); __DATA__.forEach(function (f) {"
        " var line = f.path.length > 1 ? L.polyline(f.path, {color: f.color, weight: f.width, opacity: 0.85,"
        " dashArray: f.dash, className: 'pp-flow'}) : L.circleMarker(f.from, {radius: 3 + f.width, color: f.color,"
        " dashArray: f.dash, className: 'pp-flow'});"
        " line.bindTooltip(PARKPLAN.el('span', '', f.title))"
        ".bindPopup(function () { return PARKPLAN.table(f.title, f.rows); }).addTo(__NAME__);"
        " L.circleMarker(f.from, {radius: 3, color: f.color, fill: true, fillOpacity: 1}).addTo(__NAME__); });",
        f"{t('flows', lang)} ({len(flows)})", key="flows", data=flows).add_to(m)
    statuses = [s for s in ("pending", "approved", "needs_info", "rejected")]
    legend = [county_legend(lang),
              {"title": f"{t('flows', lang)} · {unit}", "items": [
                  {"color": STATUS_COLORS[s], "label": t(_STATUS_LABEL[s], lang), "shape": "line"} for s in statuses]},
              {"title": "", "items": [{"color": "#ffd92f", "label": t("transfer_parks", lang)}]}]
    search: list[dict | str] = [search_source(ds.counties["name"], centre.x, centre.y, opts, t("counties", lang))]
    if park_ids:
        pp = parks.loc[park_ids].to_crs(ds.metric_crs).geometry.representative_point().to_crs(4326)
        search.append(search_source([parks["name"][p] for p in park_ids], pp.x, pp.y, opts, t("transfer_parks", lang)))
    add_place_labels(m, ds, opts)
    return finish_map(m, opts, legend=legend, search=search)


def _mapping(value: object) -> dict:
    """``value`` if it is a dict (a snapshot's part), else an empty one."""
    return value if isinstance(value, dict) else {}


def _candidate_site(ds: Dataset, cand: dict, snap: dict) -> tuple[float, float] | None:
    """(lon, lat) of the candidate's enterprise: the frozen snapshot's, else the dataset's."""
    ent = _mapping(snap.get("enterprise"))
    try:
        if ent.get("lon") is not None and ent.get("lat") is not None:
            return float(ent["lon"]), float(ent["lat"])
    except (TypeError, ValueError):
        pass
    hit = ds.enterprises[ds.enterprises["enterprise_id"].astype(str) == str(cand["enterprise_id"])]
    if hit.empty:
        return None
    g = hit.geometry.to_crs(4326).iloc[0]
    return float(g.x), float(g.y)


#: what :func:`candidate_map` reads of a candidate (the columns of :func:`normalise_candidates`, its score) and
#: of its frozen snapshot; nothing else of it (version, history, comment, who decided) changes the map
_MAP_FIELDS = (*_REQUIRED, "score")
_MAP_SNAPSHOT = {"enterprise": ("lon", "lat", "name"), "second_best": ("park_id", "score"),
                 "alternative": ("park_id", "score"), "score": None}


def candidate_map_inputs(candidate: dict) -> dict:
    """The part of ``candidate`` that :func:`candidate_map` draws: a map is a function of this alone (it builds from
    it), so a kept map may be keyed by it. A decision changes the map only through ``status``."""
    out = {k: candidate.get(k) for k in _MAP_FIELDS if k in candidate}
    snap = _mapping(candidate.get("snapshot"))
    kept: dict[str, Any] = {}
    for k, fields in _MAP_SNAPSHOT.items():
        if k not in snap:
            continue
        kept[k] = snap[k] if fields is None else {f: _mapping(snap[k]).get(f) for f in fields if f in _mapping(snap[k])}
    if kept:
        out["snapshot"] = kept
    return out


def candidate_map(ds: Dataset, candidate: dict, *, lang: str = "zh", opts: MapOptions | None = None) -> folium.Map:
    """The map of one transfer candidate: its enterprise's site, the proposed park (highlighted), the
    second-best park of its frozen snapshot, and the lines from the site to both, zoomed to them.

    ``candidate``: a mapping with the columns of :func:`normalise_candidates` and optionally ``score``
    and ``snapshot`` (``enterprise`` with ``lon``/``lat``/``name``, ``alternative`` or ``second_best``
    with ``park_id``/``score``), as ``api.reviews.candidate_public(..., snapshot=True)`` returns it."""
    opts = opts or MapOptions(lang=lang)
    lang = opts.lang
    candidate = candidate_map_inputs(candidate)
    cand = normalise_candidates([candidate]).iloc[0].to_dict()
    snap = _mapping(candidate.get("snapshot"))
    names = dict(zip(ds.counties["code"].astype(str), ds.counties["name"]))
    parks = ds.parks.set_index(ds.parks["park_id"].astype(str))
    ent_info = _mapping(snap.get("enterprise"))
    ent_name = ent_info.get("name") or dict(zip(ds.enterprises["enterprise_id"].astype(str),
                                                ds.enterprises["name"])).get(cand["enterprise_id"]) or cand["enterprise_id"]
    alt = _mapping(snap.get("second_best") or snap.get("alternative"))
    second = str(alt["park_id"]) if alt.get("park_id") is not None else None
    second = second if second in parks.index and second != cand["park_id"] else None
    proposed = cand["park_id"] if cand["park_id"] in parks.index else None
    site = _candidate_site(ds, cand, snap)

    focus = [parks.geometry[p] for p in (proposed, second) if p]
    if site is not None:
        focus.append(shapely.Point(site))
    bounds = near = None
    if focus:
        # padded by a fifth of the extent (at least 3 km) on every side, so the parks' labels, drawn beside
        # them, and the site's marker stay inside the view
        metric = gpd.GeoSeries(focus, crs=4326).to_crs(ds.metric_crs)
        minx, miny, maxx, maxy = metric.total_bounds
        pad = max(3000.0, 0.2 * max(maxx - minx, maxy - miny))
        bounds = gpd.GeoDataFrame(geometry=metric.buffer(pad).to_crs(4326))
        # the counties drawn: those within the view's extent again on every side (the reviewer zooms out to the
        # origin's and the destination's neighbours, not to the province: /maps/transfers draws that)
        vx0, vy0, vx1, vy1 = metric.buffer(pad).total_bounds
        grow = 0.25 * max(vx1 - vx0, vy1 - vy0)
        near = gpd.GeoSeries([shapely.box(vx0 - grow, vy0 - grow, vx1 + grow, vy1 + grow)],
                             crs=ds.metric_crs).to_crs(ds.counties.crs).iloc[0]
    status = t(_STATUS_LABEL.get(cand["status"], cand["status"]), lang)
    title = f"{t('title_candidate', lang)} {cand['candidate_id']} · {ent_name}"
    route = f"{names.get(cand['origin_county_code'], cand['origin_county_code'])} → " \
            f"{names.get(cand['destination_county_code'], cand['destination_county_code'])}"
    m = new_map(ds, opts, title, note=f"{route} · {status}", bounds_frame=bounds)
    add_counties(m, ds, opts, near=near)

    def park_layer(park_id, key, label, style, score):
        row = parks.loc[park_id]
        frame = gpd.GeoDataFrame({"park_id": [park_id]}, geometry=[row.geometry], crs=ds.parks.crs)
        rows = [(t("park_id", lang), park_id), (t("county", lang), names.get(str(row["county_code"]), row["county_code"])),
                (t("score", lang), None if score is None else round(float(score), 4))]
        # a permanent label names the role (parks are small at the zoom that shows the site too)
        geojson_layer(frame, opts, name=label, key=key, style=style, tip=[f"{label}: {row['name']}"],
                      title=[row["name"]], rows=[rows], label=[label], ids=[park_id]).add_to(m)

    color = STATUS_COLORS.get(cand["status"], "#ff7f00")
    if second:
        park_layer(second, "second", t("second_best", lang),
                   {"color": "#1f78b4", "weight": 2, "dashArray": "5 4", "fillColor": SECOND_COLOR, "fillOpacity": 0.8},
                   alt.get("score"))
    if proposed:
        park_layer(proposed, "proposed", t("proposed_park", lang),
                   {"color": "#000", "weight": 3, "fillColor": "#ffd92f", "fillOpacity": 0.95},
                   candidate.get("score", snap.get("score")))
    search: list[dict | str] = []
    if site is not None:
        x, y = opts.shift_xy([site[0]], [site[1]])
        here = [round(float(y[0]), 5), round(float(x[0]), 5)]
        lines = []
        for park_id, label, style in ((proposed, t("line_proposed", lang), {"color": color, "weight": 3, "ppRole": "proposed"}),
                                      (second, t("line_second", lang), {"color": "#1f78b4", "weight": 2, "dashArray": "6 4"})):
            if park_id:
                g = opts.shift(gpd.GeoDataFrame(geometry=[parks.geometry[park_id]], crs=ds.parks.crs)).geometry.iloc[0]
                p = g.representative_point()
                lines.append({"to": [round(p.y, 5), round(p.x, 5)], "label": f"{label}: {parks['name'][park_id]}",
                              "style": {**style, "className": "pp-line"}})
        JsLayer(
            "var __NAME__ = L.featureGroup(); (function (d) {"
            " d.lines.forEach(function (l) { L.polyline([d.site, l.to], l.style)"
            ".bindTooltip(PARKPLAN.el('span', '', l.label)).addTo(__NAME__); });"
            "})(__DATA__);",
            t("lines_site", lang), key="lines", data={"site": here, "lines": lines}).add_to(m)
        rows = [[t("enterprise_id", lang), cand["enterprise_id"]], [t("origin", lang), names.get(cand["origin_county_code"])],
                [t("destination", lang), names.get(cand["destination_county_code"])], [t("status", lang), status]]
        # PARKPLAN.candidateStatus(status): the candidate page, after a decision saved in place, redraws the status
        # here (the site's and the line's colour, the legend's swatches, the title's note, the popup's row) from
        # this map's own table of statuses: a status it does not know changes nothing (answers false)
        statuses = {s: {"label": t(k, lang), "color": STATUS_COLORS.get(s, "#ff7f00")} for s, k in _STATUS_LABEL.items()}
        JsLayer(
            "var __NAME__ = L.featureGroup(); (function (d) { var site = L.circleMarker(d.site, {radius: 9, color: '#000', "
            "weight: 3, fillColor: d.color, fillOpacity: 1, className: 'pp-site'})"
            ".bindTooltip(PARKPLAN.el('span', '', d.name))"
            ".bindPopup(function () { return PARKPLAN.table(d.name, d.rows); })"
            ".addTo(__NAME__);"
            " PARKPLAN.candidateStatus = function (status) {"
            "  if (!Object.prototype.hasOwnProperty.call(d.statuses, status)) { return false; }"
            "  var s = d.statuses[status]; d.rows[d.rows.length - 1] = [d.rows[d.rows.length - 1][0], s.label];"
            "  site.setStyle({fillColor: s.color});"
            "  (PARKPLAN.layers.lines || []).forEach(function (g) { g.eachLayer(function (l) {"
            "   if (l.options.ppRole === 'proposed') { l.setStyle({color: s.color}); } }); });"
            "  document.querySelectorAll('.pp-legend-item[data-pp-key=site] i').forEach(function (i) {"
            "   i.style.background = s.color; });"
            "  document.querySelectorAll('.pp-legend-item[data-pp-key=line_proposed] i').forEach(function (i) {"
            "   i.style.borderColor = s.color; });"
            "  document.querySelectorAll('.pp-title-note').forEach(function (n) { n.textContent = d.route + ' · ' + s.label; });"
            "  document.documentElement.setAttribute('data-pp-status', status);"
            "  return true; };"
            " })(__DATA__);",
            t("site", lang), key="site", data={"site": here, "color": color, "name": str(ent_name), "rows": rows,
                                               "statuses": statuses, "route": route}).add_to(m)
        search.append({"label": [str(ent_name)], "lat": [here[0]], "lon": [here[1]], "kind": t("site", lang)})
    shown = [p for p in (proposed, second) if p]
    if shown:
        pp = parks.loc[shown].to_crs(ds.metric_crs).geometry.representative_point().to_crs(4326)
        search.append(search_source([parks["name"][p] for p in shown], pp.x, pp.y, opts, t("parks", lang)))
    legend = [county_legend(lang),
              {"title": t("title_candidate", lang), "items": [{"color": "#ffd92f", "label": t("proposed_park", lang), "border": "#000"},
                                      {"color": SECOND_COLOR, "label": t("second_best", lang)},
                                      {"color": color, "label": t("site", lang), "shape": "dot", "key": "site"},
                                      {"color": color, "label": t("line_proposed", lang), "shape": "line",
                                       "key": "line_proposed"},
                                      {"color": "#1f78b4", "label": t("line_second", lang), "shape": "line"}]}]
    add_place_labels(m, ds, opts)
    return finish_map(m, opts, legend=legend, search=search)
