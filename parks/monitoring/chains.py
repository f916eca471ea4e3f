"""Supply chains (plan 四.四.1: 选择一批产业链长的大企业,重点支持与之配套企业的技术改造): each chain
leader, its suppliers, where they are (same county or city, straight-line distance) and their projects.

The ``suppliers`` layer links a supplier (``supplier_id``) to a leader (``leader_id``), optionally with
the ``share`` of the supplier's sales going to that leader; a supplier may serve several leaders.
Distances are measured in the metric CRS given (the dataset's ``metric_crs``), never in degrees.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["chain_links", "chain_report"]

_ENT_COLS = ("name", "sector", "county_code", "county_name", "city", "park_id")


def chain_links(suppliers: pd.DataFrame, enterprises: gpd.GeoDataFrame, projects: pd.DataFrame, metric_crs) -> pd.DataFrame:
    """One row per supplier-leader link: both enterprises' name, sector, county, city and park, whether the
    supplier is in the leader's county / city, the distance (km), the ``share``, and the supplier's
    projects (count, investment, subsidy; cancelled ones left out).

    Links naming an enterprise not in the register are kept with ``missing`` saying which end is unknown.
    """
    for col in ("supplier_id", "leader_id"):
        if col not in suppliers.columns:
            raise ValueError(f"the suppliers layer lacks column {col!r}; accepted columns: supplier_id, leader_id, share")
    if "county_code" not in enterprises.columns:
        raise ValueError("chain_links needs joined enterprises (county_code); call parks.joins.prepare(ds) first")
    crs = gpd.GeoSeries([], crs=metric_crs).crs
    if crs is None or not crs.is_projected:
        raise ValueError(f"chain distances need a projected (metric) CRS, got {metric_crs!r}")
    ent = enterprises.drop_duplicates("enterprise_id")
    ent = ent.set_index(pd.Index(ent["enterprise_id"].astype(str).to_numpy(), name="id"))
    pts = ent.geometry.to_crs(crs)
    links = pd.DataFrame({"leader_id": suppliers["leader_id"].astype(str).to_numpy(),
                          "supplier_id": suppliers["supplier_id"].astype(str).to_numpy(),
                          "share": pd.to_numeric(suppliers["share"], errors="coerce").to_numpy()
                          if "share" in suppliers.columns else np.nan})
    for side, key in (("leader", "leader_id"), ("supplier", "supplier_id")):
        info = ent.reindex(links[key])
        for c in _ENT_COLS:
            links[f"{side}_{c}"] = info[c].to_numpy() if c in info else None
    known_l = links["leader_id"].isin(ent.index).to_numpy()
    known_s = links["supplier_id"].isin(ent.index).to_numpy()
    missing = np.full(len(links), None, dtype=object)  # which end is not an enterprise of the dataset
    missing[~known_s] = "supplier"
    missing[~known_l] = "leader"
    missing[~known_l & ~known_s] = "both"
    links["missing"] = missing
    lp, sp = pts.reindex(links["leader_id"]).to_numpy(), pts.reindex(links["supplier_id"]).to_numpy()
    dist = np.full(len(links), np.nan)
    ok = known_l & known_s
    if ok.any():
        dist[ok] = gpd.GeoSeries(sp[ok], crs=crs).distance(gpd.GeoSeries(lp[ok], crs=crs)).to_numpy() / 1000.0
    links["distance_km"] = dist
    same = lambda a, b: ((links[a].astype(str) == links[b].astype(str)) & links[a].notna()).to_numpy()  # noqa: E731
    links["same_county"] = same("supplier_county_code", "leader_county_code")
    links["same_city"] = same("supplier_city", "leader_city")
    live = projects[projects["status"].astype(str) != "cancelled"] if "status" in projects.columns else projects
    num = lambda c: pd.to_numeric(live[c], errors="coerce") if c in live else pd.Series(0.0, index=live.index)  # noqa: E731
    pg = pd.DataFrame({"n": 1, "inv": num("investment"), "sub": num("subsidy")}).groupby(live["enterprise_id"].astype(str)).sum()
    by = pg.reindex(links["supplier_id"])
    links["supplier_projects"] = by["n"].fillna(0).astype("int64").to_numpy()
    links["supplier_investment"] = by["inv"].fillna(0.0).to_numpy()
    links["supplier_subsidy"] = by["sub"].fillna(0.0).to_numpy()
    return links.sort_values(["leader_id", "distance_km", "supplier_id"], ignore_index=True)


def chain_report(links: pd.DataFrame) -> pd.DataFrame:
    """One row per chain leader, from :func:`chain_links`: suppliers, how many in the leader's county and
    city, median and largest distance (km), and the suppliers' projects and investment."""
    cols = ["leader_id", "leader_name", "leader_sector", "leader_county_code", "leader_county_name", "leader_city",
            "suppliers", "same_county", "same_city", "share_same_county", "median_distance_km", "max_distance_km",
            "supplier_projects", "supplier_investment", "supplier_subsidy"]
    if not len(links):
        return pd.DataFrame(columns=cols)
    g = links.groupby("leader_id", sort=True)
    first = g[["leader_name", "leader_sector", "leader_county_code", "leader_county_name", "leader_city"]].first()
    out = first.assign(
        suppliers=g.size(), same_county=g["same_county"].sum(), same_city=g["same_city"].sum(),
        median_distance_km=g["distance_km"].median(), max_distance_km=g["distance_km"].max(),
        supplier_projects=g["supplier_projects"].sum(), supplier_investment=g["supplier_investment"].sum(),
        supplier_subsidy=g["supplier_subsidy"].sum())
    out["share_same_county"] = out["same_county"] / out["suppliers"]
    out = out.reset_index()
    for c in ("suppliers", "same_county", "same_city", "supplier_projects"):
        out[c] = out[c].astype("int64")
    return out[cols].sort_values(["suppliers", "leader_id"], ascending=[False, True], ignore_index=True)
