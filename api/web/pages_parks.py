"""``/ui/parks``: the parks table beside the parks map, and one park's page."""

from __future__ import annotations

import numpy as np
import pandas as pd
from fastapi import APIRouter, Request

from geodata.jsonable import jsonable
from geodata.dataset import Dataset
from geodata.schema import PARK_KINDS, SECTOR_IDS
from parks.joins import PreparedDataset

from ..shared_compute import json_codec
from . import backend, charts
from .core import page_error, render

router = APIRouter()

_PARK_COLUMNS = ("park_id", "name", "kind", "county_code", "area_ha", "free_land_ha", "land_price", "max_pollution_class",
                 "rail_km", "port_km", "expressway_km", "established", "floor_area_ratio", "building_density",
                 "supplied_ha", "built_ha")


def sectors_of(value) -> list[str]:
    if isinstance(value, str):
        return [s.strip() for s in value.split(",") if s.strip()]
    if isinstance(value, list | tuple | np.ndarray):
        return [str(s) for s in value]
    return []


def county_names(ds: Dataset) -> dict[str, str]:
    return dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str)))


def park_rows(ds: PreparedDataset) -> list[dict]:
    """One row per park: its attributes, county name, leading sectors and enterprise aggregates."""
    parks = pd.DataFrame(ds.parks.drop(columns="geometry"))
    ent = ds.enterprises
    agg = (pd.DataFrame({"park_id": ent["park_id"], "employees": pd.to_numeric(ent["employees"], errors="coerce")})
           .dropna(subset=["park_id"]).groupby("park_id")
           .agg(enterprises=("employees", "size"), employees=("employees", "sum")))
    names = county_names(ds)
    rows = []
    for rec in parks.to_dict("records"):
        pid = str(rec["park_id"])
        row = {k: jsonable(rec.get(k)) for k in _PARK_COLUMNS}
        row["park_id"] = pid
        row["county_code"] = str(rec.get("county_code"))
        row["county_name"] = names.get(row["county_code"], row["county_code"])
        row["sectors"] = sectors_of(rec.get("leading_sectors"))
        row["enterprises"] = int(agg["enterprises"].get(pid, 0))
        row["employees"] = float(agg["employees"].get(pid, 0.0))
        rows.append(row)
    return rows


@router.get("/ui/parks", include_in_schema=False)
def parks_page(request: Request, user: backend.ViewerPage, kind: str | None = None, county: str | None = None, sector: str | None = None):
    ds = backend.dataset(request)
    rows = park_rows_cached(request)  # computed once per dataset; filtered below into new lists
    total = len(rows)
    f = {"kind": kind or "", "county": county or "", "sector": sector or ""}
    if kind:
        rows = [r for r in rows if r["kind"] == kind]
    if county:
        rows = [r for r in rows if r["county_code"] == county]
    if sector:
        rows = [r for r in rows if sector in r["sectors"]]
    park_counties = sorted({r["county_code"] for r in park_rows_cached(request)})
    names = county_names(ds)
    counties = [{"code": c, "name": names.get(c, c)} for c in park_counties]
    # the table (every park) follows from the dataset and the filters: its HTML made once per filter and language
    return backend.render_content_cached(request, "parks.html", {"rows": rows, "total": total, "f": f,
                                                                 "kinds": PARK_KINDS, "sectors": SECTOR_IDS,
                                                                 "counties": counties},
                                         ("parks", kind or "", county or "", sector or ""), user)


def park_rows_cached(where) -> list[dict]:
    """:func:`park_rows` once per dataset (``where``: the request, or the app's state when warming up)."""
    return backend.cached(where, "park_rows", lambda: park_rows(backend.dataset(where)))


def park_profile(ds: PreparedDataset, park_id: str) -> dict:
    """Counts and sums of the park's enterprises and their projects (money in 10k yuan)."""
    ent = ds.enterprises[ds.enterprises["park_id"].astype(str) == park_id]
    proj = ds.projects[ds.projects["enterprise_id"].isin(ent["enterprise_id"])] if len(ds.projects) else ds.projects
    num = lambda s: float(pd.to_numeric(s, errors="coerce").sum())  # noqa: E731
    by_sector = (pd.DataFrame({"sector": ent["sector"], "employees": pd.to_numeric(ent["employees"], errors="coerce"),
                               "revenue": pd.to_numeric(ent["revenue"], errors="coerce")})
                 .groupby("sector").agg(enterprises=("employees", "size"), employees=("employees", "sum"),
                                        revenue=("revenue", "sum"))
                 .sort_values("enterprises", ascending=False))
    return {
        "profile": {"enterprises": int(len(ent)), "employees": num(ent["employees"]), "revenue_10k": num(ent["revenue"]) / 1e4,
                    "projects": int(len(proj)), "investment_10k": num(proj["investment"]) / 1e4 if len(proj) else 0.0},
        "by_sector": [{"sector": s, "enterprises": int(r.enterprises), "employees": float(r.employees),
                       "revenue_10k": float(r.revenue) / 1e4} for s, r in by_sector.iterrows()],
    }


