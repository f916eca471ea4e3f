"""Spatial clusters of enterprises: DBSCAN with a radius in metres, and HDBSCAN, each cluster
described by its hull, size, sector composition and the parks it overlaps.

- DBSCAN: Ester, Kriegel, Sander and Xu (1996), KDD-96: a point with at least ``min_samples``
  points (itself included) within ``eps_m`` metres is a core point; clusters are the connected
  core points and the points they reach; the rest is noise (label -1).
- HDBSCAN: Campello, Moulavi and Sander (2013); McInnes, Healy and Astels (2017): clusters of
  varying density without a global radius, ``min_cluster_size`` the smallest cluster kept.

Both run in :mod:`sklearn.cluster` on coordinates in the metric CRS, never on degrees.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._common import MetricsError, require_columns, to_metric, xy

__all__ = ["METHODS", "dbscan_labels", "hdbscan_labels", "describe_clusters", "spatial_clusters"]

METHODS = ("dbscan", "hdbscan")


def dbscan_labels(points: gpd.GeoDataFrame | np.ndarray, *, eps_m: float = 1000.0, min_samples: int = 10) -> np.ndarray:
    """DBSCAN cluster label per point (-1 = noise); ``eps_m`` in metres of the projected CRS."""
    from sklearn.cluster import DBSCAN

    if not eps_m > 0:
        raise MetricsError("clusters.eps", value=eps_m)
    if int(min_samples) < 1:
        raise MetricsError("clusters.min_samples", value=min_samples)
    pts = xy(points)
    if len(pts) == 0:
        return np.empty(0, dtype=int)
    return DBSCAN(eps=float(eps_m), min_samples=int(min_samples), algorithm="kd_tree").fit_predict(pts)


def hdbscan_labels(points: gpd.GeoDataFrame | np.ndarray, *, min_cluster_size: int = 25,
                   min_samples: int | None = None) -> np.ndarray:
    """HDBSCAN cluster label per point (-1 = noise), on projected coordinates."""
    from sklearn.cluster import HDBSCAN

    if int(min_cluster_size) < 2:
        raise MetricsError("clusters.min_cluster_size", value=min_cluster_size)
    pts = xy(points)
    if len(pts) < max(2, int(min_cluster_size)):
        return np.full(len(pts), -1, dtype=int)
    return HDBSCAN(min_cluster_size=int(min_cluster_size), min_samples=min_samples, copy=True).fit_predict(pts)


def describe_clusters(enterprises_m: gpd.GeoDataFrame, labels, parks_m: gpd.GeoDataFrame | None = None, *,
                      hull_buffer_m: float = 0.0) -> gpd.GeoDataFrame:
    """One row per cluster (noise excluded), in the enterprises' (projected) CRS.

    Columns: ``cluster_id``, ``n_enterprises``, ``employees``, ``area_km2`` (of the convex hull),
    ``dominant_sector``, ``dominant_share`` (by count), ``composition`` (dict sector -> count),
    ``park_ids`` (parks whose polygon intersects the hull), ``share_in_parks`` (of the cluster's
    enterprises with a ``park_id``), geometry = convex hull (a point or line for degenerate clusters,
    buffered by ``hull_buffer_m`` if given). Sorted by size, largest first.
    """
    labels = np.asarray(labels)
    if len(labels) != len(enterprises_m):
        raise MetricsError("clusters.labels", labels=len(labels), n=len(enterprises_m))
    require_columns(enterprises_m, ["sector"])
    frame = enterprises_m.assign(_label=labels)
    frame = frame[frame["_label"] >= 0]
    cols = ["cluster_id", "n_enterprises", "employees", "area_km2", "dominant_sector", "dominant_share",
            "composition", "park_ids", "share_in_parks"]
    if frame.empty:
        return gpd.GeoDataFrame({c: [] for c in cols}, geometry=[], crs=enterprises_m.crs)
    rows, hulls = [], []
    for label, g in frame.groupby("_label", sort=True):
        hull = shapely.convex_hull(shapely.multipoints(xy(g)))
        if hull_buffer_m:
            hull = hull.buffer(hull_buffer_m)
        counts = g["sector"].value_counts()
        rows.append({
            "cluster_id": int(label),
            "n_enterprises": int(len(g)),
            "employees": float(pd.to_numeric(g.get("employees", pd.Series(0, index=g.index)), errors="coerce").fillna(0).sum()),
            "area_km2": float(hull.area / 1e6),
            "dominant_sector": str(counts.index[0]),
            "dominant_share": float(counts.iloc[0] / len(g)),
            "composition": {str(k): int(v) for k, v in counts.items()},
            "share_in_parks": float(g["park_id"].notna().mean()) if "park_id" in g else None,
        })
        hulls.append(hull)
    out = gpd.GeoDataFrame(rows, geometry=hulls, crs=enterprises_m.crs)
    if parks_m is not None and len(parks_m):
        tree = shapely.STRtree(parks_m.geometry.values)
        hull_idx, park_idx = tree.query(out.geometry.values, predicate="intersects")
        pid = parks_m["park_id"].astype(str).to_numpy()
        found = pd.Series(pid[park_idx]).groupby(hull_idx).agg(lambda s: sorted(set(s)))
        out["park_ids"] = [found.get(i, []) for i in range(len(out))]
    else:
        out["park_ids"] = [[] for _ in range(len(out))]
    out = out.sort_values(["n_enterprises", "cluster_id"], ascending=[False, True]).reset_index(drop=True)
    return out[cols + ["geometry"]]


def spatial_clusters(enterprises: gpd.GeoDataFrame, parks: gpd.GeoDataFrame | None, crs, *, method: str = "dbscan",
                     eps_m: float = 1000.0, min_samples: int = 10, min_cluster_size: int = 25) -> gpd.GeoDataFrame:
    """Cluster the enterprises (any CRS; projected to ``crs``) and describe each cluster.

    Returns :func:`describe_clusters`' frame in ``crs`` with a ``method`` column.
    """
    if method not in METHODS:
        raise MetricsError("clusters.method", value=method, accepted=", ".join(METHODS))
    ent = to_metric(enterprises, crs)
    if method == "dbscan":
        labels = dbscan_labels(ent, eps_m=eps_m, min_samples=min_samples)
    else:
        labels = hdbscan_labels(ent, min_cluster_size=min_cluster_size)
    pk = to_metric(parks, crs) if parks is not None and len(parks) else None
    out = describe_clusters(ent, labels, pk)
    out.insert(1, "method", method)
    return out
