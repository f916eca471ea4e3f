"""The suitability map for one enterprise: its site, the candidate parks coloured by score with their
rank, the excluded parks greyed with the reasons in the popup, and lines from the site to the top
parks. Input: a :class:`parks.suitability.SuitabilityResult` (``score_enterprise``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.colormap import LinearColormap

from geodata.dataset import Dataset
from parks.suitability.model import SuitabilityResult

from .base import (GeoJsonLayer, JsLayer, MapOptions, MapTemplate, Slot, add_counties, county_legend, display_geojson,
                   finish_map, geojson_collection, new_map, search_data, search_source, title_values)
from .places import add_place_labels
from .i18n import sector_label, t

__all__ = ["suitability_map", "parse_weights", "SCORE_COLORS", "EXCLUDED_COLOR", "SuitabilityBase",
           "suitability_values", "suitability_template", "template_slots"]

SCORE_COLORS = ["#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15"]
EXCLUDED_COLOR = "#bdbdbd"


def parse_weights(text: str | None) -> dict[str, float] | None:
    """``"distance:60,sector_fit:5"`` -> ``{"distance": 60.0, "sector_fit": 5.0}``, checked as
    :func:`parks.suitability.weights.normalise_weights` checks weights (raises :class:`MapError`)."""
    import math

    from parks.suitability import SuitabilityError
    from parks.suitability.weights import normalise_weights

    from .base import MapError

    if text is None:
        return None
    out: dict[str, float] = {}
    for item in filter(None, (x.strip() for x in text.split(","))):
        key, sep, value = item.partition(":")
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not sep or not math.isfinite(number):
            raise MapError("map.weights_item", item=item)
        out[key.strip()] = number
    if not math.isfinite(sum(out.values())):
        raise MapError("map.weights_too_large")
    try:
        normalise_weights(out)
    except SuitabilityError as exc:
        raise MapError("map.weights", reason=exc.text) from None
    return out


@dataclass(frozen=True)
class SuitabilityBase:
    """What every suitability map of a dataset shares, in one language and basemap (``opts``): the parks by id,
    the county names, each park's geometry as drawn (GeoJSON text) and its label point, the parks' search
    entries. Made once per dataset and options by a caller that keeps it (the server), else per map."""

    ds: Dataset
    opts: MapOptions
    parks: gpd.GeoDataFrame  # indexed by park id (text)
    county_names: dict
    geometry: dict[str, str | None]  # park id -> its geometry as geojson_layer draws it
    points: dict[str, list[float]]  # park id -> [lat, lon] of its representative point, as drawn
    parks_search: dict

    @classmethod
    def build(cls, ds: Dataset, opts: MapOptions) -> "SuitabilityBase":
        parks = ds.parks.set_index(ds.parks["park_id"].astype(str))
        ids = parks.index.tolist()
        shown = opts.shift(gpd.GeoDataFrame(geometry=parks.geometry.to_numpy(), crs=ds.parks.crs))
        rep = shapely.point_on_surface(shown.geometry.to_numpy())
        points = {pid: [round(float(y), 5), round(float(x), 5)]
                  for pid, x, y in zip(ids, shapely.get_x(rep), shapely.get_y(rep), strict=True)}
        pk = ds.parks.geometry.representative_point()
        return cls(ds=ds, opts=opts, parks=parks, county_names=dict(zip(ds.counties["code"].astype(str), ds.counties["name"])),
                   geometry=dict(zip(ids, display_geojson(parks[["geometry"]], opts), strict=True)), points=points,
                   parks_search=search_source(ds.parks["name"], pk.x, pk.y, opts, t("parks", opts.lang)))


#: the slots of a suitability map template, by which layers the map has: (excluded parks, ranked parks, a site)
def template_slots(shape: tuple[bool, bool, bool]) -> tuple[Slot, ...]:
    has_excluded, has_ranked, has_site = shape
    out = [Slot("title", "html"), Slot("title_note")]
    if has_excluded:
        out += [Slot("excluded"), Slot("excluded_name", "name")]
    if has_ranked:
        out += [Slot("candidates"), Slot("candidates_name", "name")]
    if has_site:
        out += [Slot("lines"), Slot("lines_name", "name"), Slot("site")]
    return (*out, Slot("legend"), Slot("search"))


def suitability_values(base: SuitabilityBase, result: SuitabilityResult, *, top_lines: int = 5,
                       top_labels: int = 10) -> tuple[tuple[bool, bool, bool], dict[str, Any]]:
    """The map's own data for ``result``: (its shape, slot name -> value), for :func:`suitability_template`'s
    :meth:`~maps.base.MapTemplate.page` (or :func:`suitability_map`, which builds the map with them)."""
    lang = base.opts.lang
    parks, names = base.parks, base.county_names
    info = result.enterprise
    who = info.get("name") or info.get("enterprise_id") or t("profile", lang)
    title = f"{t('title_suitability', lang)} · {who}"
    note = f"{info['enterprise_id']} · {sector_label(info.get('sector'), lang)}" if info.get("enterprise_id") else \
        f"{sector_label(info.get('sector'), lang)} · {info.get('land_ha')} ha · {t('employees', lang)} {info.get('employees')}"
    values: dict[str, Any] = title_values(title, note)

    from parks.suitability.criteria import CRITERIA_LABELS_EN, CRITERIA_LABELS_ZH

    crit_labels = CRITERIA_LABELS_ZH if lang == "zh" else CRITERIA_LABELS_EN
    ranked = [r for r in result.ranked if r.park_id in parks.index]
    scores = np.array([r.score for r in ranked], dtype=float)
    lo, hi = (float(np.nanmin(scores)), float(np.nanmax(scores))) if len(scores) else (0.0, 1.0)
    cmap = LinearColormap(SCORE_COLORS, vmin=lo, vmax=hi if hi > lo else lo + 1e-9)
    excluded = [e for e in result.excluded if e.park_id in parks.index]
    reason_key = "message_zh" if lang == "zh" else "message"
    park_name = parks["name"].to_dict()
    if excluded:
        ex_ids = [e.park_id for e in excluded]
        ex_names = [park_name[i] for i in ex_ids]
        ex_rows = [[(t("park_id", lang), e.park_id), (t("county", lang), names.get(str(e.county_code), e.county_code))]
                   + [(t("reasons", lang) if k == 0 else "", r.get(reason_key) or r.get("message") or r.get("code"))
                      for k, r in enumerate(e.reasons)] for e in excluded]
        values["excluded"] = geojson_collection(
            pd.DataFrame(index=range(len(ex_ids))), base.opts, key="excluded",
            style={"color": "#888", "weight": 1, "fillColor": EXCLUDED_COLOR, "fillOpacity": 0.5},
            tip=ex_names, title=ex_names, rows=ex_rows, ids=ex_ids, geometries=[base.geometry[i] for i in ex_ids])
        values["excluded_name"] = f"{t('excluded', lang)} ({len(excluded)})"
    if ranked:
        rk_ids = [r.park_id for r in ranked]
        rk_names = [park_name[i] for i in rk_ids]
        rk_rows = [[(t("rank", lang), r.rank), (t("score", lang), round(r.score, 3)), (t("park_id", lang), r.park_id),
                    (t("county", lang), names.get(str(r.county_code), r.county_code))]
                   + [(f"{crit_labels.get(c, c)} ({t('contribution', lang)})", round(v.contribution, 3))
                      for c, v in r.criteria.items()] for r in ranked]
        values["candidates"] = geojson_collection(
            pd.DataFrame(index=range(len(rk_ids))), base.opts, key="candidates", style={},
            styles=[{"color": "#333", "weight": 1, "fillColor": cmap(float(x)), "fillOpacity": 0.9} for x in scores],
            tip=[f"#{r.rank} {n}" for r, n in zip(ranked, rk_names)], title=rk_names, rows=rk_rows,
            label=[f"{r.rank}" if r.rank <= top_labels else None for r in ranked], ids=rk_ids,
            geometries=[base.geometry[i] for i in rk_ids])
        values["candidates_name"] = f"{t('candidates', lang)} ({len(ranked)})"
    site = None
    if info.get("lon") is not None and info.get("lat") is not None:
        x, y = base.opts.shift_xy([float(info["lon"])], [float(info["lat"])])
        site = (float(y[0]), float(x[0]))
        lines = [{"to": base.points[r.park_id], "label": f"#{r.rank} {park_name[r.park_id]}"} for r in ranked[:top_lines]]
        values["lines"] = {"site": site, "lines": lines}
        values["lines_name"] = f"{t('lines_top', lang)} ({len(lines)})"
        site_rows = [[t("enterprise_id", lang), info.get("enterprise_id")], [t("sector", lang), sector_label(info.get("sector"), lang)],
                     [t("employees", lang), info.get("employees")], [t("county", lang), names.get(str(info.get("county_code")), None)]]
        values["site"] = {"site": site, "who": str(who), "title": str(info.get("name") or ""), "rows": site_rows}
    values["legend"] = [county_legend(lang),
                        {"title": t("score", lang), "items": [{"color": cmap(v), "label": f"{v:.2f}"}
                                                             for v in np.linspace(lo, hi, 5)[::-1]] if ranked else []},
                        {"title": "", "items": [{"color": EXCLUDED_COLOR, "label": t("excluded", lang)},
                                                {"color": "#ffff33", "label": t("site", lang), "shape": "dot"},
                                                {"color": "#a50f15", "label": t("lines_top", lang), "shape": "line"}]}]
    search: list[dict] = [base.parks_search]
    if site is not None:
        search.append({"label": [str(who)], "lat": [site[0]], "lon": [site[1]], "kind": t("site", lang)})
    values["search"] = search_data(search, lang)
    return (bool(excluded), bool(ranked), site is not None), values


def _assemble(base: SuitabilityBase, shape: tuple[bool, bool, bool], v: Mapping[str, Any]) -> folium.Map:
    """The suitability map with the values ``v`` (or :class:`Slot` s in their place) of a map of ``shape``."""
    ds, opts = base.ds, base.opts
    lang = opts.lang
    has_excluded, has_ranked, has_site = shape
    title = v["title"]
    m = new_map(ds, opts, title, note=None if isinstance(title, Slot) else v["title_note"]["note"])
    add_counties(m, ds, opts)
    if has_excluded:
        GeoJsonLayer(v["excluded"], v["excluded_name"], key="excluded").add_to(m)
    if has_ranked:
        GeoJsonLayer(v["candidates"], v["candidates_name"], key="candidates").add_to(m)
    if has_site:
        JsLayer(
            "var __NAME__ = L.featureGroup(); (function (d) {"
            " d.lines.forEach(function (l) { L.polyline([d.site, l.to], {color: '#a50f15', weight: 2, dashArray: '6 4', "
            "className: 'pp-line'}).bindTooltip(PARKPLAN.el('span', '', l.label)).addTo(__NAME__); });"
            "})(__DATA__);",
            v["lines_name"], key="lines", data=v["lines"]).add_to(m)
        JsLayer(
            "var __NAME__ = L.featureGroup(); (function (d) { L.circleMarker(d.site, {radius: 9, color: '#000', weight: 3, "
            "fillColor: '#ffff33', fillOpacity: 1, className: 'pp-site'})"
            ".bindTooltip(PARKPLAN.el('span', '', d.who))"
            ".bindPopup(function () { return PARKPLAN.table(d.title, d.rows); })"
            ".addTo(__NAME__); })(__DATA__);",
            t("site", lang), key="site", data=v["site"]).add_to(m)
    add_place_labels(m, ds, opts)
    search = v["search"]
    return finish_map(m, opts, legend=v["legend"], search=search if isinstance(search, Slot) else search["sources"])


def suitability_template(base: SuitabilityBase, shape: tuple[bool, bool, bool]) -> MapTemplate:
    """The suitability map of ``shape`` (:func:`suitability_values`) rendered once, its query's data left to
    :meth:`~maps.base.MapTemplate.page`: equal to :func:`suitability_map` with those data (up to the names
    folium gives its elements)."""
    slots = template_slots(shape)
    v: dict[str, Any] = {s.name: s.token if s.kind == "name" else s for s in slots}
    return MapTemplate.from_map(_assemble(base, shape, v), slots)


def suitability_map(ds: Dataset, result: SuitabilityResult, *, lang: str = "zh", top_lines: int = 5, top_labels: int = 10,
                    opts: MapOptions | None = None, base: SuitabilityBase | None = None) -> folium.Map:
    """Map a :class:`~parks.suitability.SuitabilityResult` (ranked and excluded parks) over ``ds``."""
    opts = opts or MapOptions(lang=lang)
    base = base if base is not None and base.ds is ds and base.opts == opts else SuitabilityBase.build(ds, opts)
    shape, values = suitability_values(base, result, top_lines=top_lines, top_labels=top_labels)
    return _assemble(base, shape, values)
