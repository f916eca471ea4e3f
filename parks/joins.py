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

from ._pointinpolygon import PointStrips, _xy, first_polygon, nearest_polygon, strip_points

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
#: a point outside every county goes to the nearest county within this distance (coastline, rounding)
COUNTY_SNAP_DISTANCE_M = 2000.0

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


def _county_positions(pts: PointStrips, county_geoms: np.ndarray, snap_distance_m: float) -> np.ndarray:
    """Each point's county position (-1: none): the lowest containing or touching, else the nearest within
    ``snap_distance_m``."""
    idx = first_polygon(pts, county_geoms, "intersects")  # counties in index order: lowest on a shared boundary
    missing = idx < 0
    if missing.any():
        near, _ = nearest_polygon(pts, county_geoms, missing, snap_distance_m)
        idx[missing] = near[missing]
    return idx


def _park_positions(pts: PointStrips, park_geoms: np.ndarray,
                    max_distance_m: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each point's park position (-1: none), its distance (0 inside, NaN with no park) and the match
    code (0 ``within``, 1 ``nearest``, -1 none)."""
    if max_distance_m < 0:
        raise ValueError(f"max_distance_m must be >= 0, got {max_distance_m}")
    idx = first_polygon(pts, park_geoms, "within")
    inside = idx >= 0
    dist = np.where(inside, 0.0, np.nan)
    match = np.where(inside, 0, -1)
    missing = ~inside
    if max_distance_m > 0 and missing.any():
        near, near_d = nearest_polygon(pts, park_geoms, missing, max_distance_m)  # ties: the lowest index
        found = missing & (near >= 0)
        idx[found] = near[found]
        dist[found] = near_d[found]
        match[found] = 1
    return idx, dist, match


def _park_frame(parks: pd.DataFrame, idx: np.ndarray, dist: np.ndarray, match: np.ndarray,
                index: pd.Index) -> pd.DataFrame:
    return pd.DataFrame(
        {"park_id": _labels(parks["park_id"].to_numpy(), idx), "park_distance_m": dist,
         "park_match": _labels(np.array(["within", "nearest"], dtype=object), match)},
        index=index, copy=False,
    )


def _county_codes(counties: pd.DataFrame, idx: np.ndarray, index: pd.Index) -> pd.Series:
    codes = np.append(counties["code"].to_numpy().astype(object), [None])  # idx -1 -> None
    return pd.Series(codes[idx], index=index, name="county_code", dtype=object, copy=False)


def assign_counties(points: gpd.GeoSeries, counties: gpd.GeoDataFrame, *,
                    snap_distance_m: float = COUNTY_SNAP_DISTANCE_M, strips: PointStrips | None = None) -> pd.Series:
    """County ``code`` for each point: the county containing it, else the nearest within ``snap_distance_m``
    (ties to the lowest index).

    Points on a shared boundary go to the county with the lowest index (deterministic). Points farther
    than ``snap_distance_m`` from every county get ``None``. ``strips``: :func:`point_strips` of ``points``.
    """
    _check_metric(points, counties)
    geoms = points.to_numpy() if isinstance(points, gpd.GeoSeries) else points.geometry.to_numpy()
    idx = _county_positions(_strips(points, geoms, strips), counties.geometry.to_numpy(), snap_distance_m)
    return _county_codes(counties, idx, points.index)


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
    idx, dist, match = _park_positions(_strips(points, geoms, strips), parks.geometry.to_numpy(), max_distance_m)
    return _park_frame(parks, idx, dist, match, points.index)


def urban_core_flags(points: gpd.GeoSeries, city: pd.Series, urban_boundaries: gpd.GeoDataFrame, *,
                     radius_km: float | None = None) -> pd.DataFrame:
    """Whether each point sits in its city's urban core, and its distance to that city's centre.

    With ``radius_km`` None the core is the city's urban development boundary polygon; with a radius,
    the core is the disc of that radius around the city centre (``centre_lon``/``centre_lat``).
    Returns ``city_centre_km`` and ``in_urban_core``.
    """
    _check_metric(points, urban_boundaries)
    ub_pos = pd.Index(urban_boundaries["city"]).get_indexer(pd.Index(city.to_numpy()))
    px, py = _xy(points.to_numpy())
    dist_km, inside = _urban_core(px, py, ub_pos, urban_boundaries, points.crs, radius_km)
    return pd.DataFrame({"city_centre_km": dist_km, "in_urban_core": inside}, index=points.index)


def _urban_core(px: np.ndarray, py: np.ndarray, ub_pos: np.ndarray, urban_boundaries: gpd.GeoDataFrame, crs,
                radius_km: float | None) -> tuple[np.ndarray, np.ndarray]:
    """Distance (km) to the centre of the city at ``ub_pos`` (a row of ``urban_boundaries``, -1: none)
    and whether the point is in that city's core."""
    centres = gpd.GeoSeries(gpd.points_from_xy(urban_boundaries["centre_lon"], urban_boundaries["centre_lat"]),
                            crs=4326).to_crs(crs)
    cx = np.append(centres.x.to_numpy(), np.nan)[ub_pos]  # -1: the NaN appended
    cy = np.append(centres.y.to_numpy(), np.nan)[ub_pos]
    dist_km = np.hypot(px - cx, py - cy) / 1000.0
    if radius_km is not None:
        return dist_km, np.nan_to_num(dist_km, nan=np.inf) <= radius_km
    inside = np.zeros(len(px), dtype=bool)
    geoms = urban_boundaries.geometry.to_numpy()
    present = [k for k, g in enumerate(geoms) if g is not None]
    shapely.prepare(geoms[present])
    # each city's points against its prepared boundary (the points grouped by city with one stable sort)
    order = np.argsort(ub_pos, kind="stable")
    starts = np.searchsorted(ub_pos[order], np.arange(len(geoms) + 1))
    for k in present:
        sel = order[starts[k]:starts[k + 1]]
        inside[sel] = shapely.contains_xy(geoms[k], px[sel], py[sel])
    return dist_km, inside


def _projected_xy(geometry: gpd.GeoSeries, crs) -> tuple[np.ndarray, np.ndarray]:
    """x and y of the enterprise points in ``crs`` (:func:`geodata.crs.points_xy`): the numbers of
    ``geometry.to_crs(crs)`` without building point objects. Missing, empty and non-point geometries give
    NaN: such a row is placed in no county and no park (``non_point="nan"``)."""
    from geodata.crs import points_xy

    return points_xy(geometry, geometry.crs, crs, non_point="nan")


def _copy_on_write() -> bool:
    return int(pd.__version__.split(".")[0]) >= 3 or pd.options.mode.copy_on_write is True


def _flags(values: pd.Series, idx: np.ndarray) -> np.ndarray:
    """A boolean column taken at ``idx`` (-1 and missing values: False)."""
    return np.append(values.fillna(False).astype(bool).to_numpy(), False)[idx]


def prepare(ds: Dataset, *, max_park_distance_m: float = DEFAULT_MAX_PARK_DISTANCE_M,
            urban_core_km: float | None = None) -> PreparedDataset:
    """The dataset with every derived enterprise column joined on (a new Dataset; inputs untouched).

    Adds to ``enterprises``: ``county_code``, ``county_name``, ``city``, ``less_developed``, ``coastal``,
    ``park_id``, ``park_distance_m``, ``park_match``, ``city_centre_km``, ``in_urban_core``.

    The same values as :func:`assign_counties`, the county's attributes looked up by its code,
    :func:`assign_parks` and :func:`urban_core_flags` on the projected points; here every lookup goes by
    row position (county -> its row, city -> its urban boundary row) rather than by label over a million
    strings, and the points are projected as coordinates, never as point objects.
    """
    if max_park_distance_m < 0:
        raise ValueError(f"max_park_distance_m must be >= 0, got {max_park_distance_m}")
    crs = ds.metric_crs
    ent, counties, ub = ds.enterprises, ds.counties, ds.urban_boundaries
    px, py = _projected_xy(ent.geometry, crs)
    pts = strip_points(np.column_stack([px, py]))
    c_idx = _county_positions(pts, counties.geometry.to_crs(crs).to_numpy(), COUNTY_SNAP_DISTANCE_M)
    p_idx, p_dist, p_match = _park_positions(pts, ds.parks.geometry.to_crs(crs).to_numpy(), max_park_distance_m)
    ub_of_county = np.append(pd.Index(ub["city"]).get_indexer(pd.Index(counties["city"].to_numpy())), -1)
    dist_km, in_core = _urban_core(px, py, ub_of_county[c_idx], ub.to_crs(crs), crs, urban_core_km)
    codes = _county_codes(counties, c_idx, ent.index)
    parks = _park_frame(ds.parks, p_idx, p_dist, p_match, ent.index)
    joined = {
        "county_code": codes,
        "county_name": _labels(counties["name"].to_numpy(), c_idx),
        "city": _labels(counties["city"].to_numpy(), c_idx),
        "less_developed": _flags(counties["less_developed"], c_idx),
        "coastal": _flags(counties["coastal"], c_idx),
        "park_id": parks["park_id"], "park_distance_m": parks["park_distance_m"], "park_match": parks["park_match"],
        "city_centre_km": dist_km, "in_urban_core": in_core,
    }
    columns = {c: ent[c] for c in ent.columns if c not in joined and c != ent.geometry.name}
    columns.update(joined)
    # no copies where pandas copies on write (pandas 3): the input's columns cannot change through these
    copy = not _copy_on_write()
    enterprises = gpd.GeoDataFrame(pd.DataFrame(columns, index=ent.index, copy=copy),
                                   geometry=ent.geometry, crs=ent.crs, copy=copy)
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
    ids = enterprises["enterprise_id"]
    # only the enterprises with a project (and missing ids, which match a missing id) are looked up: the
    # first row per id among them is the first row per id of the whole register
    wanted = ids.isin(pd.unique(pd.Series(projects["enterprise_id"]).dropna())).to_numpy() | ids.isna().to_numpy()
    info = pd.DataFrame(enterprises.loc[wanted, ["enterprise_id"] + have]).drop_duplicates("enterprise_id").set_index("enterprise_id")
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
