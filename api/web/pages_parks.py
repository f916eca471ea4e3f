"""``/ui/parks``: the parks table beside the parks map, and one park's page."""

from __future__ import annotations

import numpy as np
import pandas as pd
from fastapi import APIRouter, Request

from geodata.jsonable import jsonable
from geodata.schema import PARK_KINDS, SECTOR_IDS

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


def county_names(ds) -> dict[str, str]:
    return dict(zip(ds.counties["code"].astype(str), ds.counties["name"].astype(str)))


def park_rows(ds) -> list[dict]:
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
    rows = park_rows(ds)
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
    return render(request, "parks.html", {"rows": rows, "total": total, "f": f, "kinds": PARK_KINDS,
                                          "sectors": SECTOR_IDS, "counties": counties}, user=user)


def park_rows_cached(request: Request) -> list[dict]:
    return backend.cached(request, "park_rows", lambda: park_rows(backend.dataset(request)))


def park_profile(ds, park_id: str) -> dict:
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


def intensity_of(request: Request, park_id: str) -> dict | None:
    """This park's land-intensity indicators and provincial rank (computed once for all parks)."""
    def compute():
        from parks.metrics.report import land_intensity_rows

        return {str(r["park_id"]): r for r in land_intensity_rows(backend.dataset(request))}

    table = backend.cached(request, "land_intensity", compute)
    row = table.get(park_id)
    if row is None:
        return None
    return dict(row, of=len(table))


def class_distribution_of(request: Request, park_id: str) -> list[dict]:
    def compute():
        from parks.metrics.per_mu import class_distribution, per_mu_evaluation

        ent = backend.dataset(request).enterprises
        ev = per_mu_evaluation(ent)
        return class_distribution(ev, ent, by="park_id").set_index("park_id")

    tab = backend.cached(request, "per_mu_by_park", compute)
    if park_id not in tab.index:
        return []
    row = tab.loc[park_id]
    classes = [c[2:] for c in tab.columns if c.startswith("n_")]
    return [{"cls": c, "n": int(row[f"n_{c}"]), "share": float(row[f"share_{c}"])} for c in classes]


@router.get("/ui/parks/{park_id}", include_in_schema=False)
def park_page(request: Request, user: backend.ViewerPage, park_id: str):
    rows = {r["park_id"]: r for r in park_rows_cached(request)}
    park = rows.get(park_id)
    if park is None:
        return page_error(request, 404, "not_found", user=user)
    ds = backend.dataset(request)
    prof = park_profile(ds, park_id)
    from .i18n import label
    from .core import lang_of

    lang = lang_of(request)
    chart = None
    if prof["by_sector"]:
        chart = charts.bar_chart([label(lang, "sector", r["sector"]) for r in prof["by_sector"]],
                                 [r["enterprises"] for r in prof["by_sector"]], width=4.5)
    return render(request, "park.html", {"park": park, **prof, "sector_chart": chart,
                                         "intensity": intensity_of(request, park_id),
                                         "classes": class_distribution_of(request, park_id)}, user=user)
