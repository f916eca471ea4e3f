"""The suitability map for one enterprise: its site, the candidate parks coloured by score with their
rank, the excluded parks greyed with the reasons in the popup, and lines from the site to the top
parks. Input: a :class:`parks.suitability.SuitabilityResult` (``score_enterprise``)."""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
import shapely
from branca.colormap import LinearColormap

from geodata.dataset import Dataset
from parks.suitability.model import SuitabilityResult

from .base import JsLayer, MapOptions, add_counties, county_legend, finish_map, geojson_layer, new_map, search_source
from .places import add_place_labels
from .i18n import sector_label, t

__all__ = ["suitability_map", "parse_weights", "SCORE_COLORS", "EXCLUDED_COLOR"]

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
            raise MapError(f"weights: {item!r} is not criterion:number (e.g. distance:60,sector_fit:5)")
        out[key.strip()] = number
    if not math.isfinite(sum(out.values())):
        raise MapError("weights: too large to add up; give weights of ordinary size (e.g. percentages)")
    try:
        normalise_weights(out)
    except SuitabilityError as exc:
        raise MapError(f"weights: {exc}") from None
    return out


def suitability_map(ds: Dataset, result: SuitabilityResult, *, lang: str = "zh", top_lines: int = 5, top_labels: int = 10,
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