def park_profiles(ds: PreparedDataset) -> dict[str, dict]:
    """:func:`park_profile` of every park at once (one pass over the enterprises and projects), by park id."""
    ent = pd.DataFrame({"park_id": ds.enterprises["park_id"].astype(str).where(ds.enterprises["park_id"].notna()),
                        "enterprise_id": ds.enterprises["enterprise_id"], "sector": ds.enterprises["sector"],
                        "employees": pd.to_numeric(ds.enterprises["employees"], errors="coerce"),
                        "revenue": pd.to_numeric(ds.enterprises["revenue"], errors="coerce")}).dropna(subset=["park_id"])
    totals = ent.groupby("park_id").agg(enterprises=("employees", "size"), employees=("employees", "sum"),
                                        revenue=("revenue", "sum"))
    if len(ds.projects):
        proj = pd.DataFrame({"enterprise_id": ds.projects["enterprise_id"],
                             "investment": pd.to_numeric(ds.projects["investment"], errors="coerce")})
        proj = proj.merge(ent[["enterprise_id", "park_id"]], on="enterprise_id", how="inner")
        inv = proj.groupby("park_id").agg(projects=("investment", "size"), investment=("investment", "sum"))
    else:
        inv = pd.DataFrame(columns=["projects", "investment"])
    by = (ent.groupby(["park_id", "sector"]).agg(enterprises=("employees", "size"), employees=("employees", "sum"),
                                                 revenue=("revenue", "sum"))
          .reset_index().sort_values(["park_id", "enterprises"], ascending=[True, False], kind="stable"))
    sectors = {pid: [{"sector": r.sector, "enterprises": int(r.enterprises), "employees": float(r.employees),
                      "revenue_10k": float(r.revenue) / 1e4} for r in g.itertuples()]
               for pid, g in by.groupby("park_id", sort=False)}
    out = {}
    for pid in ds.parks["park_id"].astype(str):
        t = totals.loc[pid] if pid in totals.index else None
        i = inv.loc[pid] if pid in inv.index else None
        out[pid] = {
            "profile": {"enterprises": int(t["enterprises"]) if t is not None else 0,
                        "employees": float(t["employees"]) if t is not None else 0.0,
                        "revenue_10k": float(t["revenue"]) / 1e4 if t is not None else 0.0,
                        "projects": int(i["projects"]) if i is not None else 0,
                        "investment_10k": float(i["investment"]) / 1e4 if i is not None else 0.0},
            "by_sector": sectors.get(pid, []),
        }
    return out


def park_view(where, park_id: str, lang: str) -> dict | None:
    """What a park's page shows beyond its row (profile, sector chart, land intensity, per-mu classes), made once
    per park and language and kept (the chart takes a quarter of a second to draw); None for an unknown park."""
    from .i18n import label

    profiles = backend.cached(where, "park_profiles", lambda: park_profiles(backend.dataset(where)))
    prof = profiles.get(park_id)
    if prof is None:
        return None
    views = backend.cached(where, f"park_views:{lang}", dict)  # one entry holding every park's view: filled on demand
    view = views.get(park_id)
    if view is None:
        chart = None
        if prof["by_sector"]:
            chart = charts.bar_chart([label(lang, "sector", r["sector"]) for r in prof["by_sector"]],
                                     [r["enterprises"] for r in prof["by_sector"]], width=4.5)
        view = views[park_id] = {**prof, "sector_chart": chart, "intensity": intensity_of(where, park_id),
                                 "classes": class_distribution_of(where, park_id)}
    return view


def warm(state, lang: str = "zh") -> None:
    """Every park's page view (and the parks table) computed ahead, for the start-up warm-up."""
    park_rows_cached(state)

    def every_view() -> dict:
        for pid in state.dataset.parks["park_id"].astype(str):
            park_view(state, pid, lang)
        return dict(backend.cached(state, f"park_views:{lang}", dict))

    # once for every worker process (the charts are most of the warm-up's time): read from the review database if
    # another worker made them
    views = state.shared_value(("web", f"park_views:{lang}"), every_view, *json_codec())
    mine = backend.cached(state, f"park_views:{lang}", dict)
    for pid, view in views.items():
        mine.setdefault(pid, view)


def intensity_of(where, park_id: str) -> dict | None:
    """This park's land-intensity indicators and provincial rank (computed once for all parks)."""
    def compute():
        from parks.metrics.report import land_intensity_rows

        return {str(r["park_id"]): r for r in land_intensity_rows(backend.dataset(where))}

    table = backend.cached(where, "land_intensity", compute)
    row = table.get(park_id)
    if row is None:
        return None
    return dict(row, of=len(table))


def class_distribution_of(where, park_id: str) -> list[dict]:
    def compute():
        from parks.metrics.per_mu import class_distribution, per_mu_evaluation

        ent = backend.dataset(where).enterprises
        ev = per_mu_evaluation(ent)
        return class_distribution(ev, ent, by="park_id").set_index("park_id")

    tab = backend.cached(where, "per_mu_by_park", compute)
    if park_id not in tab.index:
        return []
    row = tab.loc[park_id]
    classes = [c[2:] for c in tab.columns if c.startswith("n_")]
    return [{"cls": c, "n": int(row[f"n_{c}"]), "share": float(row[f"share_{c}"])} for c in classes]


@router.get("/ui/parks/{park_id}", include_in_schema=False)
def park_page(request: Request, user: backend.ViewerPage, park_id: str):
    from .core import lang_of

    park = backend.cached(request, "park_rows_by_id", lambda: {r["park_id"]: r for r in park_rows_cached(request)}).get(park_id)
    view = park_view(request, park_id, lang_of(request)) if park is not None else None
    if park is None or view is None:
        return page_error(request, 404, "not_found", user=user)
    return render(request, "park.html", {"park": park, **view}, user=user)
