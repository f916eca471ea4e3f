"""The built-in dataset's yearly series and relations (SYNTHETIC): projects with their dates, enterprise
sales by year, fixed-asset investment by county and year, and the suppliers of the chain leaders.

Calibration targets (see ``docs/data.md``): the plan (浙江省"十五"技术改造工作计划) reports the previous
period's (1996-2000) technical-transformation investment as 235.6 billion yuan, 25.5 % of all fixed-asset
investment, and sets 12 % growth a year towards 400 billion in 2001-2005 with a 30 % share. The series
land near these figures, not on them: each year's growth is drawn around the target.
"""

from __future__ import annotations

import datetime as _dt

import geopandas as gpd
import numpy as np
import pandas as pd

from .schema import DESIGNATED_SIZE_REVENUE_YUAN, SECTOR_IDS, SERIES_YEARS

__all__ = ["projects", "enterprise_years", "fixed_asset_investment", "suppliers", "AS_OF", "HIGH_TECH_GROWTH_PREMIUM"]

AS_OF = _dt.date(2005, 12, 31)  # the data describe the end of the plan period
_PROJECT_KINDS = ("新增生产线", "工艺装备更新", "节能降耗", "清洁生产", "信息化改造", "产品升级换代", "引进设备消化吸收")
_USD_CNY = 8.27
# nominal growth of enterprise sales by year (the 1990s' slowdown, the 2000s' boom), and its spread
_SALES_GROWTH = {y: (0.10 if y <= 2000 else 0.18) for y in SERIES_YEARS}
# High-tech firms grow faster: the province's high-tech industrial output of 2006 was 146 % above 2002's
# (浙江日报 2007-04-30, 全省高新产业产值2010年将达1万亿元), 25 % a year against the 18 % above; the premium is
# assumed for the earlier years too.
HIGH_TECH_GROWTH_PREMIUM = 0.07
_PREVIOUS_TOTAL = 235.6e9  # 技术改造投资, 1996-2000 (plan, 一.(一))
_PREVIOUS_SHARE = 0.255  # of all fixed-asset investment (plan, 一.(一))
_GROWTH = 0.12  # a year, 2001-2005 (plan, 二.(二))


def _weights(w) -> np.ndarray:
    w = np.asarray(w, dtype=float)
    return w / w.sum()


def _days(start: np.ndarray, days: np.ndarray) -> np.ndarray:
    return start + days.astype("timedelta64[D]")


def _iso(dates: np.ndarray, mask: np.ndarray | None = None) -> list:
    text = np.datetime_as_string(dates, unit="D").astype(object)
    if mask is not None:
        text[~mask] = None
    return list(text)


def projects(rng, n: int, enterprises: gpd.GeoDataFrame) -> pd.DataFrame:
    """Technical-transformation projects of the enterprises, 1999-2005 (more each year: about 15 %).

    Each has a start date, a planned completion 9 to 30 months later and, when completed, an actual
    completion a few months either side of it. Status as of :data:`AS_OF`: completed, in progress (some
    past their planned completion: overdue), planned (approved, starting in the last weeks of 2005) or
    cancelled.
    """
    if n == 0:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in (
            ("project_id", "str"), ("enterprise_id", "str"), ("title", "str"), ("sector", "str"), ("investment", "float64"),
            ("imported_equipment_usd", "float64"), ("subsidy", "float64"), ("funding", "str"), ("start_year", "int64"),
            ("status", "str"), ("start_date", "str"), ("planned_completion", "str"), ("actual_completion", "str"))})
    rev = enterprises["revenue"].to_numpy()
    pick = rng.choice(len(enterprises), size=n, p=_weights(rev ** 0.7))
    e = enterprises.iloc[pick]
    years = np.arange(1999, 2006)
    start = rng.choice(years, size=n, p=_weights(1.15 ** (years - 1999) * rng.uniform(0.9, 1.1, len(years))))
    # a firm invests in proportion to its size in the start year (its sales grow about 15 % a year)
    scale = 1.15 ** (start - 2005)
    # (the largest single projects of the period ran to one or two billion yuan)
    investment = np.round(np.clip(e["revenue"].to_numpy() * scale * rng.uniform(0.05, 0.5, n), 5e5,
                                  rng.uniform(0.8, 2.0, n) * 1e9), -4)
    funding = rng.choice(["national_debt", "provincial_key", "own"], size=n, p=[0.12, 0.25, 0.63])
    subsidy = np.round(np.where(funding == "national_debt", investment * 0.6 * 0.05 * 2,
                       np.where(funding == "provincial_key", investment * 0.02, 0.0)), -2)
    imported = np.round(np.where(rng.random(n) < 0.3, investment * rng.uniform(0.1, 0.5, n) / _USD_CNY, 0.0), -2)
    jan1 = np.array([np.datetime64(f"{y}-01-01") for y in start])
    start_date = _days(jan1, rng.integers(0, 365, n))
    planned = _days(start_date, np.round(rng.uniform(9, 30, n) * 30.4))
    delay = np.round(rng.normal(1.5, 3.0, n) * 30.4)
    actual = _days(planned, delay)
    as_of = np.datetime64(AS_OF.isoformat())
    actual = np.maximum(actual, _days(start_date, np.full(n, 120)))
    u = rng.random(n)
    cancelled = u < 0.05
    completed = ~cancelled & (actual <= as_of) & (u > 0.05 + 0.12)  # about an eighth of due projects lag
    planned_status = ~cancelled & ~completed & (start_date > as_of - np.timedelta64(45, "D")) & (u < 0.5)
    status = np.where(cancelled, "cancelled", np.where(completed, "completed",
                      np.where(planned_status, "planned", "in_progress")))
    kinds = np.array(_PROJECT_KINDS, dtype=object)[rng.integers(len(_PROJECT_KINDS), size=n)]
    short = [name.replace("有限公司", "") for name in e["name"]]
    order = np.lexsort((e["enterprise_id"].to_numpy(), start_date))
    frame = pd.DataFrame({
        "enterprise_id": e["enterprise_id"].to_numpy(),
        "title": [f"{s}{k}技术改造项目" for s, k in zip(short, kinds)],
        "sector": e["sector"].to_numpy(),
        "investment": investment,
        "imported_equipment_usd": imported,
        "subsidy": subsidy,
        "funding": funding,
        "start_year": start.astype(int),
        "status": status,
        "start_date": _iso(start_date),
        "planned_completion": _iso(planned),
        "actual_completion": _iso(actual, status == "completed"),
    }).iloc[order].reset_index(drop=True)
    frame.insert(0, "project_id", [f"P{i + 1:06d}" for i in range(n)])
    return frame


