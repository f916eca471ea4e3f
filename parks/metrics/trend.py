"""Clustering metrics over time, from the enterprises' establishment years.

The stock at the end of year Y is taken as the enterprises established in or before Y that exist in
today's register (closures are not recorded, so early years are the survivors' pattern -- a
survivorship bias worth stating next to any chart). For each year and sector: the number of
enterprises, the share inside parks, the HHI over counties and the Ellison-Glaeser gamma; plus an
``all`` row per year for the park-capture share of all sectors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._common import MetricsError, require_columns
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
                    region: str = "county_code", min_plants: int = 5) -> pd.DataFrame:
    """One row per (year, sector) and one (year, ``all``) row.

    Columns: ``year``, ``sector``, ``enterprises``, ``employees``, ``share_in_parks`` (by count),
    ``hhi`` and ``ellison_glaeser_gamma`` (NaN when fewer than ``min_plants`` plants).

    >>> e = pd.DataFrame({"sector": ["textiles"] * 4, "county_code": ["A", "A", "B", "B"], "employees": [1, 1, 1, 1],
    ...                   "park_id": ["P", None, "P", None], "established": [2000, 2000, 2010, 2010]})
    >>> metrics_by_year(e, [2000, 2010], min_plants=1).query("sector == 'all'")["share_in_parks"].tolist()
    [0.5, 0.5]
    """
    require_columns(enterprises, ["established", "sector", "employees", "park_id", region])
    est = pd.to_numeric(enterprises["established"], errors="coerce")
    if est.isna().all():
        raise MetricsError("column 'established' has no years; the trend needs establishment years")
    years = default_years(est) if years is None else [int(y) for y in years]
    rows = []
    for year in years:
        stock = enterprises[est <= year]
        if stock.empty:
            continue
        emp = pd.to_numeric(stock["employees"], errors="coerce").fillna(0)
        inside = stock["park_id"].notna()
        rows.append({"year": year, "sector": "all", "enterprises": len(stock), "employees": float(emp.sum()),
                     "share_in_parks": float(inside.mean()), "hhi": np.nan, "ellison_glaeser_gamma": np.nan})
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
            })
    return pd.DataFrame(rows, columns=["year", "sector", "enterprises", "employees", "share_in_parks", "hhi",
                                       "ellison_glaeser_gamma"])
