"""Flows between counties: enterprise moves (an allocation's assignments, transfer candidates)
aggregated by origin and destination county.

:func:`county_flows` is pure: frames in, one row per (origin county, destination county) pair out,
with the number of firms, their jobs (employees) and their land (ha), and, when the input has a
``status`` column (``assigned``, or a review status such as ``pending``/``approved``), a count per
status. It feeds the planner's report (:mod:`parks.suitability.plan_report`), the flow map
(:mod:`maps.flows_map`) and the transfers map.

The origin of a move is the enterprise's county (``origin_county_code`` of the input if present,
else the enterprise's ``county_code``, else the county containing its point); the destination is
the park's county (``destination_county_code`` if present, else the park's ``county_code``, else
the county containing the park's representative point). Rows without a park (unplaced firms) are
not flows and are left out.

Example
-------
>>> import pandas as pd
>>> a = pd.DataFrame({"enterprise_id": ["E1", "E2", "E3"], "park_id": ["P1", "P1", None]})
>>> e = pd.DataFrame({"enterprise_id": ["E1", "E2", "E3"], "county_code": ["A", "A", "B"],
...                   "employees": [10, 20, 5], "land_ha": [1.0, 2.0, 0.5]})
>>> p = pd.DataFrame({"park_id": ["P1"], "county_code": ["B"]})
>>> c = pd.DataFrame({"code": ["A", "B"], "name": ["甲县", "乙县"], "city": ["X市", "X市"]})
>>> county_flows(a, e, p, c)[["origin_county_code", "destination_county_code", "firms", "jobs", "land_ha"]]
  origin_county_code destination_county_code  firms  jobs  land_ha
0                  A                       B      2    30      3.0
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

from geodata.messages import NOTHING, Catalogue, CodedError, Localised, listing

__all__ = ["FlowsError", "county_flows", "enterprise_counties", "park_counties", "FLOW_COLUMNS"]

FLOW_COLUMNS = ("origin_county_code", "origin_county", "origin_city", "destination_county_code",
                "destination_county", "destination_city", "firms", "jobs", "land_ha")


_NONE = "\x00none"  # stands for a missing key while grouping


#: The refusals of :func:`county_flows` (:class:`FlowsError`); column names and ids stay as they are in both
#: languages, the frames are named by their layer (``enterprises`` / 企业).
FLOWS = Catalogue("flows", {
    "flows.unknown_enterprises": ("assignments name enterprise(s) not in enterprises: {ids}{more}",
                                  "分配结果（assignments）中的企业不在企业图层中：{ids}{more}"),
    "flows.unknown_parks": ("assignments name park(s) not in parks: {ids}{more}",
                            "分配结果（assignments）中的园区不在园区图层中：{ids}{more}"),
    "flows.and_more": (" and {n} more", "，另有 {n} 个"),
    "flows.lacks_columns": ("{what} lack column(s) {missing}; needed: {needed}",
                            "{what}缺少列 {missing}；需要的列：{needed}"),
    "flows.no_county": ("{what} have no county_code column; give it, or geometries (GeoDataFrames with a CRS) for both "
                        "them and the counties",
                        "{what}没有 county_code（县级代码）列；请给出该列，或为它和县级行政区都给出几何（带坐标参考系的 "
                        "GeoDataFrame）"),
})

#: the frames' names in the refusals (English as the code names them)
_WHAT = {"assignments": "分配结果（assignments）", "enterprises": "企业图层（enterprises）", "parks": "园区图层（parks）",
         "counties": "县级行政区图层（counties）"}


def _what(name: str) -> Localised:
    return Localised(name, _WHAT.get(name, name))


def _ids(ids: list[str]) -> dict[str, Any]:
    """The first five ids and how many more (the ``ids`` and ``more`` of a refusal)."""
    return {"ids": listing(ids[:5]), "more": FLOWS("flows.and_more", n=len(ids) - 5) if len(ids) > 5 else NOTHING}


class FlowsError(CodedError):
    """Input to :func:`county_flows` lacks a column or refers to unknown enterprises or parks (a ``ValueError``).

    Raised with a code of :data:`FLOWS` and its values; ``str(exc)`` is the English text,
    ``geodata.messages.message(exc, "zh")`` the Chinese."""

    def __init__(self, code: str, /, **params: Any):
        super().__init__(FLOWS(code, **params))


def county_flows(assignments: pd.DataFrame, enterprises: pd.DataFrame, parks: pd.DataFrame,
                 counties: pd.DataFrame, *, by: str | Sequence[str] | None = None,
                 metric_crs=None) -> pd.DataFrame:
    """Moves aggregated between origin and destination counties: one row per county pair (per ``by`` group).

    Parameters
    ----------
    assignments : DataFrame
        ``enterprise_id`` and ``park_id`` (None/NaN: not placed, not a flow); optionally ``status``
        (counted per value in ``status_<value>`` columns), ``land_ha`` (else the enterprise's),
        ``origin_county_code`` / ``destination_county_code`` (else derived), and the ``by`` columns.
    enterprises : DataFrame or GeoDataFrame
        ``enterprise_id``; ``employees`` and ``land_ha`` if present; ``county_code`` or point geometry.
    parks : DataFrame or GeoDataFrame
        ``park_id``; ``county_code`` or polygon geometry.
    counties : DataFrame or GeoDataFrame
        ``code``, ``name``, ``city`` (geometry only needed when a county must be derived).
    by : column name(s) of ``assignments`` to keep flows apart by (e.g. ``"scenario"``).
    metric_crs : projected CRS for deriving counties from geometry (default: the counties' own if projected).

    Returns
    -------
    DataFrame with :data:`FLOW_COLUMNS`, the ``by`` columns first and any ``status_<value>`` columns
    last; sorted by ``by``, then firms (descending), then the county codes. ``firms`` sums to the
    number of rows of ``assignments`` that have a park.
    """
    by_cols = [by] if isinstance(by, str) else list(by or [])
    _need(assignments, ["enterprise_id", "park_id", *by_cols], "assignments")
    _need(enterprises, ["enterprise_id"], "enterprises")
    _need(parks, ["park_id"], "parks")
    _need(counties, ["code", "name", "city"], "counties")
    moves = assignments[assignments["park_id"].notna()].copy()
    moves["enterprise_id"] = moves["enterprise_id"].astype(str)
    moves["park_id"] = moves["park_id"].astype(str)
    ent = enterprises.drop_duplicates("enterprise_id").set_index(enterprises["enterprise_id"].drop_duplicates().astype(str))
    unknown = sorted(set(moves["enterprise_id"]) - set(ent.index))
    if unknown:
        raise FlowsError("flows.unknown_enterprises", **_ids(unknown))
    park_ids = parks["park_id"].astype(str)
    unknown = sorted(set(moves["park_id"]) - set(park_ids))
    if unknown:
        raise FlowsError("flows.unknown_parks", **_ids(unknown))

    if "origin_county_code" not in moves.columns:
        origin = enterprise_counties(enterprises, counties, metric_crs)
        moves["origin_county_code"] = moves["enterprise_id"].map(origin)
    if "destination_county_code" not in moves.columns:
        dest = park_counties(parks, counties, metric_crs)
        moves["destination_county_code"] = moves["park_id"].map(dest)
    for col in ("origin_county_code", "destination_county_code"):
        moves[col] = moves[col].map(lambda v: None if _missing(v) else str(v))
    moves["jobs"] = (pd.to_numeric(ent["employees"], errors="coerce").reindex(moves["enterprise_id"]).to_numpy()
                     if "employees" in ent.columns else np.nan)
    if "land_ha" not in moves.columns:
        moves["land_ha"] = (pd.to_numeric(ent["land_ha"], errors="coerce").reindex(moves["enterprise_id"]).to_numpy()
                            if "land_ha" in ent.columns else np.nan)
    moves["firms"] = 1
    keys = by_cols + ["origin_county_code", "destination_county_code"]
    for k in keys:  # an unknown county (or group) is a group of its own, not dropped
        moves[k] = moves[k].astype(object).where(moves[k].notna(), _NONE)
    grouped = moves.groupby(keys, sort=False)
    out = grouped.agg(firms=("firms", "sum"), jobs=("jobs", lambda s: s.sum(min_count=1)),
                      land_ha=("land_ha", lambda s: s.sum(min_count=1))).reset_index()
    status_cols = []
    if "status" in moves.columns:
        counts = pd.crosstab([moves[k] for k in keys], moves["status"].astype(str))
        counts.columns = [f"status_{c}" for c in counts.columns]
        status_cols = list(counts.columns)
        out = out.merge(counts.reset_index(), on=keys, how="left")
        out[status_cols] = out[status_cols].fillna(0).astype(int)
    for k in keys:
        out[k] = out[k].map(lambda v: None if v == _NONE else v).astype(object)
    info = counties.assign(code=counties["code"].astype(str)).drop_duplicates("code").set_index("code")
    for side in ("origin", "destination"):
        codes = out[f"{side}_county_code"]
        out[f"{side}_county"] = codes.map(info["name"]).astype(object)
        out[f"{side}_city"] = codes.map(info["city"]).astype(object)
    out["firms"] = out["firms"].astype(int)
    out["jobs"] = pd.to_numeric(out["jobs"], errors="coerce").round().astype("Int64")
    out["land_ha"] = pd.to_numeric(out["land_ha"], errors="coerce").astype(float)
    out = out[by_cols + list(FLOW_COLUMNS) + status_cols]
    out = out.sort_values(by_cols + ["firms", "origin_county_code", "destination_county_code"],
                          ascending=[True] * len(by_cols) + [False, True, True], kind="stable", na_position="last")
    return out.reset_index(drop=True)


def _missing(v) -> bool:
    try:
        return v is None or bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _need(frame: pd.DataFrame, cols, what: str) -> None:
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(f"{what} must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise FlowsError("flows.lacks_columns", what=_what(what), missing=listing(missing), needed=listing(cols))


def _metric(frames, metric_crs):
    if metric_crs is not None:
        return metric_crs
    for f in frames:
        crs = getattr(f, "crs", None)
        if crs is not None and crs.is_projected:
            return crs
    from geodata.crs import metric_crs as choose

    return choose(frames[0])


def enterprise_counties(enterprises: pd.DataFrame, counties: pd.DataFrame, metric_crs=None) -> pd.Series:
    """enterprise_id -> county code: the ``county_code`` column, else the county containing the point."""
    ids = enterprises["enterprise_id"].astype(str).to_numpy()
    if "county_code" in enterprises.columns:
        codes = enterprises["county_code"]
    else:
        codes = _locate(enterprises, counties, metric_crs, "enterprises")
    s = pd.Series([None if _missing(v) else str(v) for v in codes], index=ids, dtype=object)
    return s[~s.index.duplicated()]


def park_counties(parks: pd.DataFrame, counties: pd.DataFrame, metric_crs=None) -> pd.Series:
    """park_id -> county code: the ``county_code`` column, else the county containing the representative point."""
    ids = parks["park_id"].astype(str).to_numpy()
    if "county_code" in parks.columns:
        codes = parks["county_code"]
    else:
        codes = _locate(parks, counties, metric_crs, "parks")
    s = pd.Series([None if _missing(v) else str(v) for v in codes], index=ids, dtype=object)
    return s[~s.index.duplicated()]


def _locate(frame, counties, metric_crs, what: str) -> pd.Series:
    import geopandas as gpd

    from .joins import assign_counties

    if not isinstance(frame, gpd.GeoDataFrame) or not isinstance(counties, gpd.GeoDataFrame):
        raise FlowsError("flows.no_county", what=_what(what))
    crs = _metric([frame, counties], metric_crs)
    pts = frame.geometry.to_crs(crs)
    if not (pts.geom_type == "Point").all():
        pts = pts.representative_point()
    c = counties.to_crs(crs).reset_index(drop=True)
    return assign_counties(pts, c).to_numpy()