def enterprise_years(rng, enterprises: pd.DataFrame) -> pd.DataFrame:
    """Sales and value added of every designated-size enterprise in each year of :data:`SERIES_YEARS` since
    it was founded; the last year's sales are its ``revenue``. Earlier years are discounted by a firm's
    own growth (around 10 % a year to 2000 and 18 % after, spread 8 points; :data:`HIGH_TECH_GROWTH_PREMIUM`
    more for ``high_tech`` firms) with year-to-year noise."""
    above = enterprises["revenue"].to_numpy() >= DESIGNATED_SIZE_REVENUE_YUAN
    e = enterprises[above]
    m = len(e)
    years = np.array(SERIES_YEARS)
    growth = np.array([_SALES_GROWTH[y] for y in years[1:]])
    firm = rng.normal(0, 0.08, m)
    if "high_tech" in e.columns:
        firm = firm + HIGH_TECH_GROWTH_PREMIUM * e["high_tech"].to_numpy(dtype=bool)
    g = np.clip(growth[None, :] + firm[:, None] + rng.normal(0, 0.05, (m, len(years) - 1)), -0.3, 0.8)
    # factor[:, j] = sales(year j) / sales(last year)
    back = np.cumprod(1.0 / (1.0 + g[:, ::-1]), axis=1)[:, ::-1]
    factor = np.hstack([back, np.ones((m, 1))])
    sales = np.round(e["revenue"].to_numpy()[:, None] * factor, -3)
    ratio = e["value_added"].to_numpy() / np.maximum(e["revenue"].to_numpy(), 1.0)
    va = np.round(sales * ratio[:, None] * rng.lognormal(0, 0.05, (m, len(years))), -2)
    exists = years[None, :] >= e["established"].to_numpy()[:, None]
    ids = np.repeat(e["enterprise_id"].to_numpy(), len(years)).reshape(m, len(years))
    yy = np.broadcast_to(years, (m, len(years)))
    return pd.DataFrame({"enterprise_id": ids[exists], "year": yy[exists].astype("int64"),
                         "sales": sales[exists], "value_added": va[exists]})


