"""parks.metrics._paircount: the grid pair count against brute force (scipy's cdist) and against the
KD-tree count it replaced, over cell sizes, threads, eligibility, ties and duplicate points."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from parks.metrics import _paircount
from parks.metrics._paircount import neighbour_sums, pair_histogram
from parks.metrics.ripley import _run


def _brute(pts, g, r):
    """hist[b, g] by definition: every unordered pair i < j, its bin b = #{k : r_k <= d}, one per end."""
    m = len(r)
    out = np.zeros((m + 1, m + 1), dtype=np.int64)
    d = cdist(pts, pts)
    i, j = np.triu_indices(len(pts), k=1)
    b = np.searchsorted(r, d[i, j], side="right")
    keep = b < m
    np.add.at(out, (b[keep], g[i[keep]]), 1)
    np.add.at(out, (b[keep], g[j[keep]]), 1)
    return out


def _patterns():
    rng = np.random.default_rng(4)
    clustered = np.vstack([rng.normal(c, 150, (300, 2)) for c in ([1000, 1000], [4000, 2500], [4200, 2600])])
    lattice = np.array([(x, y) for x in range(0, 3000, 100) for y in range(0, 2000, 100)], dtype=float)  # ties
    dup = np.vstack([rng.random((400, 2)) * 3000, np.repeat([[500.0, 500.0]], 5, axis=0)])  # d = 0 pairs
    return {"uniform": rng.random((1200, 2)) * 5000, "clustered": clustered, "lattice": lattice,
            "duplicates": dup, "strip": np.column_stack([rng.random(600) * 1e6, rng.random(600) * 50])}


@pytest.mark.parametrize("name", list(_patterns()))
@pytest.mark.parametrize("workers", [1, 3])
def test_histogram_equals_brute_force(name, workers):
    pts = _patterns()[name]
    rng = np.random.default_rng(1)
    r = np.array([0.0, 50.0, 100.0, 141.4213562373095, 200.0, 300.0, 333.3, 700.0])
    g = rng.integers(0, len(r) + 1, len(pts))
    got = pair_histogram(pts, g, r, workers=workers, run=_run)
    assert_array_equal(got, _brute(pts, g, r))


def test_coarse_cells_when_the_grid_would_be_too_large(monkeypatch):
    """Too many cells: coarser cells than r_max / 2 (one neighbour each way), the same counts."""
    monkeypatch.setattr(_paircount, "_MAX_CELLS", 64)
    pts = _patterns()["uniform"]
    r = np.linspace(20, 400, 7)
    g = np.full(len(pts), len(r))
    assert_array_equal(pair_histogram(pts, g, r), _brute(pts, g, r))
    assert _paircount._grid(pts, float(r[-1]))[4] == 1  # cells wider than r_max (default: 2 per r_max)


def test_neighbour_sums_equal_the_kdtree_count_without_correction():
    pts = _patterns()["clustered"]
    r = np.linspace(25, 900, 15)
    num = neighbour_sums(pair_histogram(pts, None, r))
    tree = cKDTree(pts)
    expected = tree.count_neighbors(tree, np.nextafter(r, -np.inf)) - len(pts)  # ordered pairs, d < r
    assert_array_equal(num, expected)


def test_neighbour_sums_with_eligibility_by_definition():
    pts = _patterns()["uniform"]
    r = np.linspace(100, 1000, 10)
    g = np.random.default_rng(2).integers(0, len(r) + 1, len(pts))
    d = cdist(pts, pts)
    np.fill_diagonal(d, np.inf)
    expected = [float(((d < rk)[g > k]).sum()) for k, rk in enumerate(r)]
    assert_array_equal(neighbour_sums(pair_histogram(pts, g, r)), expected)


@pytest.mark.parametrize("r", [np.array([0.0]), np.array([5.0])])
def test_degenerate_inputs(r):
    assert pair_histogram(np.zeros((0, 2)), None, r).sum() == 0
    assert pair_histogram(np.zeros((1, 2)), None, r).sum() == 0
    two = np.array([[0.0, 0.0], [0.0, 0.0]])
    assert pair_histogram(two, None, r)[:-1].sum() == (2 if r[-1] > 0 else 0)
