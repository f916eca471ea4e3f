"""Ripley's K/L and cross-K: pointpats as the reference, brute-force pair counts, CSR properties."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from numpy.testing import assert_allclose, assert_array_equal
from pointpats.distance_statistics import k as pointpats_k
from pointpats.distance_statistics import l as pointpats_l
from scipy.spatial.distance import cdist
from shapely.geometry import MultiPolygon, Polygon, box

from parks.metrics import MetricsError
from parks.metrics._csr import BoundaryIndex, PolygonSampler, boundary_distance
from parks.metrics.ripley import cross_k, cross_k_envelope, csr_envelope, default_distances, ripley, ripley_k, ripley_l

SQUARE = box(0, 0, 10_000, 10_000)
# an L-shaped coast with an island and a lake: the envelope must follow it, not its bounding box
COAST = MultiPolygon([
    Polygon([(0, 0), (20_000, 0), (20_000, 8_000), (8_000, 8_000), (8_000, 20_000), (0, 20_000)],
            [[(2_000, 2_000), (5_000, 2_000), (5_000, 5_000), (2_000, 5_000)]]),
    box(15_000, 15_000, 19_000, 19_000),
])


@pytest.mark.parametrize("n, seed", [(50, 0), (400, 1), (1500, 2)])
@pytest.mark.parametrize("kind", ["uniform", "clustered"])
def test_k_matches_pointpats(n, seed, kind):
    rng = np.random.default_rng(seed)
    pts = rng.random((n, 2)) * 5_000 if kind == "uniform" else rng.normal(2_500, 300, (n, 2))
    r = np.linspace(10, 1_000, 25)
    support, expected = pointpats_k(pts, support=r)
    assert_allclose(ripley_k(pts, r), expected, rtol=1e-10)
    assert_allclose(ripley_l(pts, r), pointpats_l(pts, support=r)[1], rtol=1e-10)


def test_k_worked_example_and_strict_inequality():
    pts = np.array([[0, 0], [3, 0], [0, 4], [10, 10]], dtype=float)
    # pairs: 3, 4, 5 and three longer; K counts d < r strictly (as pointpats)
    assert ripley_k(pts, [3.0, 3.0001, 5.0, 5.0001], area=100.0).tolist() == [0.0, 12.5, 25.0, 37.5]


def test_border_correction_matches_brute_force():
    rng = np.random.default_rng(5)
    pts = rng.random((800, 2)) * 10_000
    r = np.linspace(100, 2_500, 12)
    d = cdist(pts, pts)
    np.fill_diagonal(d, np.inf)
    b = np.minimum.reduce([pts[:, 0], pts[:, 1], 10_000 - pts[:, 0], 10_000 - pts[:, 1]])
    expected = [SQUARE.area / len(pts) * np.mean((d[b >= rr] < rr).sum(axis=1)) for rr in r]
    assert_allclose(ripley_k(pts, r, polygon=SQUARE, edge_correction="border"), expected, rtol=1e-12)


def test_l_is_r_under_csr_with_border_correction():
    pts = PolygonSampler(COAST).sample(4000, np.random.default_rng(11))
    r = np.linspace(200, 2_000, 10)
    L = ripley_l(pts, r, polygon=COAST, edge_correction="border")
    assert_allclose(L / r, 1.0, atol=0.06)
    # without correction, edges bias L downwards at large r
    assert ripley_l(pts, r, polygon=COAST)[-1] < L[-1]


def test_cross_k_matches_brute_force_and_detects_attraction():
    rng = np.random.default_rng(3)
    a = rng.random((300, 2)) * 10_000
    b_near = a[:200] + rng.normal(0, 150, (200, 2))
    b_far = rng.random((200, 2)) * 10_000
    r = np.array([250.0, 500.0, 1000.0])
    d = cdist(a, b_near)
    expected = [SQUARE.area / (len(a) * len(b_near)) * (d < rr).sum() for rr in r]
    assert_allclose(cross_k(a, b_near, r, polygon=SQUARE), expected, rtol=1e-12)
    assert cross_k(a, b_near, r, polygon=SQUARE)[0] > 1.8 * cross_k(a, b_far, r, polygon=SQUARE)[0]
    assert_allclose(cross_k(a, b_far, r, polygon=SQUARE, edge_correction="border") / (np.pi * r**2), 1.0, atol=0.35)


def test_sampler_is_uniform_inside_polygon_with_holes_and_islands():
    pts = PolygonSampler(COAST).sample(50_000, np.random.default_rng(0))
    assert shapely.contains_xy(COAST, pts[:, 0], pts[:, 1]).all()
    island = shapely.contains_xy(COAST.geoms[1], pts[:, 0], pts[:, 1]).mean()
    assert island == pytest.approx(COAST.geoms[1].area / COAST.area, abs=0.005)
    batch = PolygonSampler(SQUARE).sample(10, np.random.default_rng(0), size=3)
    assert batch.shape == (3, 10, 2)


def test_boundary_distance_exact_and_capped():
    pts = np.array([[1_000.0, 5_000.0], [5_000.0, 5_000.0]])
    assert_allclose(boundary_distance(pts, SQUARE), [1_000.0, 5_000.0])
    assert boundary_distance(pts, SQUARE, max_distance=2_000.0).tolist() == [1_000.0, np.inf]


def test_envelope_brackets_csr_and_is_seeded():
    r = np.linspace(250, 2_000, 8)
    sims = csr_envelope(500, COAST, r, simulations=39, seed=4)
    again = csr_envelope(500, COAST, r, simulations=39, seed=4, workers=2)
    assert_allclose(sims, again)
    lo, hi = sims.min(axis=0), sims.max(axis=0)
    assert np.all(lo < np.pi * r**2) and np.all(np.pi * r**2 < hi)


def test_ripley_flags_planted_cluster_and_not_csr():
    rng = np.random.default_rng(8)
    r = np.linspace(250, 2_000, 8)
    clustered = np.vstack([rng.normal(c, 300, (100, 2)) for c in ([5_000, 5_000], [15_000, 3_000], [3_000, 15_000])])
    res = ripley(clustered, COAST, r, simulations=39, seed=1)
    assert res.n <= 300 and np.all(res.L > res.L_high)
    csr = ripley(PolygonSampler(COAST).sample(300, rng), COAST, r, simulations=39, seed=2)
    assert np.mean((csr.L >= csr.L_low) & (csr.L <= csr.L_high)) >= 0.75
    d = csr.to_dict()
    assert d["envelope_high"] == d["L_high"] and len(d["distances"]) == 8


def test_geoseries_input_in_metres_and_degrees_refused():
    pts = gpd.GeoSeries(gpd.points_from_xy([0, 3, 0], [0, 0, 4]), crs=4549)
    assert ripley_k(pts, [3.5], area=100.0) == pytest.approx([100.0 * 2 / 9])
    with pytest.raises(MetricsError, match="geographic .*degrees"):
        ripley_k(pts.to_crs(4326), [3.5], area=100.0)


@pytest.mark.parametrize("kwargs, message", [
    ({"distances": [3, 2]}, "strictly increasing"),
    ({"distances": [-1.0]}, "finite metres >= 0"),
    ({"distances": [1.0], "edge_correction": "isotropic"}, "accepted: none, border"),
    ({"distances": [1.0], "edge_correction": "border"}, "needs the study-area polygon"),
])
def test_errors_name_the_problem(kwargs, message):
    with pytest.raises(MetricsError, match=message):
        ripley_k(np.zeros((3, 2)) + np.arange(3)[:, None], **kwargs)


def test_default_distances_are_capped():
    r = default_distances(box(0, 0, 400_000, 300_000))
    assert r[-1] == 10_000 and len(r) == 20 and r[0] == 500


@pytest.mark.parametrize("edge_correction", ["none", "border"])
def test_threads_give_the_same_counts(edge_correction):
    pts = PolygonSampler(COAST).sample(3000, np.random.default_rng(12))
    r = np.linspace(100, 2_000, 10)
    one = ripley_k(pts, r, polygon=COAST, edge_correction=edge_correction)
    assert_allclose(ripley_k(pts, r, polygon=COAST, edge_correction=edge_correction, workers=3), one, rtol=1e-12)
    b = pts[:500]
    assert_allclose(cross_k(pts, b, r, polygon=COAST, edge_correction=edge_correction, workers=2),
                    cross_k(pts, b, r, polygon=COAST, edge_correction=edge_correction), rtol=1e-12)


def test_cross_k_envelope_separates_attraction_from_shared_geography():
    rng = np.random.default_rng(21)
    sites = PolygonSampler(SQUARE).sample(3000, rng)
    b = sites[:200]
    near = b[:100] + rng.normal(0, 100, (100, 2))
    r = np.array([300.0, 600.0])
    env = cross_k_envelope(near, b, SQUARE, r, sites=sites, simulations=39, seed=1)
    assert np.all(cross_k(near, b, r, polygon=SQUARE) > env.max(axis=0))
    indep = sites[1000:1100]
    k = cross_k(indep, b, r, polygon=SQUARE)
    env = cross_k_envelope(indep, b, SQUARE, r, simulations=39, seed=2)
    assert np.all((env.min(axis=0) <= k) & (k <= env.max(axis=0)))
    with pytest.raises(MetricsError, match="at least as many"):
        cross_k_envelope(near, b, SQUARE, r, sites=sites[:10])


def test_interior_shortcut_gives_the_exact_distances():
    pts = PolygonSampler(COAST).sample(5000, np.random.default_rng(30))
    exact = BoundaryIndex(COAST).distance(pts, 1_500.0)
    fast = BoundaryIndex(COAST, interior_shortcut=True)
    assert_allclose(fast.distance(pts, 1_500.0), exact)
    assert_allclose(fast.distance(pts, 1_500.0), exact)  # cached interior
    assert np.isinf(exact).any() and np.isfinite(exact).any()


def test_border_correction_on_a_coast_matches_brute_force():
    """Eligibility from the exact boundary distance (shapely), counts from all pairwise distances."""
    pts = PolygonSampler(COAST).sample(1500, np.random.default_rng(40))
    r = np.linspace(100, 3_000, 15)
    d = cdist(pts, pts)
    np.fill_diagonal(d, np.inf)
    b = shapely.distance(COAST.boundary, shapely.points(pts))
    expected = [COAST.area / len(pts) * np.mean((d[b >= rr] < rr).sum(axis=1)) for rr in r]
    assert_allclose(ripley_k(pts, r, polygon=COAST, edge_correction="border"), expected, rtol=1e-12)
    assert (b < r[-1]).mean() > 0.3  # many centres are near the boundary: the groups are not trivial


@pytest.mark.parametrize("shortcut", [False, True])
def test_eligible_counts_equal_the_exact_boundary_distance(shortcut):
    r = np.linspace(250, 2_500, 10)
    pts = PolygonSampler(COAST).sample(20_000, np.random.default_rng(41))
    # and points exactly at, just inside and just outside each distance from a straight coast
    x = np.concatenate([r, r - 1e-6, r + 1e-6])
    pts = np.vstack([pts, np.column_stack([x, np.full(len(x), 14_000.0)])])
    index = BoundaryIndex(COAST, interior_shortcut=shortcut)
    exact = np.searchsorted(r, shapely.distance(COAST.boundary, shapely.points(pts)), side="right")
    assert_array_equal(index.eligible(pts, r), exact)
    assert_array_equal(exact[-30:], np.concatenate([np.arange(1, 11), np.arange(0, 10), np.arange(1, 11)]))
    assert len(np.unique(exact)) == len(r) + 1  # every count from 0 to all occurs


def test_envelope_rows_are_ripley_k_of_the_seeded_patterns():
    r = np.linspace(250, 2_000, 8)
    sims = csr_envelope(700, COAST, r, simulations=5, seed=9, workers=2)
    patterns = PolygonSampler(COAST).sample(700, np.random.default_rng(9), size=5)
    for row, pts in zip(sims, patterns):
        assert_allclose(row, ripley_k(pts, r, polygon=COAST, edge_correction="border"), rtol=1e-12)
    none = csr_envelope(700, COAST, r, simulations=5, seed=9, edge_correction="none")
    for row, pts in zip(none, patterns):
        assert_allclose(row, ripley_k(pts, r, area=COAST.area), rtol=1e-12)


def test_zero_distance_and_a_point_on_the_boundary():
    pts = np.array([[0.0, 5_000.0], [10.0, 5_000.0], [5_000.0, 5_000.0], [5_005.0, 5_000.0]])
    k = ripley_k(pts, [0.0, 6.0, 20.0], polygon=SQUARE, edge_correction="border")
    # r=0: no pair is closer than 0; r=6: three centres eligible (not the one on the boundary), the two
    # inner ones have one neighbour each; r=20: the point 10 m from the edge drops out
    assert_allclose(k, [0.0, SQUARE.area / 4 * 2 / 3, SQUARE.area / 4 * 2 / 2], rtol=1e-12)
