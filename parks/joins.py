"""Joins: each enterprise's county, park and urban-core status; park profiles.

The point-in-polygon work (each enterprise's county and park) runs in :mod:`parks._pointinpolygon`
(points bucketed into x-strips, one slice and one vectorised ``contains_xy`` per polygon); distances in the
dataset's metric CRS.
The functions are pure: they take GeoDataFrames and return new frames.
"""

from __future__ import annotations

from dataclasses import replace
from typing import NewType

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geodata.dataset import Dataset
from geodata.schema import SECTOR_IDS

from ._pointinpolygon import PointStrips, first_polygon, nearest_polygon, strip_points

__all__ = [
    "DEFAULT_MAX_PARK_DISTANCE_M",
    "assign_counties",
    "assign_parks",
    "point_strips",
    "urban_core_flags",
    "prepare",
    "project_fields",
    "park_profiles",
]

# derived on projects from their enterprise (and ``year`` from the project's start)
PROJECT_DERIVED = ("park_id", "county_code", "county_name", "city", "less_developed", "year")

DEFAULT_MAX_PARK_DISTANCE_M = 300.0

PreparedDataset = NewType("PreparedDataset", Dataset)
"""A :class:`~geodata.dataset.Dataset` that :func:`prepare` returned: its enterprises carry ``county_code``,
``park_id`` and the other derived columns. Only a type (for the checker); at run time it is the Dataset."""


def _labels(labels: np.ndarray, codes: np.ndarray):
    """``labels[codes]`` with None where a code is -1, in the column type pandas gives such strings.

    Where that is pandas' Arrow-backed ``str`` (pandas 3), the labels are taken in Arrow from the
    small label array (10x faster than converting a million Python strings)."""
    labels = np.asarray(labels, dtype=object)
    target = pd.Series(np.append(labels, [None])).dtype
    if target != object:
        import pyarrow as pa

        try:
            taken = pa.array(list(labels), type=pa.large_string()).take(pa.array(codes, mask=codes < 0))
            return pd.array(taken, dtype=target)
        except (TypeError, ValueError, pa.ArrowException):  # labels that are not all strings
            pass
    return np.append(labels, [None])[codes]


def _check_metric(*frames: gpd.GeoSeries | gpd.GeoDataFrame) -> None:
    for f in frames:
        if f.crs is None or not f.crs.is_projected:
            raise ValueError(f"joins need a projected (metric) CRS, got {f.crs!r}; reproject with Dataset.metric_crs first")


def point_strips(points: gpd.GeoSeries) -> PointStrips:
    """The points bucketed for the joins (:func:`parks._pointinpolygon.strip_points`): pass the result as
    ``strips=`` to :func:`assign_counties` and :func:`assign_parks` when joining the same points to both,
    so they are bucketed once."""
    return strip_points(points.to_numpy() if isinstance(points, gpd.GeoSeries) else points.geometry.to_numpy())


def _strips(points, geoms: np.ndarray, strips: PointStrips | None) -> PointStrips:
    if strips is None:
        return strip_points(geoms)
    if len(strips) != len(geoms):
        raise ValueError(f"strips were made for {len(strips):,} points, not these {len(geoms):,}; "
                         "make them with point_strips(points)")
    return strips


def assign_counties(points: gpd.GeoSeries, counties: gpd.GeoDataFrame, *, snap_distance_m: float = 2000.0,
                    strips: PointStrips | None = None) -> pd.Series:
    """County ``code`` for each point: the county containing it, else the nearest within ``snap_distance_m``
    (ties to the lowest index).

    Points on a shared boundary go to the county with the lowest index (deterministic). Points farther
    than ``snap_distance_m`` from every county get ``None``. ``strips``: :func:`point_strips` of ``points``.
    """
    _check_metric(points, counties)
    county_geoms = counties.geometry.to_numpy()
    geoms = points.to_numpy() if isinstance(points, gpd.GeoSeries) else points.geometry.to_numpy()
    pts = _strips(points, geoms, strips)
    # lowest county index on a shared boundary (counties taken in index order)
    idx = first_polygon(pts, county_geoms, "intersects")
    missing = idx < 0
    if missing.any():
        near, _ = nearest_polygon(pts, county_geoms, missing, snap_distance_m)
        idx[missing] = near[missing]
    codes = np.append(counties["code"].to_numpy().astype(object), [None])  # idx -1 -> None
    return pd.Series(codes[idx], index=points.index, name="county_code", dtype=object)


