"""The work behind ``parkplan metrics``'s optional parts (``--trend``, ``--coagglomeration``,
``--duranton-overman``, ``--cross``): the analyses of :mod:`parks.metrics` on a prepared dataset,
assembled as JSON-ready documents. The command only parses options and prints."""

from __future__ import annotations

import numpy as np
import shapely

from geodata.jsonable import jsonable
from parks.joins import PreparedDataset
from parks.metrics import (MetricsError, coagglomeration as eg_coagglomeration, cross_k, cross_k_envelope,
                           duranton_overman as do_density, metrics_by_year)
from parks.metrics._common import area_polygon, check_sector
from parks.metrics.report import _sector_seed
from parks.metrics.ripley import default_distances

__all__ = ["metrics_extras", "cross_k_document"]


def metrics_extras(ds: PreparedDataset, sector: str | None, county: str | None, seed: int, simulations: int, *,
                   trend: bool = False, coagglomeration: bool = False, duranton_overman: bool = False) -> dict:
    """The optional parts of ``parkplan metrics`` (not in the default document, whose keys are the public
    contract): ``trend`` (metrics by establishment year), ``coagglomeration`` (EG pairs), ``duranton_overman``."""
    ent = ds.enterprises
    if county is not None:
        ent = ent[ent["county_code"].astype(str) == county]
    out = {}
    if trend:
        area = (area_polygon(ds.counties[ds.counties["code"].astype(str) == county], ds.metric_crs) if county
                else area_polygon(ds.province, ds.metric_crs))
        t = metrics_by_year(ent, study_area=area, crs=ds.metric_crs)
        out["trend"] = jsonable(t[t["sector"].isin(["all", sector] if sector else t["sector"].unique())].to_dict("records"))
    if coagglomeration:
        c = eg_coagglomeration(ds.enterprises)
        if sector:
            c = c[(c["sector_a"] == sector) | (c["sector_b"] == sector)]
        out["coagglomeration"] = jsonable(c.sort_values("coagglomeration", ascending=False).to_dict("records"))
    if duranton_overman:
        xy_all = shapely.get_coordinates(ent.geometry.to_crs(ds.metric_crs).values)
        rows = []
        sectors = [sector] if sector else sorted(ent["sector"].dropna().unique())
        for s in sectors:
            pts = xy_all[(ent["sector"] == s).to_numpy()]
            if len(pts) < 3:
                continue
            r = do_density(pts, xy_all, simulations=max(simulations, 19), seed=_sector_seed(seed, s))
            rows.append({"sector": s, "n": r.n, "localised": r.localised, "localisation": r.localisation,
                         "dispersed": r.dispersed, "dispersion": r.dispersion, "bandwidth_m": r.bandwidth_m,
                         "distances": r.distances, "kdensity": r.kdensity, "global_low": r.global_low,
                         "global_high": r.global_high})
        out["duranton_overman"] = jsonable(rows)
    return out


def cross_k_document(ds: PreparedDataset, sector: str | None, other: str, county: str | None, seed: int,
                     simulations: int) -> dict:
    """Cross-K of ``sector`` around ``other``, with an envelope that redraws ``sector`` from all enterprise sites."""
    if sector is None:
        raise MetricsError("cross.needs_sector")
    check_sector(other)
    ent = ds.enterprises
    if county is not None:
        ent = ent[ent["county_code"].astype(str) == county]
        area = area_polygon(ds.counties[ds.counties["code"].astype(str) == county], ds.metric_crs)
    else:
        area = area_polygon(ds.province, ds.metric_crs)
    pts = shapely.get_coordinates(ent.geometry.to_crs(ds.metric_crs).values)
    a, b = pts[(ent["sector"] == sector).to_numpy()], pts[(ent["sector"] == other).to_numpy()]
    r = default_distances(area)
    k = cross_k(a, b, r, polygon=area)
    env = cross_k_envelope(a, b, area, r, sites=pts, simulations=max(simulations, 19), seed=_sector_seed(seed, sector)) \
        if len(a) and len(b) else np.full((1, len(r)), np.nan)
    return jsonable({"sector": sector, "other": other, "n": len(a), "n_other": len(b), "distances": r, "K": k,
                     "L": np.sqrt(k / np.pi), "L_low": np.sqrt(env.min(axis=0) / np.pi),
                     "L_high": np.sqrt(env.max(axis=0) / np.pi), "null": "sector redrawn from all enterprise sites"})
