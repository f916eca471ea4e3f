"""Clustering metrics over time, from the enterprises' establishment years.

The stock at the end of year Y is taken as the enterprises established in or before Y that exist in
today's register (closures are not recorded, so early years are the survivors' pattern -- a
survivorship bias worth stating next to any chart). For each year and sector: the number of
enterprises, the share inside parks, the HHI over counties, the Ellison-Glaeser gamma and (given
the study area) the Clark-Evans R; plus an ``all`` row per year for all sectors together.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._common import MetricsError, require_columns, to_metric, xy
from .clark_evans import clark_evans
from .concentration import ellison_glaeser, sector_hhi

__all__ = ["default_years", "metrics_by_year"]


def default_years(established: pd.Series, step: int = 5) -> list[int]:
    """Every ``step`` years from when a tenth of today's enterprises existed up to the latest year."""
    y = pd.to_numeric(established, errors="coerce").dropna()
    if y.empty:
        return []
    start = int(np.ceil(np.quantile(y, 0.1) / step) * step)
    end = int(y.max())
    years = list(range(start, end, step))
    return years + [end]


def metrics_by_year(enterprises: pd.DataFrame, years: Sequence[int] | None = None, *,
                    region: str = "county_code", min_plants: int = 5, study_area=None, crs=None) -> pd.DataFrame:
    """One row per (year, sector) and one (year, ``all``) row.

    Columns: ``year``, ``sector``, ``enterprises``, ``employees``, ``share_in_parks`` (by count),
    ``hhi`` and ``ellison_glaeser_gamma`` (NaN when fewer than ``min_plants`` plants); with
    ``study_area`` (a polygon in the metric ``crs``) and point geometries also ``clark_evans_r``.

    >>> e = pd.DataFrame({"sector": ["textiles"] * 4, "county_code": ["A", "A", "B", "B"], "employees": [1, 1, 1, 1],
    ...                   "park_id": ["P", None, "P", None], "established": [2000, 2000, 2010, 2010]})
    >>> metrics_by_year(e, [2000, 2010], min_plants=1).query("sector == 'all'")["share_in_parks"].tolist()
    [0.5, 0.5]
    """
    require_columns(enterprises, ["established", "sector", "employees", "park_id", region])
    est = pd.to_numeric(enterprises["established"], errors="coerce")
    if est.isna().all():
        raise MetricsError("trend.no_years")
    years = default_years(est) if years is None else [int(y) for y in years]
    coords = None
    if study_area is not None:
        if crs is None or not hasattr(enterprises, "geometry"):
            raise MetricsError("trend.geometry")
        coords = pd.DataFrame(xy(to_metric(enterprises, crs)), index=enterprises.index, columns=["x", "y"])
    rows = []
    for year in years:
        stock = enterprises[est <= year]
        if stock.empty:
            continue
        emp = pd.to_numeric(stock["employees"], errors="coerce").fillna(0)
        inside = stock["park_id"].notna()
        rows.append({"year": year, "sector": "all", "enterprises": len(stock), "employees": float(emp.sum()),
                     "share_in_parks": float(inside.mean()), "hhi": np.nan, "ellison_glaeser_gamma": np.nan,
                     "clark_evans_r": _ce(coords, stock.index, study_area)})
        h = sector_hhi(stock, region=region)
        eg = ellison_glaeser(stock, region=region) if emp.sum() > 0 else None
        for sector, g in stock.groupby("sector"):
            enough = len(g) >= min_plants
            rows.append({
                "year": year, "sector": sector, "enterprises": len(g),
                "employees": float(pd.to_numeric(g["employees"], errors="coerce").fillna(0).sum()),
                "share_in_parks": float(g["park_id"].notna().mean()),
                "hhi": float(h.get(sector, np.nan)) if enough else np.nan,
                "ellison_glaeser_gamma": float(eg.loc[sector, "ellison_glaeser_gamma"]) if enough and eg is not None else np.nan,
                "clark_evans_r": _ce(coords, g.index, study_area) if enough else np.nan,
            })
    columns = ["year", "sector", "enterprises", "employees", "share_in_parks", "hhi", "ellison_glaeser_gamma"]
    return pd.DataFrame(rows, columns=columns + (["clark_evans_r"] if coords is not None else []))


def _ce(coords: pd.DataFrame | None, index, area) -> float:
    if coords is None:
        return np.nan
    return clark_evans(coords.loc[index].to_numpy(), area).R
