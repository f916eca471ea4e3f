"""Duranton-Overman K-density (exact vs binned, localisation of a planted cluster) and the trend table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from scipy.spatial.distance import pdist
from scipy.stats import gaussian_kde

from parks.metrics import MetricsError, duranton_overman, metrics_by_year
from parks.metrics.duranton_overman import _binned_pairs, _global_bands, _kernel_matrix, kdensity, silverman_bandwidth
from parks.metrics.trend import default_years

RNG = np.random.default_rng(0)
SITES = RNG.random((6_000, 2)) * 200_000


def test_kdensity_integrates_to_one_and_matches_scipy_kde_away_from_zero():
    pts = SITES[:120]
    h = 8_000.0
    grid = np.linspace(0, 400_000, 801)
    dens = kdensity(pts, grid, h)
    assert np.trapezoid(dens, grid) == pytest.approx(1.0, abs=2e-3)
    d = pdist(pts)
    ref = gaussian_kde(d, bw_method=h / d.std(ddof=1))
    far = grid[(grid > 60_000) & (grid < 150_000)]  # reflection at 0 is negligible here
    assert_allclose(kdensity(pts, far, h), ref(far), rtol=1e-6)


def test_binned_pairs_equal_histogram_and_binned_density_is_close():
    pts = SITES[:2_500]
    edges = np.linspace(0, 150_000, 301)
    assert_allclose(_binned_pairs(pts, edges, block=700), np.histogram(pdist(pts), edges)[0])
    pts = pts[:600]
    h = 5_000.0
    grid = np.linspace(2_000, 100_000, 50)
    edges = np.arange(0, 100_000 + 5 * h + h / 10, h / 10)
    centres = 0.5 * (edges[1:] + edges[:-1])
    n = len(pts)
    binned = _binned_pairs(pts, edges) @ _kernel_matrix(grid, centres, h) / (n * (n - 1) / 2)
    assert_allclose(binned, kdensity(pts, grid, h), rtol=2e-3)


def test_silverman_bandwidth():
    d = np.random.default_rng(1).normal(0, 1, 10_000)
    assert silverman_bandwidth(d) == pytest.approx(0.9 * 1.0 * 10_000 ** -0.2, rel=0.05)


def test_planted_cluster_is_localised_and_random_draw_mostly_not():
    cluster = np.random.default_rng(2).normal(100_000, 3_000, (150, 2))
    res = duranton_overman(cluster, SITES, max_distance_m=100_000, simulations=99, seed=3)
    assert res.localised and res.localisation > 0 and not res.dispersed
    assert np.all(res.global_high >= res.local_high - 1e-15)
    lo = duranton_overman(SITES[RNG.choice(len(SITES), 150, replace=False)], SITES, max_distance_m=100_000,
                          simulations=99, seed=4)
    assert lo.localisation < 0.2 * res.localisation
    d = res.to_dict()
    assert len(d["distances"]) == 100 and d["simulations"] == 99


def test_seeded_and_validated():
    pts = SITES[:50]
    a = duranton_overman(pts, SITES, simulations=9, seed=5, steps=20)
    b = duranton_overman(pts, SITES, simulations=9, seed=5, steps=20)
    assert_allclose(a.global_high, b.global_high)
    with pytest.raises(MetricsError, match="at least 3 plants"):
        duranton_overman(pts[:2], SITES)
    with pytest.raises(MetricsError, match="level must be"):
        duranton_overman(pts, SITES, level=0.2)


def test_metrics_by_year_stock_grows_and_capture_follows():
    e = pd.DataFrame({
        "sector": ["textiles"] * 6 + ["machinery"] * 4,
        "county_code": list("AABBCC") + list("AABB"),
        "employees": 10,
        "park_id": [None, None, "P", "P", "P", "P", None, "P", "P", "P"],
        "established": [1990, 1995, 2005, 2010, 2015, 2020, 1990, 2000, 2010, 2020],
    })
    t = metrics_by_year(e, [1995, 2010, 2020], min_plants=2)
    total = t[t["sector"] == "all"].set_index("year")
    assert total["enterprises"].tolist() == [3, 7, 10]
    assert total.loc[1995, "share_in_parks"] == 0 and total.loc[2020, "share_in_parks"] == pytest.approx(0.7)
    tex = t[t["sector"] == "textiles"].set_index("year")
    assert np.isfinite(tex.loc[2010, "ellison_glaeser_gamma"]) and 0 < tex.loc[2020, "hhi"] <= 1
    assert default_years(e["established"], step=10) == [1990, 2000, 2010, 2020]
    with pytest.raises(MetricsError, match="establishment years"):
        metrics_by_year(e.assign(established=np.nan))


def test_metrics_by_year_clark_evans_on_the_built_in_dataset(dataset):
    from parks.metrics._common import area_polygon

    area = area_polygon(dataset.province, dataset.metric_crs)
    t = metrics_by_year(dataset.enterprises, [1995, 2005], study_area=area, crs=dataset.metric_crs)
    allrows = t[t["sector"] == "all"]
    assert allrows["enterprises"].is_monotonic_increasing
    assert (allrows["clark_evans_r"] < 1).all()  # enterprises cluster in parks and towns
    assert t["clark_evans_r"].notna().sum() > len(allrows)
    with pytest.raises(MetricsError, match="metric crs"):
        metrics_by_year(dataset.enterprises, [2000], study_area=area)


def test_global_bands_are_left_by_at_most_five_percent_of_draws():
    sims = np.random.default_rng(7).normal(size=(400, 60)).cumsum(axis=1)
    lo, hi = _global_bands(sims, 0.95)
    above = (sims > hi).any(axis=1).mean()
    below = (sims < lo).any(axis=1).mean()
    assert above <= 0.05 and below <= 0.05 and above > 0.02 and below > 0.02
    local_hi = np.quantile(sims, 0.95, axis=0)
    assert np.all(hi >= local_hi - 1e-12)
