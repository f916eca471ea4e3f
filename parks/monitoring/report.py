"""The plan-monitoring report as one JSON-ready document: what ``parkplan plan report --json`` prints and
what ``GET /plan/indicators`` (its ``indicators``) and ``GET /plan/projects`` (its ``projects``) answer.

Money in yuan, shares 0..1, dates ISO. ``as_of`` (the date overdue projects are counted at) defaults to
the last day of the report year, so a report on the plan period reads as at its end.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from geodata.dataset import Dataset
from geodata.jsonable import jsonable
from geodata.targets import Targets

from .chains import chain_links, chain_report
from .indicators import LEVELS, IndicatorReport, compute_indicators
from .projects import KEY_FLAGS, filter_projects, key_enterprises, less_developed_share, overdue_projects, project_sums

__all__ = ["PROJECT_SUM_GROUPINGS", "plan_report", "projects_section", "records", "default_as_of"]

PROJECT_SUM_GROUPINGS = ("year", "county_code", "park_id", "sector", "funding")


def records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict]:
    """JSON-ready rows (None for missing, plain ints/floats/bools, ISO dates); geometry dropped."""
    f = pd.DataFrame(frame).drop(columns=["geometry"], errors="ignore")
    if columns is not None:
        f = f[[c for c in columns if c in f.columns]]
    f = f.assign(**{c: f[c].dt.date for c in f.columns if pd.api.types.is_datetime64_any_dtype(f[c])})  # days
    return [{k: jsonable(v) for k, v in r.items()} for r in f.astype(object).to_dict("records")]


def default_as_of(year: int | None) -> dt.date:
    return dt.date(year, 12, 31) if year is not None else dt.date.today()


_OVERDUE_COLS = ["project_id", "enterprise_id", "title", "sector", "county_code", "county_name", "city", "park_id",
                 "year", "funding", "investment", "subsidy", "status", "start_date", "planned_completion",
                 "actual_completion", "overdue", "days_late"]
_KEY_COLS = ["enterprise_id", "name", "sector", "county_code", "county_name", "city", "park_id", "less_developed",
             "employees", "revenue", "key_enterprise", "small_giant", "high_tech"]


def projects_section(ds: Dataset, *, as_of: dt.date, year: int | None = None, county_code: str | None = None,
                     park_id: str | None = None, status: str | None = None, key: str | None = None,
                     limit: int | None = None) -> dict:
    """Projects (filtered by ``year``, ``county_code``, ``park_id``, ``status``): sums by year, county,
    park, sector and funding; the less-developed share; the overdue projects at ``as_of`` (the first
    ``limit``); the supply chains; the key enterprises (``key``: key_enterprise or small_giant, else both)."""
    projects = filter_projects(ds.projects, year=year, county_code=county_code, park_id=park_id, status=status)
    names = dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str)))
    park_names = dict(zip(ds.parks["park_id"].astype(str), ds.parks["name"].astype(str)))
    sums = {}
    for by in PROJECT_SUM_GROUPINGS:
        s = project_sums(projects, by)
        if by == "county_code":
            s.insert(1, "county_name", s["county_code"].astype(str).map(names))
        elif by == "park_id":
            s.insert(1, "park_name", s["park_id"].astype(str).map(park_names))
        sums[by] = records(s)
    overdue = overdue_projects(projects, as_of)
    suppliers = getattr(ds, "suppliers", None)
    if suppliers is None:
        suppliers = pd.DataFrame({"supplier_id": pd.Series(dtype=str), "leader_id": pd.Series(dtype=str)})
    links = chain_links(suppliers, ds.enterprises, ds.projects, ds.metric_crs)
    ents = ds.enterprises
    if county_code is not None:
        ents = ents[ents["county_code"].astype(str) == str(county_code)]
    if park_id is not None:
        ents = ents[ents["park_id"].astype(str) == str(park_id)]
    keyed = key_enterprises(ents, key)
    counts = {f: int(keyed[f].sum()) for f in KEY_FLAGS}
    by_county = (keyed.groupby(keyed["county_code"].astype(str))[list(KEY_FLAGS)].sum().astype("int64")
                 .reset_index().sort_values("county_code", ignore_index=True)) if len(keyed) else pd.DataFrame(
                     columns=["county_code", *KEY_FLAGS])
    by_county.insert(1, "county_name", by_county["county_code"].map(names))
    return {
        "filters": {"year": year, "county_code": county_code, "park_id": park_id, "status": status, "key": key},
        "as_of": as_of.isoformat(),
        "count": int(len(projects)),
        "sums": sums,
        "less_developed_share": records(less_developed_share(projects)),
        "overdue_total": int(len(overdue)),
        "overdue": records(overdue.head(limit) if limit is not None else overdue, _OVERDUE_COLS),
        "chains": {"leaders": records(chain_report(links)), "links": records(links)},
        "key_enterprises": {"counts": counts, "by_county": records(by_county),
                            "rows": records(keyed.head(limit) if limit is not None else keyed, _KEY_COLS),
                            "total": int(len(keyed))},
    }


def plan_report(ds: Dataset, targets: Targets, *, year: int | None = None, as_of: dt.date | None = None, source: str = "auto",
                level: str | None = None, limit: int | None = None) -> tuple[dict, IndicatorReport]:
    """The whole report: ``{"indicators": ..., "projects": ...}`` and the indicator tables behind it."""
    if level is not None and level not in LEVELS:
        raise ValueError(f"level {level!r} is not accepted; accepted: {', '.join(LEVELS)}")
    ind = compute_indicators(ds, targets, year=year, source=source)
    report_year = year if year is not None else ind.year
    as_of = as_of or default_as_of(report_year)
    doc = {"indicators": ind.to_dict(level=level), "projects": projects_section(ds, as_of=as_of, limit=limit)}
    return doc, ind
