"""The enterprises map: every enterprise as a point on a canvas, a layer per sector, a heat map.

Built for 100,000 points and more: the data go into the page once, as columns (``lat``, ``lon``,
``label``, ``id``, ``sector`` ...). ``PARKPLAN.pointLayers`` (``maps/assets/parkplan.js``) draws each
sector's points straight onto a canvas from those arrays (no Leaflet object, no DOM element per
point), answers a click with the nearest point's popup, built only then. The heat layer
(leaflet.heat, off by default) and the search box read the same columns.

The columns are written compactly by :mod:`maps.columns` (coordinates as integers of 1e-5 degrees,
``E0000001``-style ids as differences; one orjson call per column) and read back by
``PARKPLAN.columns``: at 100,000 enterprises the page is about 7 MB instead of 8.6 MB and the map is
built in a fraction of a second (``benchmarks/bench_maps.py``).
"""

from __future__ import annotations

import folium
import numpy as np
import pandas as pd

from geodata.schema import SECTOR_IDS

from geodata.messages import listing
from .base import (SECTOR_COLORS, _SafeJson, js_json, JsLayer, Links, MapError, MapOptions, Script, add_counties, county_legend,
                   finish_map, geojson_layer, new_map)
from .columns import coded_ids, columns_json, fixed
from .places import add_place_labels
from .i18n import sector_label, t
from parks.joins import PreparedDataset

__all__ = ["enterprises_map", "enterprise_columns", "compact_columns", "RENDERERS"]

_HEAT_JS = ("leaflet-heat.js", "https://cdn.jsdelivr.net/gh/python-visualization/folium@main/folium/templates/leaflet_heat.min.js")
SIZES = ("above", "below")


def _check_sector(sector: str | None) -> None:
    if sector is not None and sector not in SECTOR_IDS:
        raise MapError("map.sector", sector=sector, accepted=listing(SECTOR_IDS))


def _column_arrays(enterprises, opts: MapOptions, county_codes: list[str]) -> dict:
    """The columns as arrays (coordinates not rounded yet) and lists of strings."""
    ent = enterprises.to_crs(4326) if enterprises.crs is not None and enterprises.crs.to_epsg() != 4326 else enterprises
    lon, lat = opts.shift_xy(ent.geometry.x.to_numpy(), ent.geometry.y.to_numpy())
    sector_idx = pd.Categorical(ent["sector"], categories=list(SECTOR_IDS)).codes
    if (sector_idx < 0).any():
        bad = ent["sector"][sector_idx < 0].iloc[0]
        raise MapError("map.enterprise_sector", sector=bad, accepted=listing(SECTOR_IDS))
    size_idx = pd.Categorical(ent["size"] if "size" in ent else pd.Series("below", index=ent.index),
                              categories=list(SIZES)).codes
    county = ent["county_code"].astype(str) if "county_code" in ent else pd.Series("", index=ent.index)
    county_idx = pd.Categorical(county, categories=county_codes).codes
    employees = pd.to_numeric(ent.get("employees", pd.Series(0, index=ent.index)), errors="coerce").fillna(0)
    return {
        "lat": lat,
        "lon": lon,
        "label": ent["name"].fillna("").astype(str).tolist(),
        "id": ent["enterprise_id"].astype(str).tolist(),
        "sector": sector_idx.astype(np.int64),
        "size": size_idx.astype(np.int64),
        "employees": employees.to_numpy().astype(np.int64),
        "county": county_idx.astype(np.int64),
    }


def enterprise_columns(enterprises, opts: MapOptions, county_codes: list[str]) -> dict:
    """The column-wise point data the page reads (coordinates rounded to 1e-5 degrees, ~1 m)."""
    cols = _column_arrays(enterprises, opts, county_codes)
    return {k: (np.round(v, 5).tolist() if k in ("lat", "lon") else v if isinstance(v, list) else v.tolist())
            for k, v in cols.items()}


def compact_columns(cols: dict) -> dict:
    """The arrays of :func:`_column_arrays` in the compact forms of :mod:`maps.columns` (coordinates
    as integers of 1e-5 degrees from an offset, ``E0000001``-style ids as prefix and differences);
    ``PARKPLAN.columns`` reads them back to what :func:`enterprise_columns` gives."""
    out = dict(cols)
    for k in ("lat", "lon"):
        q = fixed(cols[k], 5)
        out[k] = q if q is not None else np.round(cols[k], 5).tolist()
    out["id"] = coded_ids(cols["id"]) or cols["id"]
    return out


RENDERERS = ("points", "circlemarkers")
#: enterprise flags of the plan drawn as their own layers (rings), with their colours
FLAG_LAYERS = {"key_enterprise": "#000000", "small_giant": "#d4a017"}


