"""The parks map: township zones and specialty parks by kind (or a choropleth of a park metric), with
each park's profile in its popup, over the counties (less-developed ones marked). ``?highlight=PARK_ID``
in the page's URL, or a ``{type: "parkplan:highlight", id}`` message from a page of the same origin,
highlights a park and zooms to it (``PARKPLAN.highlight`` in ``maps/assets/parkplan.js``)."""

from __future__ import annotations

from urllib.parse import quote

import folium
import numpy as np
import pandas as pd

from geodata.dataset import Dataset
from parks.joins import PreparedDataset, park_profiles

from geodata.messages import listing
from .base import (MapError, MapOptions, add_counties, county_legend, finish_map, geojson_layer, new_map,
                   search_source)
from .places import add_place_labels
from .i18n import sector_label, t

__all__ = ["parks_map", "KIND_COLORS", "CHOROPLETH_COLORS"]

KIND_COLORS = {"township_zone": "#2b83ba", "specialty_park": "#d7191c"}
CHOROPLETH_COLORS = ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"]


def _county_names(ds: Dataset) -> dict:
    return dict(zip(ds.counties["code"].astype(str), ds.counties["name"]))


def park_rows(row: pd.Series, county_names: dict, lang: str) -> list[tuple[str, object]]:
    """Popup rows of a park's profile (a row of park_profiles joined to the park): numbers formatted with
    their units (in the labels), and a link to the park's page in the workspace."""
    sectors = [s for s in str(row.get("leading_sectors") or "").split(",") if s]

    def n(value, digits: int = 0, scale: float = 1.0) -> str:
        v = float(value or 0) / scale
        return f"{v:,.{digits}f}"

    return [
        (t("park_id", lang), row.get("park_id")),
        (t("kind", lang), t(str(row.get("kind")), lang)),
        (t("county", lang), county_names.get(str(row.get("county_code")), row.get("county_code"))),
        (t("leading_sectors", lang), "、".join(sector_label(s, lang) for s in sectors) if lang == "zh"
         else ", ".join(sector_label(s, lang) for s in sectors)),
        (t("n_enterprises", lang), n(row.get("enterprises"))),
        (t("employees", lang), n(row.get("employees"))),
        (t("revenue", lang), n(row.get("revenue"), 1, 1e4)),
        (t("area_ha", lang), n(row.get("area_ha"), 1)),
        (t("free_land_ha", lang), n(row.get("free_land_ha"), 1)),
        (t("projects", lang), n(row.get("projects"))),
        (t("investment", lang), n(row.get("investment"), 1, 1e4)),
        ("", park_link(row.get("park_id"), lang)),
    ]


#: park-profile columns shown in another unit than stored (yuan -> 10k yuan, as their labels say)
METRIC_SCALE = {"revenue": 1e4, "investment": 1e4, "tax": 1e4, "value_added": 1e4}
#: park-profile columns whose glossary key has another name
_METRIC_KEYS = {"enterprises": "n_enterprises", "projects": "n_projects"}


def metric_label(metric: str, lang: str) -> str:
    """A park-profile column's name with its unit, from the glossary (the column id when it has none)."""
    key = _METRIC_KEYS.get(metric, metric)
    label = t(key, lang)
    return metric if label == key else label


def park_link(park_id, lang: str) -> dict | None:
    """A popup row's link to the park's page (``/ui/parks/{id}``), read by ``PARKPLAN.table``."""
    if park_id is None:
        return None
    href = "/ui/parks/" + quote(str(park_id), safe="") + ("?lang=en" if lang == "en" else "")
    return {"href": href, "text": t("open_park_page", lang)}


