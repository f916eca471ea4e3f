"""Place names on every map (there are no tiles offline to name the places): each county's name at a
point inside it, and each city's name at its centre, shown at provincial zoom; the labels' size
follows the zoom (``PARKPLAN.placeLabels`` in ``assets/parkplan.js``). Names reach the page as JSON
data and are set as text."""

from __future__ import annotations

import folium

from .base import MapOptions, Script, search_source
from geodata.dataset import Dataset

__all__ = ["add_place_labels", "place_data"]


def place_data(ds: Dataset, opts: MapOptions) -> dict:
    """Columns ``{counties: {name, lat, lon}, cities: {name, lat, lon}}`` (coordinates as drawn)."""
    counties = ds.counties.to_crs(4326)
    pts = counties.geometry.representative_point()
    out = {"counties": _columns(counties["name"], pts.x, pts.y, opts)}
    cities = getattr(ds, "cities", None)
    if cities is not None and len(cities) and {"centre_lon", "centre_lat"} <= set(cities.columns):
        out["cities"] = _columns(cities["name"], cities["centre_lon"], cities["centre_lat"], opts)
    return out


def _columns(names, lon, lat, opts: MapOptions) -> dict:
    src = search_source(names, lon, lat, opts)
    return {"name": src["label"], "lat": src["lat"], "lon": src["lon"]}


def add_place_labels(m: folium.Map, ds: Dataset, opts: MapOptions) -> folium.Map:
    m.add_child(Script("PARKPLAN.placeLabels(__MAP__, __DATA__);", data=place_data(ds, opts)))
    return m