def fixed_asset_investment(rng, counties: pd.DataFrame, industry: np.ndarray, urban_share: np.ndarray) -> pd.DataFrame:
    """全社会 / 工业 / 技术改造 fixed-asset investment of every county and year (yuan).

    Province totals: technical transformation grows about 9 % a year to 2000 with a five-year total near
    235.6 billion, then about 12 % a year (each year drawn around it); its share of all fixed-asset
    investment starts near 25.5 % and edges up; industry takes about 42 % of all investment. Counties
    share the totals by their industry (technical transformation, industrial) and by their industry and
    urban weight (all investment), each with its own drifting share.
    """
    years = np.array(SERIES_YEARS)
    prev = years <= 2000
    g = np.where(years <= 2000, rng.normal(0.09, 0.02, len(years)), rng.normal(_GROWTH, 0.025, len(years)))
    level = np.cumprod(1 + np.where(np.arange(len(years)) == 0, 0.0, g))
    tech = level / level[prev].sum() * _PREVIOUS_TOTAL * rng.uniform(0.97, 1.03)
    share = np.clip(_PREVIOUS_SHARE + np.where(years > 2000, (years - 2000) * rng.uniform(0.004, 0.010), 0.0)
                    + rng.normal(0, 0.006, len(years)), 0.2, 0.35)
    total = tech / share
    industrial = total * np.clip(rng.normal(0.42, 0.015, len(years)), 0.35, 0.5)
    n = len(counties)

    def drifting(base: np.ndarray) -> np.ndarray:
        walk = np.cumsum(rng.normal(0, 0.06, (n, len(years))), axis=1)
        w = base[:, None] * rng.lognormal(0, 0.25, n)[:, None] * np.exp(walk)
        return w / w.sum(axis=0, keepdims=True)

    ind_c = industrial[None, :] * drifting(industry)
    ratio = np.clip((tech / industrial)[None, :] * rng.lognormal(0, 0.15, (n, len(years))), 0.1, 0.9)
    tech_c = ind_c * ratio
    tech_c *= tech.sum() / tech_c.sum()
    tech_c = np.minimum(tech_c, ind_c * 0.95)
    other_c = (total - industrial)[None, :] * drifting(industry + urban_share * industry.sum())
    total_c = ind_c + other_c
    codes = np.repeat(counties["code"].astype(str).to_numpy(), len(years))
    return pd.DataFrame({
        "county_code": codes,
        "year": np.tile(years, n).astype("int64"),
        "total": np.round(total_c.ravel(), -4),
        "industrial": np.round(ind_c.ravel(), -4),
        "tech_transformation": np.round(tech_c.ravel(), -4),
    })


def suppliers(rng, enterprises_m: gpd.GeoDataFrame, linkages: pd.DataFrame) -> pd.DataFrame:
    """Suppliers (配套企业) of each chain leader: 4 to 30 (more for larger leaders) smaller firms of the
    leader's sector or of a sector upstream of it (``data/sector_linkages.csv``), drawn with weight
    ``exp(-d / 15 km)`` among those within 60 km. ``share`` is the part of the supplier's sales that goes
    to that leader; a supplier's shares add up to at most 1."""
    leaders = np.flatnonzero(enterprises_m["chain_leader"].to_numpy())
    empty = pd.DataFrame({"supplier_id": pd.Series(dtype=str), "leader_id": pd.Series(dtype=str),
                          "share": pd.Series(dtype="float64")})
    if not len(leaders):
        return empty
    sector = enterprises_m["sector"].to_numpy()
    revenue = enterprises_m["revenue"].to_numpy()
    ids = enterprises_m["enterprise_id"].to_numpy()
    x = enterprises_m.geometry.x.to_numpy()
    y = enterprises_m.geometry.y.to_numpy()
    upstream = {s: {s} for s in SECTOR_IDS}
    for up, down in zip(linkages["upstream"], linkages["downstream"]):
        upstream.setdefault(down, {down}).add(up)
    not_leader = ~enterprises_m["chain_leader"].to_numpy()
    serves = {s: not_leader & np.isin(sector, list(upstream.get(s, {s}))) for s in set(sector[leaders])}
    rows_s, rows_l = [], []
    for li in leaders:
        d = np.hypot(x - x[li], y - y[li])
        cand = np.flatnonzero(serves[sector[li]] & (d <= 60_000) & (revenue < revenue[li]))
        if not len(cand):
            continue
        k = int(np.clip(np.round(4 + 3 * np.log10(max(revenue[li], 1e6) / 1e7)), 4, 30))
        k = min(k, len(cand))
        chosen = rng.choice(cand, size=k, replace=False, p=_weights(np.exp(-d[cand] / 15_000)))
        rows_s.extend(ids[chosen])
        rows_l.extend([ids[li]] * k)
    if not rows_s:
        return empty
    frame = pd.DataFrame({"supplier_id": rows_s, "leader_id": rows_l})
    share = rng.uniform(0.05, 0.6, len(frame))
    total = pd.Series(share).groupby(frame["supplier_id"]).transform("sum").to_numpy()
    frame["share"] = np.maximum(np.floor(np.where(total > 1, share / total, share) * 1000) / 1000, 0.001)  # sum <= 1
    return frame.sort_values(["leader_id", "supplier_id"], kind="stable").reset_index(drop=True)