def enterprises_map(ds: PreparedDataset, *, lang: str = "zh", sector: str | None = None, county: str | None = None,
                    opts: MapOptions | None = None, heat_visible: bool = False,
                    renderer: str = "points") -> folium.Map:
    """All enterprises (or one ``sector``'s, or one ``county``'s), a layer per sector, a heat layer.

    ``renderer``: ``points`` (default) draws each sector's points straight onto a canvas from the
    column arrays (``PARKPLAN.PointLayer``); ``circlemarkers`` makes one Leaflet ``L.circleMarker``
    per point on a shared ``L.canvas`` renderer (Leaflet's own way; kept as the reference, it is
    several times slower to draw and redraw at 100,000 points, see benchmarks/RESULTS.md).
    ``ds`` must be prepared (``parks.joins.prepare``) for the county names in the popups."""
    if renderer not in RENDERERS:
        raise MapError("map.renderer", renderer=renderer, accepted=listing(RENDERERS))
    opts = opts or MapOptions(lang=lang)
    lang = opts.lang
    _check_sector(sector)
    ent = ds.enterprises
    if sector is not None:
        ent = ent[ent["sector"] == sector]
    if county is not None:
        if "county_code" not in ent or str(county) not in set(ds.counties["code"].astype(str)):
            raise MapError("map.county", county=county)
        ent = ent[ent["county_code"].astype(str) == str(county)]
    counties = ds.counties
    codes = counties["code"].astype(str).tolist()
    title = t("title_enterprises", lang) + (f" · {sector_label(sector, lang)}" if sector else "")
    m = new_map(ds, opts, title, note=f"{len(ent):,} {t('enterprises', lang)}",
                bounds_frame=ds.counties[ds.counties["code"].astype(str) == str(county)] if county else None)
    m.add_child(Links(js=[_HEAT_JS]))
    add_counties(m, ds, opts)
    geojson_layer(ds.parks, opts, name=t("parks", lang), key="parks",
                  style={"color": "#444", "weight": 1, "fill": False, "dashArray": "3"},
                  tip=ds.parks["name"], title=ds.parks["name"],
                  rows=[[(t("park_id", lang), r["park_id"]), (t("kind", lang), t(str(r["kind"]), lang))]
                        for _, r in ds.parks.iterrows()]).add_to(m)
    arrays = _column_arrays(ent, opts, codes)
    flag_legend: list[dict] = []
    present = np.flatnonzero(np.bincount(arrays["sector"], minlength=len(SECTOR_IDS))).tolist()
    meta = {
        "sectors": [sector_label(s, lang) for s in SECTOR_IDS],
        "colors": SECTOR_COLORS,
        "counties": counties["name"].astype(str).tolist(),
        "sizes": [t(s, lang) for s in SIZES],
        "fields": {f: t(f, lang) for f in ("enterprise_id", "sector", "size", "employees", "county")},
        "radius": 2 if len(ent) > 50_000 else 2.5 if len(ent) > 10_000 else 4,
    }
    fn = "pointLayers" if renderer == "points" else "pointGroups"
    block = _SafeJson('{"data":' + columns_json(compact_columns(arrays)).text + ',"kind":'
                      + js_json(t("enterprises", lang)) + ',"meta":' + js_json(meta) + "}")
    m.add_child(Script("var pp_ent_data = PARKPLAN.columns(__DATA__.data); pp_ent_data.kind = __DATA__.kind;"
                       f"var pp_ent_groups = PARKPLAN.{fn}(pp_ent_data, __DATA__.meta);", data=block))
    for k in present:
        JsLayer(f"var __NAME__ = pp_ent_groups[{int(k)}];", f"{sector_label(SECTOR_IDS[k], lang)}",
                key="enterprises").add_to(m)
    for flag, color in FLAG_LAYERS.items():  # the plan's key enterprises, each list a layer to switch on and off
        if flag not in ent.columns:
            continue
        sub = ent[ent[flag].fillna(False).astype(bool)]
        if not len(sub):
            continue
        cols = enterprise_columns(sub, opts, codes)
        JsLayer("var __NAME__ = L.featureGroup(); var d = __DATA__;"
                " for (var i = 0; i < d.lat.length; i++) {"
                " L.circleMarker([d.lat[i], d.lon[i]], {radius: 7, color: d.color, weight: 2.5, fill: false,"
                " className: 'pp-flagged'}).bindTooltip(PARKPLAN.el('span', '', d.label[i])).addTo(__NAME__); }",
                f"{t(flag + '_layer', lang)} ({len(sub):,})", key=flag,
                data={"lat": cols["lat"], "lon": cols["lon"], "label": cols["label"], "color": color}).add_to(m)
        flag_legend.append({"color": color, "label": t(flag + "_layer", lang), "shape": "dot"})
    JsLayer("var __NAME__ = PARKPLAN.heat(pp_ent_data, {radius: 12, blur: 15, maxZoom: 11, minOpacity: 0.3});",
            t("heatmap", lang), key="heatmap", show=heat_visible).add_to(m)
    legend = [county_legend(lang),
              {"title": t("sector", lang), "items": [{"color": SECTOR_COLORS[k], "label": sector_label(SECTOR_IDS[k], lang),
                                                      "shape": "dot"} for k in present]}]
    if flag_legend:
        legend.append({"title": t("key_enterprises_title", lang), "items": flag_legend})
    cc = ds.counties.geometry.representative_point()
    from .base import search_source

    add_place_labels(m, ds, opts)
    return finish_map(m, opts, legend=legend,
                      search=[search_source(ds.counties["name"], cc.x, cc.y, opts, t("counties", lang)), "pp_ent_data"])
