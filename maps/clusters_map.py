"""The clusters map: DBSCAN and HDBSCAN cluster hulls of a sector's enterprises, and per county the
LISA quadrants and Gi* hot/cold spots of its employment density (from :mod:`parks.metrics`)."""

from __future__ import annotations

import folium
import geopandas as gpd
import pandas as pd

from geodata.schema import SECTOR_IDS
from parks.joins import PreparedDataset
from parks.metrics import county_weights, getis_ord, local_moran, sector_density, spatial_clusters

from geodata.messages import listing
from .base import MapError, MapOptions, add_counties, county_legend, finish_map, geojson_layer, new_map, search_source
from .places import add_place_labels
from .i18n import sector_label, t

__all__ = ["clusters_map", "cluster_layers", "QUADRANT_COLORS", "SPOT_COLORS"]

QUADRANT_COLORS = {"HH": "#d7191c", "LH": "#abd9e9", "LL": "#2c7bb6", "HL": "#fdae61", "ns": "#f0f0f0"}
SPOT_COLORS = {"hot": "#b2182b", "cold": "#2166ac", "ns": "#f7f7f7"}
HULL_COLORS = {"dbscan": "#7b3294", "hdbscan": "#008837"}


def cluster_layers(ds: PreparedDataset, sector: str | None, *, eps_m: float = 1000.0, min_samples: int = 10,
                   min_cluster_size: int = 25, permutations: int = 999, seed: int = 0) -> dict:
    """The analysis behind the map: ``hulls`` (method -> GeoDataFrame in WGS 84) and ``lisa``, ``gi``
    (per county frames), all from :mod:`parks.metrics`."""
    ent = ds.enterprises if sector is None else ds.enterprises[ds.enterprises["sector"] == sector]
    crs = ds.metric_crs
    hulls = {}
    for method in ("dbscan", "hdbscan"):
        if len(ent) >= max(min_samples, 2):
            h = spatial_clusters(ent, ds.parks, crs, method=method, eps_m=eps_m, min_samples=min_samples,
                                 min_cluster_size=min_cluster_size)
            hulls[method] = h.set_geometry(h.geometry.buffer(150.0)).to_crs(4326)  # points/lines get an area
        else:
            hulls[method] = None
    y = sector_density(ds.enterprises, ds.counties, crs, sector=sector)
    w = county_weights(ds.counties)
    y = y.reindex(pd.Index(w.id_order)).fillna(0.0).to_numpy()
    lisa = local_moran(y, w, permutations=permutations, seed=seed)
    gi = getis_ord(y, w, permutations=permutations, seed=seed)
    dens = pd.Series(y, index=pd.Index(w.id_order))
    return {"hulls": hulls, "lisa": lisa, "gi": gi, "density": dens}


