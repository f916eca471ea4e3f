"""The plan's projects: overdue ones, investment and subsidy sums by year, county, park, sector and
funding, the share that goes to less-developed counties (plan 四.八), and the key enterprises
("五个一批" ``key_enterprise`` and "小型巨人" ``small_giant``, plan 一.三/二.三).

Projects must have been through :func:`parks.joins.prepare` (``park_id``, ``county_code``, ``city``,
``less_developed`` and ``year`` derived from their enterprise and start).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

__all__ = ["GROUPINGS", "KEY_FLAGS", "overdue_projects", "project_sums", "less_developed_share", "key_enterprises",
           "filter_projects"]

GROUPINGS = ("year", "county_code", "city", "park_id", "sector", "funding", "less_developed")
KEY_FLAGS = ("key_enterprise", "small_giant")
_MONEY = ("investment", "subsidy", "imported_equipment_usd")


def _require(frame: pd.DataFrame, columns, what: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lack column(s) {', '.join(missing)}; "
                         + ("call parks.joins.prepare(ds) first" if set(missing) & {"county_code", "park_id", "year"} else
                            "see geodata.schema"))


def _date(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    return pd.to_datetime(frame[column], errors="coerce")


def filter_projects(projects: pd.DataFrame, *, year: int | None = None, county_code: str | None = None,
                    park_id: str | None = None, status: str | None = None) -> pd.DataFrame:
    """The projects matching every filter given (equality; None = any)."""
    mask = np.ones(len(projects), dtype=bool)
    if year is not None:
        mask &= (pd.to_numeric(projects["year"], errors="coerce") == year).to_numpy()
    for col, val in (("county_code", county_code), ("park_id", park_id), ("status", status)):
        if val is not None:
            mask &= (projects[col].astype(str) == str(val)).to_numpy()
    return projects[mask]


def overdue_projects(projects: pd.DataFrame, as_of: dt.date) -> pd.DataFrame:
    """Projects past their planned completion: still open on ``as_of`` (``open``), or completed after it
    (``late``). ``days_late`` counts to the actual completion, or to ``as_of`` for open ones.

    Cancelled projects and projects without a planned completion date are never overdue; a project
    whose status is ``completed`` but without an actual date is not counted late (nothing says so).
    Sorted by ``days_late``, longest first.
    """
    if not isinstance(as_of, dt.date):
        raise TypeError(f"as_of must be a date, got {type(as_of).__name__}")
    _require(projects, ["project_id", "status"], "projects")
    planned = _date(projects, "planned_completion")
    actual = _date(projects, "actual_completion")
    status = projects["status"].astype(str)
    # a date pandas cannot hold (before 1678, after 2261) is as good as the nearest one it can: no plan date is there
    ref = pd.Timestamp(min(max(as_of, dt.date(1678, 1, 1)), dt.date(2261, 12, 31)))
    open_ = planned.notna() & (planned < ref) & actual.isna() & ~status.isin(["completed", "cancelled"])
    late = planned.notna() & actual.notna() & (actual > planned) & (status != "cancelled")
    hit = open_ | late
    out = pd.DataFrame(projects[hit.to_numpy()]).copy()
    out["overdue"] = np.where(open_[hit].to_numpy(), "open", "late")
    end = actual[hit].fillna(ref)
    out["days_late"] = (end - planned[hit]).dt.days.astype("int64")
    return out.sort_values(["days_late", "project_id"], ascending=[False, True], ignore_index=True)


def project_sums(projects: pd.DataFrame, by: str | list[str]) -> pd.DataFrame:
    """Count, investment, subsidy and imported equipment (USD) of the projects by ``by`` (one or more of
    :data:`GROUPINGS`); cancelled projects are left out. Projects without a value for ``by`` (an
    enterprise outside every park, say) form no group. Sorted by investment, largest first.
    """
    keys = [by] if isinstance(by, str) else list(by)
    bad = [k for k in keys if k not in GROUPINGS]
    if bad or not keys:
        raise ValueError(f"by {by!r} is not accepted; accepted: {', '.join(GROUPINGS)} (one or more)")
    _require(projects, keys + ["investment"], "projects")
    live = projects[projects["status"].astype(str) != "cancelled"] if "status" in projects else projects
    money = pd.DataFrame({c: pd.to_numeric(live[c], errors="coerce") if c in live else np.nan for c in _MONEY},
                         index=live.index)
    frame = pd.concat([live[keys], money], axis=1).dropna(subset=keys)
    g = frame.groupby(keys, sort=True)
    out = g[list(_MONEY)].sum(min_count=1)
    out.insert(0, "projects", g.size())
    out = out.reset_index()
    out["projects"] = out["projects"].astype("int64")
    total = out["investment"].sum()
    out["share_of_investment"] = out["investment"] / total if total else np.nan
    return out.sort_values(["investment"] + keys, ascending=[False] + [True] * len(keys), ignore_index=True)


def less_developed_share(projects: pd.DataFrame) -> pd.DataFrame:
    """By year and over all years (``year`` None): the share of project investment and of subsidies going
    to enterprises in less-developed counties (plan 四.八: 进一步支持欠发达地区的技术改造).

    Returns ``year``, ``projects``, ``investment``, ``investment_less_developed``, ``share_investment``,
    ``subsidy``, ``subsidy_less_developed``, ``share_subsidy``.
    """
    _require(projects, ["year", "less_developed", "investment"], "projects")
    live = projects[projects["status"].astype(str) != "cancelled"] if "status" in projects else projects
    ld = live["less_developed"].fillna(False).astype(bool)
    inv = pd.to_numeric(live["investment"], errors="coerce").fillna(0.0)
    sub = pd.to_numeric(live["subsidy"], errors="coerce").fillna(0.0) if "subsidy" in live else pd.Series(0.0, index=live.index)
    frame = pd.DataFrame({"year": pd.to_numeric(live["year"], errors="coerce"), "inv": inv, "inv_ld": inv.where(ld, 0.0),
                          "sub": sub, "sub_ld": sub.where(ld, 0.0)})

    def row(f: pd.DataFrame, year) -> dict:
        i, s = float(f["inv"].sum()), float(f["sub"].sum())
        return {"year": year, "projects": int(len(f)), "investment": i, "investment_less_developed": float(f["inv_ld"].sum()),
                "share_investment": float(f["inv_ld"].sum()) / i if i else None,
                "subsidy": s, "subsidy_less_developed": float(f["sub_ld"].sum()),
                "share_subsidy": float(f["sub_ld"].sum()) / s if s else None}

    rows = [row(f, int(y)) for y, f in frame.dropna(subset=["year"]).groupby("year")]
    rows.append(row(frame, None))
    out = pd.DataFrame(rows)
    out["year"] = out["year"].astype("Int64")
    return out


def key_enterprises(enterprises: pd.DataFrame, flag: str | None = None) -> pd.DataFrame:
    """The enterprises flagged ``key_enterprise`` (五个一批) or ``small_giant`` (小型巨人), or either when
    ``flag`` is None, with their county, park, sector and figures; largest revenue first."""
    if flag is not None and flag not in KEY_FLAGS:
        raise ValueError(f"flag {flag!r} is not accepted; accepted: {', '.join(KEY_FLAGS)}")
    flags = [flag] if flag else [f for f in KEY_FLAGS if f in enterprises.columns]
    cols = {f: enterprises[f].fillna(False).astype(bool) if f in enterprises.columns else
            pd.Series(False, index=enterprises.index) for f in KEY_FLAGS}
    mask = np.zeros(len(enterprises), dtype=bool)
    for f in flags:
        mask |= cols[f].to_numpy()
    keep = [c for c in ("enterprise_id", "name", "sector", "county_code", "county_name", "city", "park_id",
                        "less_developed", "employees", "revenue", "high_tech") if c in enterprises.columns]
    out = pd.DataFrame(enterprises.loc[mask, keep]).copy()
    for f in KEY_FLAGS:
        out[f] = cols[f][mask].to_numpy()
    return out.sort_values(["revenue", "enterprise_id"], ascending=[False, True], ignore_index=True)
