"""DBSCAN/HDBSCAN clusters: scikit-learn as the reference, eps in metres, hulls, composition, parks."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
from shapely.geometry import box
from sklearn.cluster import DBSCAN, HDBSCAN

from parks.metrics import MetricsError, dbscan_labels, describe_clusters, hdbscan_labels, spatial_clusters

CRS = 4549


def two_blobs(gap_m: float, seed: int = 0):
    rng = np.random.default_rng(seed)
    a = rng.normal([500_000, 3_300_000], 80, (60, 2))
    b = rng.normal([500_000 + gap_m, 3_300_000], 80, (40, 2))
    noise = rng.uniform([490_000, 3_290_000], [510_000, 3_310_000], (10, 2))
    xy = np.vstack([a, b, noise])
    sectors = ["textiles"] * 50 + ["machinery"] * 10 + ["machinery"] * 40 + ["logistics"] * 10
    return gpd.GeoDataFrame({"sector": sectors, "employees": 10, "park_id": [None] * len(xy)},
                            geometry=gpd.points_from_xy(xy[:, 0], xy[:, 1]), crs=CRS)


def test_dbscan_labels_equal_sklearn():
    pts = two_blobs(2_000)
    xy = np.column_stack([pts.geometry.x, pts.geometry.y])
    assert (dbscan_labels(pts, eps_m=300, min_samples=5) == DBSCAN(eps=300, min_samples=5).fit_predict(xy)).all()


def test_hdbscan_labels_equal_sklearn():
    pts = two_blobs(3_000)
    xy = np.column_stack([pts.geometry.x, pts.geometry.y])
    assert (hdbscan_labels(pts, min_cluster_size=15) == HDBSCAN(min_cluster_size=15, copy=True).fit_predict(xy)).all()


@pytest.mark.parametrize("eps_m, expected", [(300, 2), (5_000, 1)])
def test_eps_is_in_metres(eps_m, expected):
    labels = dbscan_labels(two_blobs(1_500), eps_m=eps_m, min_samples=5)
    assert len(set(labels) - {-1}) == expected


def test_degrees_are_refused():
    with pytest.raises(MetricsError, match="degrees"):
        dbscan_labels(two_blobs(2_000).to_crs(4326))


def test_describe_clusters_composition_hull_and_parks():
    pts = two_blobs(3_000)
    parks = gpd.GeoDataFrame({"park_id": ["P1", "P2"]}, crs=CRS,
                             geometry=[box(499_900, 3_299_900, 500_100, 3_300_100), box(0, 0, 1, 1)])
    out = spatial_clusters(pts, parks, CRS, eps_m=300, min_samples=5)
    assert out["method"].tolist() == ["dbscan", "dbscan"]
    big, small = out.iloc[0], out.iloc[1]
    assert big["n_enterprises"] >= small["n_enterprises"]
    assert big["dominant_sector"] == "textiles" and big["composition"]["textiles"] == 50
    assert big["park_ids"] == ["P1"] and small["park_ids"] == []
    assert big["area_km2"] == pytest.approx(big.geometry.area / 1e6) and big["area_km2"] < 1
    assert sum(out["n_enterprises"]) <= 100  # noise is left out


def test_no_clusters_gives_empty_frame():
    pts = two_blobs(3_000).iloc[:3]
    out = describe_clusters(pts, np.array([-1, -1, -1]))
    assert len(out) == 0 and "park_ids" in out
    with pytest.raises(MetricsError, match="accepted: dbscan, hdbscan"):
        spatial_clusters(pts, None, CRS, method="kmeans")