def clusters_map(ds: PreparedDataset, *, lang: str = "zh", sector: str | None = None, opts: MapOptions | None = None,
                 analysis: dict | None = None) -> folium.Map:
    """Cluster hulls (DBSCAN shown, HDBSCAN as a layer to switch on), LISA quadrants and Gi* spots."""
    opts = opts or MapOptions(lang=lang)
    lang = opts.lang
    if sector is not None and sector not in SECTOR_IDS:
        raise MapError("map.sector", sector=sector, accepted=listing(SECTOR_IDS))
    a = analysis or cluster_layers(ds, sector)
    title = t("title_clusters", lang) + f" · {sector_label(sector, lang) if sector else t('all_sectors', lang)}"
    m = new_map(ds, opts, title)
    add_counties(m, ds, opts)
    counties = ds.counties.reset_index(drop=True)
    codes = counties["code"].astype(str)
    lisa = a["lisa"].set_index(a["lisa"]["county_code"].astype(str)).reindex(codes)
    gi = a["gi"].set_index(a["gi"]["county_code"].astype(str)).reindex(codes)
    dens = a["density"].reindex(codes)

    def rows_for(i, extra):
        d = float(dens.iloc[i])  # written with two decimals: 15.80, not 15.8 beside 21.55
        return [(t("density", lang), f"{d:,.2f}" if d == d else None)] + extra

    lisa_rows = [rows_for(i, [(t("quadrant", lang), t(str(lisa["quadrant"].iloc[i]), lang)),
                              (t("p_value", lang), round(float(lisa["p_sim"].iloc[i]), 3))]) for i in range(len(counties))]
    geojson_layer(counties, opts, name=t("lisa", lang), key="lisa",
                  style=lambda r: _fill(QUADRANT_COLORS, lisa["quadrant"].get(str(r["code"]))),
                  tip=counties["name"], title=counties["name"], rows=lisa_rows, simplify_deg=0.001).add_to(m)
    gi_rows = [rows_for(i, [(t("spot", lang), t(str(gi["spot"].iloc[i]), lang)),
                            (t("z_value", lang), round(float(gi["z"].iloc[i]), 2)),
                            (t("p_value", lang), round(float(gi["p_sim"].iloc[i]), 3))]) for i in range(len(counties))]
    geojson_layer(counties, opts, name=t("gistar", lang), key="gistar", show=False,
                  style=lambda r: _fill(SPOT_COLORS, gi["spot"].get(str(r["code"]))),
                  tip=counties["name"], title=counties["name"], rows=gi_rows, simplify_deg=0.001).add_to(m)
    search: list[dict | str] = [search_source(counties["name"], *_xy(counties), opts, t("counties", lang))]
    for method, hulls in a["hulls"].items():
        if hulls is None or hulls.empty:
            continue
        rows = [[(t("n_enterprises", lang), int(r["n_enterprises"])), (t("employees", lang), int(r["employees"])),
                 (t("dominant_sector", lang), sector_label(r["dominant_sector"], lang)),
                 (t("area_km2", lang), round(float(r["area_km2"]), 2)),
                 (t("share_in_parks", lang), None if r["share_in_parks"] is None else f"{float(r['share_in_parks']):.0%}"),
                 (t("parks", lang), ", ".join(map(str, r["park_ids"])))] for _, r in hulls.iterrows()]
        labels = [f"{method.upper()} #{int(c)}" for c in hulls["cluster_id"]]
        color = HULL_COLORS[method]
        geojson_layer(hulls, opts, name=f"{t('clusters', lang)} · {method.upper()}", key=f"clusters_{method}",
                      show=method == "dbscan",
                      style={"color": color, "weight": 2, "fillColor": color, "fillOpacity": 0.25},
                      tip=labels, title=labels, rows=rows).add_to(m)
        search.append(search_source(labels, *_xy(hulls), opts, t("cluster", lang)))
    legend = [county_legend(lang),
              {"title": t("lisa", lang), "items": [{"color": c, "label": t(q, lang)} for q, c in QUADRANT_COLORS.items()]},
              {"title": t("gistar", lang), "items": [{"color": c, "label": t(s, lang)} for s, c in SPOT_COLORS.items()]},
              {"title": t("clusters", lang), "items": [{"color": c, "label": k.upper()} for k, c in HULL_COLORS.items()]}]
    add_place_labels(m, ds, opts)
    return finish_map(m, opts, legend=legend, search=search)


def _fill(colors: dict, value) -> dict:
    """Significant regions filled with their class colour; 'ns' left transparent (the base shows)."""
    value = str(value)
    if value == "ns" or value not in colors:
        return {"color": "#555", "weight": 0.5, "fillOpacity": 0.0, "fillColor": colors.get("ns", "#fff")}
    return {"color": "#333", "weight": 1, "fillOpacity": 0.75, "fillColor": colors[value]}


def _xy(frame: gpd.GeoDataFrame) -> tuple[pd.Series, pd.Series]:
    p = frame.to_crs(4326).geometry.representative_point()
    return p.x, p.y