def assign_parks(points: gpd.GeoSeries, parks: gpd.GeoDataFrame, *,
                 max_distance_m: float = DEFAULT_MAX_PARK_DISTANCE_M, strips: PointStrips | None = None) -> pd.DataFrame:
    """Each point's park: the park containing it (``within``), else the nearest within ``max_distance_m``.

    Returns ``park_id`` (None when no park qualifies), ``park_distance_m`` (0 inside, NaN with no park)
    and ``park_match`` (``within`` / ``nearest`` / None); ties to the lowest park index.
    ``strips``: :func:`point_strips` of ``points`` (made once when joining them to counties too).
    """
    _check_metric(points, parks)
    if max_distance_m < 0:
        raise ValueError(f"max_distance_m must be >= 0, got {max_distance_m}")
    geoms = points.to_numpy() if isinstance(points, gpd.GeoSeries) else points.geometry.to_numpy()
    park_geoms = parks.geometry.to_numpy()
    pts = _strips(points, geoms, strips)
    idx = first_polygon(pts, park_geoms, "within")
    dist = np.where(idx >= 0, 0.0, np.nan)
    match = np.where(idx >= 0, 0, -1)  # codes of ("within", "nearest"), -1 none
    missing = idx < 0
    if missing.any() and max_distance_m > 0:
        # ties: the lowest park index wins
        near, near_d = nearest_polygon(pts, park_geoms, missing, max_distance_m)
        found = missing & (near >= 0)
        idx[found] = near[found]
        dist[found] = near_d[found]
        match[found] = 1
    return pd.DataFrame(
        {"park_id": _labels(parks["park_id"].to_numpy(), idx), "park_distance_m": dist,
         "park_match": _labels(np.array(["within", "nearest"], dtype=object), match)},
        index=points.index,
    )


def urban_core_flags(points: gpd.GeoSeries, city: pd.Series, urban_boundaries: gpd.GeoDataFrame, *,
                     radius_km: float | None = None) -> pd.DataFrame:
    """Whether each point sits in its city's urban core, and its distance to that city's centre.

    With ``radius_km`` None the core is the city's urban development boundary polygon; with a radius,
    the core is the disc of that radius around the city centre (``centre_lon``/``centre_lat``).
    Returns ``city_centre_km`` and ``in_urban_core``.
    """
    _check_metric(points, urban_boundaries)
    ub = urban_boundaries.set_index("city")
    centres = gpd.GeoSeries(gpd.points_from_xy(ub["centre_lon"], ub["centre_lat"]), crs=4326, index=ub.index).to_crs(points.crs)
    cx = centres.x.reindex(city.to_numpy()).to_numpy()
    cy = centres.y.reindex(city.to_numpy()).to_numpy()
    px, py = shapely.get_x(points.to_numpy()), shapely.get_y(points.to_numpy())
    dist_km = np.hypot(px - cx, py - cy) / 1000.0
    if radius_km is None:
        geom_by_city = ub.geometry.reindex(city.to_numpy()).to_numpy()
        has = ~pd.isna(geom_by_city)
        inside = np.zeros(len(points), dtype=bool)
        inside[has] = shapely.contains_xy(np.asarray(geom_by_city[has], dtype=object), px[has], py[has])
    else:
        inside = np.nan_to_num(dist_km, nan=np.inf) <= radius_km
    return pd.DataFrame({"city_centre_km": dist_km, "in_urban_core": inside}, index=points.index)


def prepare(ds: Dataset, *, max_park_distance_m: float = DEFAULT_MAX_PARK_DISTANCE_M,
            urban_core_km: float | None = None) -> PreparedDataset:
    """The dataset with every derived enterprise column joined on (a new Dataset; inputs untouched).

    Adds to ``enterprises``: ``county_code``, ``county_name``, ``city``, ``less_developed``, ``coastal``,
    ``park_id``, ``park_distance_m``, ``park_match``, ``city_centre_km``, ``in_urban_core``.
    """
    crs = ds.metric_crs
    ent = ds.enterprises
    pts = ent.geometry.to_crs(crs)
    counties_m = ds.counties.to_crs(crs)
    county = assign_counties(pts, counties_m)
    cinfo = ds.counties.set_index("code")[["name", "city", "less_developed", "coastal"]]
    joined = pd.DataFrame({"county_code": county}, index=ent.index)
    info = cinfo.reindex(county.to_numpy())
    joined["county_name"] = info["name"].to_numpy()
    joined["city"] = info["city"].to_numpy()
    joined["less_developed"] = info["less_developed"].fillna(False).astype(bool).to_numpy()
    joined["coastal"] = info["coastal"].fillna(False).astype(bool).to_numpy()
    joined = joined.join(assign_parks(pts, ds.parks.to_crs(crs), max_distance_m=max_park_distance_m))
    joined = joined.join(urban_core_flags(pts, joined["city"], ds.urban_boundaries.to_crs(crs), radius_km=urban_core_km))
    base = ent.drop(columns=[c for c in joined.columns if c in ent.columns])
    enterprises = gpd.GeoDataFrame(pd.concat([base.drop(columns="geometry"), joined], axis=1),
                                   geometry=ent.geometry, crs=ent.crs)
    meta = dict(ds.metadata, joins={"max_park_distance_m": max_park_distance_m, "urban_core_km": urban_core_km})
    return PreparedDataset(replace(ds, enterprises=enterprises, projects=project_fields(ds.projects, enterprises),
                                   metadata=meta))


