"""The plan's indicators by year and area, held against the target paths of a targets file.

Every indicator is built from additive parts summed per county and year (:func:`indicator_components`),
so the city, less-developed/other and province values are sums of the same parts and ratios of sums
(never means of county ratios):

==================================  ===================================================================
indicator                           value in year *y* for an area
==================================  ===================================================================
``tech_investment``                 technical-transformation investment *I_y*: the FAI layer's
                                    ``tech_transformation`` (``source="fai"``), else the investment of the
                                    projects that start in *y*, cancelled ones left out (``source="projects"``)
``tech_investment_total``           :math:`\\sum_{k=p}^{y} I_k` from the period's first year *p*
``tech_investment_growth``          average annual growth since the year before the period:
                                    :math:`(I_y / I_{p-1})^{1/(y-p+1)} - 1`
``tech_share_of_fai``               :math:`I_y / F_y` with *F* the FAI layer's ``total``
``high_tech_share_of_value_added``  value added of high-tech enterprises above designated size over the value
                                    added of all enterprises above designated size (``enterprise_years``; above
                                    designated size in *y* = sales in *y* >= 5 M yuan, the plan's 规模以上)
``enterprises_sales_over_10bn``     enterprises with sales >= 10 billion yuan in *y* (``_5bn``: >= 5 billion)
``township_zones_built``            parks of that kind with ``established`` <= *y* (``specialty_parks_built``)
==================================  ===================================================================

Targets hold for the province. Rates and shares (``intensive`` indicators) are also held against the
same path for each city, county and the less-developed/other groups; totals and counts of a part of
the province have no target of their own (``target`` is None there).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geodata.dataset import Dataset
from geodata.jsonable import jsonable
from geodata.targets import INDICATORS, Targets

__all__ = ["IndicatorReport", "LEVELS", "SOURCES", "indicator_components", "indicator_values", "compute_indicators",
           "tech_investment_source"]

LEVELS = ("province", "city", "county", "less_developed")
SOURCES = ("auto", "fai", "projects")
BILLION = 1e9
ABOVE_SIZE_SALES = 5_000_000.0  # geodata.schema.DESIGNATED_SIZE_REVENUE_YUAN
_PARTS = ("tech_investment", "fai_total", "va_above", "va_high_tech", "n_10bn", "n_5bn", "township_zones",
          "specialty_parks")
_UNKNOWN = "unknown"


def _frame(ds: Dataset, name: str, columns: list[str]) -> pd.DataFrame:
    """A table layer of the dataset, or an empty frame with ``columns`` when the dataset predates it."""
    frame = getattr(ds, name, None)
    if frame is None:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.DataFrame(frame)


def tech_investment_source(fai: pd.DataFrame, source: str = "auto") -> str:
    """``fai`` or ``projects``: where technical-transformation investment is taken from.

    ``auto`` takes the FAI layer's ``tech_transformation`` when it has any value, else project investment.
    """
    if source not in SOURCES:
        raise ValueError(f"source {source!r} is not accepted; accepted: {', '.join(SOURCES)}")
    if source != "auto":
        return source
    has = "tech_transformation" in fai.columns and pd.to_numeric(fai["tech_transformation"], errors="coerce").notna().any()
    return "fai" if has else "projects"


def indicator_components(ds: Dataset, *, years: list[int] | None = None, source: str = "auto") -> tuple[pd.DataFrame, str, list[int]]:
    """The additive parts of every indicator per county and year: ``(parts, source used, years)``.

    ``ds`` is a prepared dataset (:func:`parks.joins.prepare`: projects and enterprises carry
    ``county_code``). Rows whose county is unknown have ``county_code`` ``'unknown'``; they count in the
    province only.
    """
    fai = _frame(ds, "fixed_asset_investment", ["county_code", "year", "total", "industrial", "tech_transformation"])
    ey = _frame(ds, "enterprise_years", ["enterprise_id", "year", "sales", "value_added"])
    projects = pd.DataFrame(ds.projects)
    ent = pd.DataFrame(ds.enterprises)
    used = tech_investment_source(fai, source)
    if "county_code" not in ent.columns or (len(projects) and "county_code" not in projects.columns):
        raise ValueError("indicators need a prepared dataset (county_code on enterprises and projects); "
                         "call parks.joins.prepare(ds) first")
    num = lambda f, c: pd.to_numeric(f[c], errors="coerce") if c in f.columns else pd.Series(np.nan, index=f.index)  # noqa: E731
    county = lambda s: s.astype(object).where(s.notna(), _UNKNOWN).astype(str)  # noqa: E731
    pieces = []
    fai_year = num(fai, "year")
    pieces.append(pd.DataFrame({"county_code": county(fai["county_code"]), "year": fai_year,
                                "fai_total": num(fai, "total")}))
    if used == "fai":
        pieces.append(pd.DataFrame({"county_code": county(fai["county_code"]), "year": fai_year,
                                    "tech_investment": num(fai, "tech_transformation")}))
    elif len(projects):
        live = projects[projects["status"].astype(str) != "cancelled"] if "status" in projects else projects
        pieces.append(pd.DataFrame({"county_code": county(live["county_code"]), "year": num(live, "year"),
                                    "tech_investment": num(live, "investment")}))
    if len(ey):
        info = ent.drop_duplicates("enterprise_id").set_index("enterprise_id")
        ids = ey["enterprise_id"].astype(str).to_numpy()
        info.index = info.index.astype(str)
        high = info["high_tech"].reindex(ids).fillna(False).astype(bool).to_numpy() if "high_tech" in info else np.zeros(len(ey), bool)
        sales, va = num(ey, "sales").to_numpy(dtype=float), num(ey, "value_added").to_numpy(dtype=float)
        above = np.nan_to_num(sales, nan=-1.0) >= ABOVE_SIZE_SALES
        pieces.append(pd.DataFrame({
            "county_code": county(info["county_code"].reindex(ids)).to_numpy(), "year": num(ey, "year").to_numpy(),
            "va_above": np.where(above, va, 0.0), "va_high_tech": np.where(above & high, va, 0.0),
            "n_10bn": (np.nan_to_num(sales) >= 10 * BILLION).astype(float),
            "n_5bn": (np.nan_to_num(sales) >= 5 * BILLION).astype(float)}))
    parts = pd.concat(pieces, ignore_index=True) if pieces else pd.DataFrame(columns=["county_code", "year"])
    parts = parts.dropna(subset=["year"])
    if years is None:
        years = sorted({int(y) for y in parts["year"]})
    years = [int(y) for y in years]
    parts = parts.assign(year=parts["year"].astype(int))
    parts = parts[parts["year"].isin(years)]
    summed = parts.groupby(["county_code", "year"]).sum(min_count=1)
    counties = sorted(set(ds.counties["code"].astype(str)) | set(summed.index.get_level_values(0)))
    grid = pd.MultiIndex.from_product([counties, years], names=["county_code", "year"])
    out = summed.reindex(grid).reindex(columns=list(_PARTS))
    out[["n_10bn", "n_5bn", "va_above", "va_high_tech"]] = out[["n_10bn", "n_5bn", "va_above", "va_high_tech"]].fillna(0.0)
    if used == "projects":
        out["tech_investment"] = out["tech_investment"].fillna(0.0)
    built = _parks_built(ds.parks, years)
    for kind, col in (("township_zone", "township_zones"), ("specialty_park", "specialty_parks")):
        b = built[built["kind"] == kind].set_index(["county_code", "year"])["n"]
        out[col] = b.reindex(grid).fillna(0.0).to_numpy()
    return out.reset_index(), used, years


def _parks_built(parks: pd.DataFrame, years: list[int]) -> pd.DataFrame:
    """Parks of each kind established in or before each year, per county (parks without a year: never)."""
    est = pd.to_numeric(parks["established"], errors="coerce") if "established" in parks else pd.Series(np.nan, index=parks.index)
    rows = []
    for y in years:
        hit = parks[est.le(y).to_numpy()]
        n = hit.groupby([hit["county_code"].astype(str), hit["kind"].astype(str)]).size()
        rows += [{"county_code": c, "kind": k, "year": y, "n": float(v)} for (c, k), v in n.items()]
    return pd.DataFrame(rows, columns=["county_code", "kind", "year", "n"])


def _group_keys(counties: pd.DataFrame) -> dict[str, pd.Series]:
    """county code -> group id, for each level."""
    c = counties.assign(code=counties["code"].astype(str)).set_index("code")
    ld = c["less_developed"].fillna(False).astype(bool) if "less_developed" in c else pd.Series(False, index=c.index)
    return {"city": c["city"].astype(str), "county": pd.Series(c.index, index=c.index),
            "less_developed": ld.map({True: "less_developed", False: "other"})}


def indicator_values(parts: pd.DataFrame, counties: pd.DataFrame, *, period_start: int) -> pd.DataFrame:
    """Indicator values by level, group and year from the per-county parts (:func:`indicator_components`).

    Returns columns ``indicator``, ``level``, ``group``, ``year``, ``value`` (canonical units: yuan, share,
    count; NaN where the data cannot say, e.g. a share without fixed-asset investment).
    """
    keys = _group_keys(counties)
    frames = []
    for level in LEVELS:
        if level == "province":
            g = pd.Series("province", index=parts.index)
        else:
            g = parts["county_code"].map(keys[level])
            g = g.where(g.notna(), None)
        sub = parts.assign(group=g.to_numpy()).dropna(subset=["group"])
        sums = sub.groupby(["group", "year"])[list(_PARTS)].sum(min_count=1)
        frames.append(_indicators_from_sums(sums, period_start).assign(level=level))
    out = pd.concat(frames, ignore_index=True)
    return out[["indicator", "level", "group", "year", "value"]].sort_values(["indicator", "level", "group", "year"],
                                                                              ignore_index=True)


def _indicators_from_sums(sums: pd.DataFrame, period_start: int) -> pd.DataFrame:
    inv = sums["tech_investment"]
    with np.errstate(divide="ignore", invalid="ignore"):
        share_fai = inv / sums["fai_total"].where(sums["fai_total"] > 0)
        high = sums["va_high_tech"] / sums["va_above"].where(sums["va_above"] > 0)
    rows = {"tech_investment": inv, "tech_share_of_fai": share_fai, "high_tech_share_of_value_added": high,
            "enterprises_sales_over_10bn": sums["n_10bn"], "enterprises_sales_over_5bn": sums["n_5bn"],
            "township_zones_built": sums["township_zones"], "specialty_parks_built": sums["specialty_parks"]}
    # period to date and growth since the year before the period, per group
    inv_w = inv.unstack("year")
    years = list(inv_w.columns)
    total = inv_w[[y for y in years if y >= period_start]].cumsum(axis=1, skipna=False) if years else inv_w
    rows["tech_investment_total"] = total.stack(future_stack=True) if len(total.columns) else pd.Series(dtype=float)
    base_year = period_start - 1
    if base_year in years:
        base = inv_w[base_year]
        growth = {}
        for y in years:
            if y > base_year:
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = (inv_w[y] / base.where(base > 0)).to_numpy(dtype=float)
                    growth[y] = np.where(ratio > 0, ratio ** (1.0 / (y - base_year)) - 1.0, np.nan)
        g = pd.DataFrame(growth, index=inv_w.index)
        g.columns.name = "year"
        rows["tech_investment_growth"] = g.stack(future_stack=True) if len(g.columns) else pd.Series(dtype=float)
    else:
        rows["tech_investment_growth"] = pd.Series(dtype=float)
    out = []
    for name, s in rows.items():
        s = s.rename("value").reset_index() if len(s) else pd.DataFrame(columns=["group", "year", "value"])
        out.append(s.assign(indicator=name))
    res = pd.concat(out, ignore_index=True)
    res["value"] = pd.to_numeric(res["value"], errors="coerce").astype(float)
    return res


@dataclass
class IndicatorReport:
    """Indicator values held against the targets.

    ``table``: one row per target, level, group and year (``value``, ``target``, ``gap`` = value - target,
    ``on_track``); ``summary``: one row per target for the report year (province); ``values``: every
    indicator's values (also those no target names).
    """

    table: pd.DataFrame
    summary: pd.DataFrame
    values: pd.DataFrame
    source: str
    years: list[int]
    year: int | None
    targets: Targets
    group_names: dict[str, str] = field(default_factory=dict)

    def to_dict(self, *, level: str | None = None, group: str | None = None) -> dict:
        t = self.table
        if level is not None:
            t = t[t["level"] == level]
        if group is not None:
            t = t[t["group"] == group]
        return {
            "source": self.source, "years": self.years, "year": self.year,
            "plan": dict(self.targets.plan), "targets_file": self.targets.source,
            "targets": [dict(tg.to_dict(), **_summary_row(self.summary, tg.id)) for tg in self.targets],
            "rows": _records(t.assign(group_name=t["group"].map(self.group_names).fillna(t["group"]))),
        }


def _summary_row(summary: pd.DataFrame, target_id: str) -> dict:
    hit = summary[summary["target_id"] == target_id]
    if not len(hit):
        return {}
    return {k: v for k, v in _records(hit)[0].items() if k not in ("target_id",)}


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: jsonable(v) for k, v in r.items()} for r in frame.astype(object).to_dict("records")]


def compute_indicators(ds: Dataset, targets: Targets, *, year: int | None = None, years: list[int] | None = None,
                       source: str = "auto") -> IndicatorReport:
    """Every target's indicator for every year of the data, by province, city, county and less-developed
    vs other, with the target path, the gap and whether it is on track.

    ``year`` is the report year of the summary (default: the last year with data). ``period_start``
    is the plan's (``[plan] period_start``), else the year after the earliest base year.
    """
    if year is not None and not isinstance(year, (int, np.integer)):
        raise TypeError(f"year must be an int, got {type(year).__name__}")
    period_start = int(targets.plan.get("period_start") or (min((t.base_year for t in targets), default=2000) + 1))
    parts, used, all_years = indicator_components(ds, years=years, source=source)
    values = indicator_values(parts, ds.counties, period_start=period_start)
    if year is None:
        have = values.loc[values["value"].notna() & (values["level"] == "province"), "year"]
        year = int(have.max()) if len(have) else None
    rows = []
    for tg in targets:
        v = values[values["indicator"] == tg.indicator]
        intensive = INDICATORS[tg.indicator].intensive
        for (level, group), gv in v.groupby(["level", "group"], sort=False):
            by_year = dict(zip(gv["year"].astype(int), gv["value"]))
            base = by_year.get(tg.base_year)
            applies = level == "province" or intensive
            for y, val in sorted(by_year.items()):
                exp = tg.expected(y, base) if applies else None
                val = None if val is None or not math.isfinite(val) else float(val)
                rows.append({"target_id": tg.id, "indicator": tg.indicator, "level": level, "group": group, "year": y,
                             "value": val, "target": exp,
                             "gap": None if val is None or exp is None else val - exp, "on_track": tg.met(val, exp)})
    cols = ["target_id", "indicator", "level", "group", "year", "value", "target", "gap", "on_track"]
    table = pd.DataFrame(rows, columns=cols)
    summary = _summary(table, targets, year)
    names = _group_names(ds.counties)
    return IndicatorReport(table, summary, values, used, all_years, year, targets, names)


def _summary(table: pd.DataFrame, targets: Targets, year: int | None) -> pd.DataFrame:
    rows = []
    prov = table[table["level"] == "province"]
    for tg in targets:
        t = prov[(prov["target_id"] == tg.id) & (prov["year"] == year)]
        r = t.iloc[0] if len(t) else None
        value = None if r is None else r["value"]
        value = None if value is None or (isinstance(value, float) and not math.isfinite(value)) else float(value)
        progress = None
        if value is not None and tg.target_value:
            progress = value / tg.target_value
        rows.append({"target_id": tg.id, "year": year, "value": value,
                     "expected": None if r is None else r["target"], "gap": None if r is None else r["gap"],
                     "on_track": None if r is None else r["on_track"], "progress": progress})
    return pd.DataFrame(rows, columns=["target_id", "year", "value", "expected", "gap", "on_track", "progress"])


def _group_names(counties: pd.DataFrame) -> dict[str, str]:
    names = dict(zip(counties["code"].astype(str), counties["name"].astype(str)))
    names.update({"province": "全省", "less_developed": "欠发达县", "other": "其他县"})
    return names
