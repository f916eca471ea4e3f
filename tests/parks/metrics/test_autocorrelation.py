"""Moran's I, LISA and Gi*: esda on the same inputs as the reference; FDR; county weights."""

from __future__ import annotations

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose
from shapely.geometry import box

from parks.metrics import county_weights, getis_ord, local_moran, morans_i, sector_density
from parks.metrics.autocorrelation import QUADRANTS


def grid_weights(k=8):
    """Rook lattice k x k with string ids (as county codes are)."""
    w0 = libpysal.weights.lat2W(k, k)
    ids = [str(i) for i in w0.id_order]
    return libpysal.weights.W({str(a): [str(b) for b in nb] for a, nb in w0.neighbors.items()}, id_order=ids)


def trend_y(k=8, seed=0):
    rng = np.random.default_rng(seed)
    return np.add.outer(np.arange(k), np.arange(k)).ravel() + rng.random(k * k) * 2


def esda_w(w):
    return libpysal.weights.W(w.neighbors, id_order=w.id_order)


def test_morans_i_matches_esda_and_is_significant_for_a_gradient():
    w = grid_weights()
    y = trend_y()
    ours = morans_i(y, w, permutations=999, seed=1)
    ref = esda.Moran(y, esda_w(w), permutations=0)
    assert ours.I == pytest.approx(ref.I, rel=1e-12)
    assert ours.EI == pytest.approx(ref.EI) and ours.z_norm == pytest.approx(ref.z_norm)
    assert ours.p_sim == pytest.approx(0.001)


def test_morans_p_sim_agrees_with_esda_on_noise():
    w = grid_weights()
    y = np.random.default_rng(3).random(64)
    ours = morans_i(y, w, permutations=999, seed=2).p_sim
    np.random.seed(2)  # esda.Moran draws from numpy's global state; only the reference uses it
    ref = esda.Moran(y, esda_w(w), permutations=999).p_sim
    assert ours == pytest.approx(ref, abs=0.06)
    assert morans_i(y, w, permutations=999, seed=2).p_sim == ours  # seeded


def test_weights_are_not_changed_by_the_statistics():
    w = grid_weights()
    before = {k: list(v) for k, v in w.weights.items()}
    morans_i(trend_y(), w, seed=0)
    local_moran(trend_y(), w, seed=0)
    getis_ord(trend_y(), w, seed=0)
    assert {k: list(v) for k, v in w.weights.items()} == before and w.transform == "O"


def test_local_moran_matches_esda_same_seed():
    w = grid_weights()
    y = trend_y(seed=5)
    ours = local_moran(y, w, permutations=499, seed=7, fdr=False)
    ref = esda.Moran_Local(y, esda_w(w), transformation="r", permutations=499, seed=7, n_jobs=1)
    assert_allclose(ours["Is"], ref.Is)
    assert_allclose(ours["p_sim"], ref.p_sim)
    quad = np.array([QUADRANTS[q] for q in ref.q], dtype=object)
    sig = ref.p_sim <= 0.05
    assert (ours["quadrant"].to_numpy()[sig] == quad[sig]).all()
    assert (ours["quadrant"].to_numpy()[~sig] == "ns").all()
    assert ours["county_code"].tolist() == w.id_order


def test_gi_star_matches_esda_same_seed_and_finds_hot_and_cold():
    w = grid_weights()
    y = trend_y(seed=6)
    ours = getis_ord(y, w, permutations=499, seed=3)
    wstar = libpysal.weights.fill_diagonal(esda_w(w), 1.0)
    ref = esda.G_Local(y, wstar, transform="R", permutations=499, star=None, seed=3, n_jobs=1)
    assert_allclose(ours["z"], ref.Zs)
    assert_allclose(ours["p_sim"], ref.p_sim)
    low_corner, high_corner = ours.iloc[0], ours.iloc[-1]
    assert low_corner["spot"] == "cold" and high_corner["spot"] == "hot"


def test_fdr_on_by_default_is_never_more_permissive():
    w = grid_weights(10)
    rng = np.random.default_rng(0)
    y = rng.random(100)  # noise: uncorrected tests find some "clusters" by chance
    raw = local_moran(y, w, permutations=999, seed=1, fdr=False)
    fdr = local_moran(y, w, permutations=999, seed=1)
    assert (fdr["quadrant"] != "ns").sum() <= (raw["quadrant"] != "ns").sum()
    assert (fdr["quadrant"] != "ns").sum() == 0
    assert (getis_ord(y, w, permutations=999, seed=1)["spot"] != "ns").sum() == 0


def test_constant_density_gives_no_spots():
    w = grid_weights(4)
    y = np.ones(16)
    assert (local_moran(y, w)["quadrant"] == "ns").all()
    assert (getis_ord(y, w)["spot"] == "ns").all()
    assert np.isnan(morans_i(y, w).I)


def test_county_weights_attach_islands_and_sector_density():
    tiles = [box(i * 1000, j * 1000, (i + 1) * 1000, (j + 1) * 1000) for i in range(3) for j in range(2)]
    island = box(10_000, 10_000, 11_000, 11_000)
    counties = gpd.GeoDataFrame({"code": [f"33{i:04d}" for i in range(7)]}, geometry=tiles + [island], crs=4549)
    w = county_weights(counties)
    assert w.id_order == counties["code"].tolist()
    assert not w.islands and w.neighbors["330006"]  # the island got its nearest county
    ent = pd.DataFrame({"county_code": ["330000", "330000", "330006"], "sector": ["textiles", "machinery", "textiles"],
                        "employees": [100, 50, 10]})
    d = sector_density(ent, counties, 4549, sector="textiles")
    assert d["330000"] == pytest.approx(100.0) and d["330006"] == pytest.approx(10.0) and d["330001"] == 0


def test_county_weights_equal_libpysal_queen_on_real_counties(dataset):
    counties = dataset.counties.to_crs(dataset.metric_crs)
    ours = county_weights(counties)
    queen = libpysal.weights.Queen.from_dataframe(counties.reset_index(drop=True), use_index=False, silence_warnings=True)
    codes = counties["code"].astype(str).tolist()
    islands = {codes[i] for i in queen.islands}
    for i, code in enumerate(codes):
        if code in islands:  # ours attaches an island to its nearest county (both ways)
            assert len(ours.neighbors[code]) >= 1
        else:
            extra = set(ours.neighbors[code]) - {codes[j] for j in queen.neighbors[i]}
            assert {codes[j] for j in queen.neighbors[i]} <= set(ours.neighbors[code]) and extra <= islands