def project_fields(projects: pd.DataFrame, enterprises: pd.DataFrame) -> pd.DataFrame:
    """Projects with their enterprise's ``park_id``, ``county_code``, ``county_name``, ``city`` and
    ``less_developed``, and ``year`` (the start year: ``start_year``, else the year of ``start_date``).

    ``enterprises`` must carry the joined columns (:func:`prepare`). A project whose enterprise is not in
    the register keeps None (and ``less_developed`` False). Row order and index are kept.
    """
    have = [c for c in PROJECT_DERIVED if c != "year" and c in enterprises.columns]
    info = pd.DataFrame(enterprises[["enterprise_id"] + have]).drop_duplicates("enterprise_id").set_index("enterprise_id")
    out = pd.DataFrame(projects).drop(columns=[c for c in PROJECT_DERIVED if c in projects.columns])
    looked = info.reindex(out["enterprise_id"].to_numpy())
    for c in PROJECT_DERIVED[:-1]:
        if c == "less_developed":
            out[c] = looked[c].fillna(False).astype(bool).to_numpy() if c in looked else False
        else:
            out[c] = looked[c].astype(object).where(looked[c].notna(), None).to_numpy() if c in looked else None
    year = pd.to_numeric(out["start_year"], errors="coerce") if "start_year" in out else pd.Series(np.nan, index=out.index)
    if "start_date" in out:
        year = year.fillna(pd.to_datetime(out["start_date"], errors="coerce").dt.year)
    out["year"] = year.astype("Int64")
    return out


def park_profiles(ds: PreparedDataset) -> pd.DataFrame:
    """One row per park: enterprises, employees, revenue, sector mix, projects, investment, land use.

    ``ds`` must have been through :func:`prepare`. Sector mix is given as ``n_<sector>`` counts and as
    ``top_sector``. ``occupied_ha`` is the land of the enterprises inside; ``free_land_ha`` is the park's.
    """
    ent = ds.enterprises
    if "park_id" not in ent:
        raise ValueError("park_profiles needs joined enterprises; call parks.joins.prepare(ds) first")
    inside = ent[ent["park_id"].notna()]
    g = inside.groupby("park_id")
    prof = pd.DataFrame({
        "enterprises": g.size(),
        "employees": g["employees"].sum(),
        "revenue": g["revenue"].sum(),
        "occupied_ha": g["land_ha"].sum(),
        "share_above_size": g["size"].apply(lambda s: float((s == "above").mean())),
        "share_key": g["key_enterprise"].mean(),
    })
    mix = pd.crosstab(inside["park_id"], inside["sector"]).reindex(columns=list(SECTOR_IDS), fill_value=0)
    mix.columns = [f"n_{c}" for c in mix.columns]
    own = ds.projects.drop(columns=[c for c in PROJECT_DERIVED if c in ds.projects.columns])
    projects = own.merge(inside[["enterprise_id", "park_id"]], on="enterprise_id", how="inner")
    pg = projects.groupby("park_id")
    proj = pd.DataFrame({"projects": pg.size(), "investment": pg["investment"].sum()})
    parks = ds.parks.drop(columns="geometry").set_index("park_id")
    out = parks[["name", "kind", "county_code", "leading_sectors", "area_ha", "free_land_ha"]].join(prof).join(mix).join(proj)
    count_cols = ["enterprises", "employees", "projects"] + list(mix.columns)
    out[count_cols] = out[count_cols].fillna(0).astype("int64")
    out[["revenue", "occupied_ha", "investment"]] = out[["revenue", "occupied_ha", "investment"]].fillna(0.0)
    out[["share_above_size", "share_key"]] = out[["share_above_size", "share_key"]].fillna(0.0)
    out["top_sector"] = mix.idxmax(axis=1).str.removeprefix("n_").reindex(out.index)
    out.loc[out["enterprises"] == 0, "top_sector"] = None
    return out.reset_index()
