"""Park land-intensity evaluation after the national rules for development-zone land use
(开发区土地集约利用评价规程, TD/T 1029-2017, Ministry of Land and Resources).

Per park, with hectares from the park layer and money from its enterprises and their projects:

==========================  ===================================================  ===========
indicator                   definition (TD/T 1029 name)                          unit
==========================  ===================================================  ===========
``supply_rate``             supplied_ha / area_ha                  (土地供应率)   ratio
``built_rate``              built_ha / supplied_ha                 (土地建成率)   ratio
``floor_area_ratio``        park attribute                         (综合容积率)   ratio
``building_density``        park attribute                         (建筑密度)     ratio
``investment_per_ha``       project investment of the park's enterprises /       yuan / ha
                            built_ha                         (固定资产投入强度)
``tax_per_ha``              enterprise tax / built_ha              (地均税收)     yuan / ha
``output_per_ha``           enterprise revenue / built_ha          (地均产出)     yuan / ha
==========================  ===================================================  ===========

The standard scores each indicator against an ideal value set for the zone's region and type and
weights them by expert judgement; those ideal values are local. Here the ``score`` is a transparent
stand-in for ranking parks against each other: the weighted mean of each indicator's percentile
rank among the evaluated parks (equal weights by default), 0-100, rank 1 best. Replace it with the
local ideal values where they are known.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._common import MetricsError, require_columns

__all__ = ["LAND_INDICATORS", "land_intensity"]

LAND_INDICATORS = ("supply_rate", "built_rate", "floor_area_ratio", "building_density",
                   "investment_per_ha", "tax_per_ha", "output_per_ha")


def land_intensity(parks: pd.DataFrame, enterprises: pd.DataFrame, projects: pd.DataFrame | None = None, *,
                   weights: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Indicators, score and rank per park (sorted by rank).

    Examples
    --------
    >>> p = pd.DataFrame({"park_id": ["P1", "P2"], "name": ["a", "b"], "area_ha": [100.0, 100.0], "supplied_ha": [80.0, 50.0],
    ...                   "built_ha": [40.0, 50.0], "floor_area_ratio": [1.2, 0.8], "building_density": [0.4, 0.3]})
    >>> e = pd.DataFrame({"enterprise_id": [1, 2], "park_id": ["P1", "P2"], "tax": [4e6, 1e6], "revenue": [8e7, 1e7]})
    >>> r = land_intensity(p, e)
    >>> r[["park_id", "supply_rate", "built_rate", "tax_per_ha", "rank"]].values.tolist()
    [['P1', 0.8, 0.5, 100000.0, 1], ['P2', 0.5, 1.0, 20000.0, 2]]
    """
    require_columns(parks, ["park_id", "area_ha", "supplied_ha", "built_ha", "floor_area_ratio", "building_density"],
                    what="parks")
    require_columns(enterprises, ["park_id", "tax", "revenue"])
    w = {k: 1.0 for k in LAND_INDICATORS} if weights is None else dict(weights)
    unknown = [k for k in w if k not in LAND_INDICATORS]
    if unknown or any(v < 0 for v in w.values()) or not sum(w.values()) > 0:
        raise MetricsError("land.weights", weights=w, accepted=", ".join(LAND_INDICATORS))
    num = lambda f, c: pd.to_numeric(f[c], errors="coerce").astype(float)  # noqa: E731
    inside = enterprises[enterprises["park_id"].notna()]
    money = pd.DataFrame({"tax": num(inside, "tax"), "revenue": num(inside, "revenue")}).groupby(inside["park_id"].astype(str)).sum()
    invest = pd.Series(dtype=float)
    if projects is not None and len(projects):
        require_columns(projects, ["enterprise_id", "investment"], what="projects")
        require_columns(enterprises, ["enterprise_id"])
        park_of = inside.set_index("enterprise_id")["park_id"].astype(str)
        pr = projects.assign(_park=projects["enterprise_id"].map(park_of)).dropna(subset=["_park"])
        invest = num(pr, "investment").groupby(pr["_park"]).sum()
    pid = parks["park_id"].astype(str)
    area, supplied, built = num(parks, "area_ha"), num(parks, "supplied_ha"), num(parks, "built_ha")
    built_pos = built.where(built > 0)
    out = pd.DataFrame({
        "park_id": pid.to_numpy(),
        "name": parks["name"].to_numpy() if "name" in parks else None,
        "supply_rate": (supplied / area.where(area > 0)).to_numpy(),
        "built_rate": (built / supplied.where(supplied > 0)).to_numpy(),
        "floor_area_ratio": num(parks, "floor_area_ratio").to_numpy(),
        "building_density": num(parks, "building_density").to_numpy(),
        "investment_per_ha": (pid.map(invest).fillna(0.0).to_numpy() / built_pos.to_numpy()),
        "tax_per_ha": (pid.map(money["tax"]).fillna(0.0).to_numpy() / built_pos.to_numpy()),
        "output_per_ha": (pid.map(money["revenue"]).fillna(0.0).to_numpy() / built_pos.to_numpy()),
    })
    total_w = sum(w.values())
    pct = pd.DataFrame({k: out[k].rank(pct=True, method="average") for k in w})
    score = sum(pct[k].fillna(0.0) * v for k, v in w.items()) / total_w * 100.0
    out["score"] = score.to_numpy()
    out["rank"] = out["score"].rank(ascending=False, method="min").astype(int)
    return out.sort_values(["rank", "park_id"]).reset_index(drop=True)