def parks_map(ds: PreparedDataset, *, lang: str = "zh", metric: str | None = None, k: int = 5, scheme: str = "quantiles",
              sector: str | None = None, county: str | None = None, opts: MapOptions | None = None) -> folium.Map:
    """Parks by kind, or coloured by ``metric`` (any numeric column of the park profile, classes by
    mapclassify ``scheme`` with ``k`` classes). ``sector`` keeps parks that lead in that sector;
    ``county`` keeps one county's parks. ``ds`` must be prepared (``parks.joins.prepare``)."""
    opts = opts or MapOptions(lang=lang)
    lang = opts.lang
    profiles = park_profiles(ds)
    parks = ds.parks[["park_id", "geometry"]].merge(profiles, on="park_id", how="left")
    parks = parks.set_geometry("geometry").set_crs(ds.parks.crs, allow_override=True)
    if sector is not None:
        from geodata.schema import SECTOR_IDS

        if sector not in SECTOR_IDS:
            raise MapError("map.sector", sector=sector, accepted=listing(SECTOR_IDS))
        parks = parks[parks["leading_sectors"].fillna("").str.split(",").apply(lambda s: sector in s)]
    if county is not None:
        if str(county) not in set(ds.counties["code"].astype(str)):
            raise MapError("map.county", county=county)
        parks = parks[parks["county_code"].astype(str) == str(county)]
    parks = parks.reset_index(drop=True)
    title = t("title_parks", lang) + (f" · {sector_label(sector, lang)}" if sector else "")
    m = new_map(ds, opts, title, note=f"{len(parks)} {t('parks', lang)}")
    add_counties(m, ds, opts)
    names = _county_names(ds)
    rows = [park_rows(r, names, lang) for _, r in parks.iterrows()]
    legend = [county_legend(lang)]
    if metric is None:
        for kind, color in KIND_COLORS.items():
            sub_idx = np.flatnonzero(parks["kind"].to_numpy() == kind)
            sub = parks.iloc[sub_idx]
            geojson_layer(sub, opts, name=t(kind, lang), key="parks",
                          style={"color": color, "weight": 1.5, "fillColor": color, "fillOpacity": 0.6},
                          tip=sub["name"], title=sub["name"], rows=[rows[i] for i in sub_idx],
                          ids=sub["park_id"]).add_to(m)
        legend.append({"title": t("parks", lang), "items": [{"color": c, "label": t(k_, lang)}
                                                             for k_, c in KIND_COLORS.items()]})
    else:
        if metric not in parks.columns or not pd.api.types.is_numeric_dtype(parks[metric]):
            numeric = [c for c in profiles.columns if pd.api.types.is_numeric_dtype(profiles[c])]
            raise MapError("map.metric", metric=metric, accepted=listing(numeric))
        import mapclassify

        values = parks[metric].astype(float).fillna(0.0).to_numpy()
        kk = max(1, min(k, len(np.unique(values)), len(CHOROPLETH_COLORS)))
        classifier = mapclassify.classify(values, scheme=scheme, k=kk) if kk > 1 else None
        cls = classifier.yb if classifier is not None else np.zeros(len(values), dtype=int)
        colors = CHOROPLETH_COLORS[-kk:] if kk > 1 else [CHOROPLETH_COLORS[-1]]
        parks["_class"] = cls
        geojson_layer(parks, opts, name=f"{t('parks', lang)} · {metric_label(metric, lang)}", key="parks",
                      style=lambda r: {"color": "#333", "weight": 1, "fillColor": colors[int(r["_class"])],
                                       "fillOpacity": 0.85},
                      tip=parks["name"], title=parks["name"], rows=rows, ids=parks["park_id"]).add_to(m)
        bins = classifier.bins if classifier is not None else [values.max() if len(values) else 0]
        scale = METRIC_SCALE.get(metric, 1.0)
        lo = float(values.min()) / scale if len(values) else 0.0
        items = []
        for i, hi in enumerate(bins):
            items.append({"color": colors[i], "label": f"{lo:,.1f} – {float(hi) / scale:,.1f}"})
            lo = float(hi) / scale
        legend.append({"title": metric_label(metric, lang), "items": items})
    centroids = parks.geometry.representative_point()
    cc = ds.counties.geometry.representative_point()
    search: list[dict | str] = [search_source(parks["name"], centroids.x, centroids.y, opts, t("parks", lang)),
              search_source(ds.counties["name"], cc.x, cc.y, opts, t("counties", lang))]
    add_place_labels(m, ds, opts)
    return finish_map(m, opts, legend=legend, search=search)
