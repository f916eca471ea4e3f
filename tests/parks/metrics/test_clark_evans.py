"""Clark-Evans R: pointpats' nearest-neighbour distances as the reference, worked lattice, CSR and clusters."""

from __future__ import annotations

import numpy as np
import pytest
from pointpats import PointPattern
from shapely.geometry import box

from parks.metrics import MetricsError, clark_evans
from parks.metrics._csr import PolygonSampler

SQUARE = box(0, 0, 10_000, 10_000)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_pointpats_mean_nnd(seed):
    pts = np.random.default_rng(seed).random((500, 2)) * 10_000
    ce = clark_evans(pts, SQUARE)
    pp = PointPattern(pts)
    assert ce.mean_nnd == pytest.approx(pp.mean_nnd, rel=1e-12)
    lam = len(pts) / SQUARE.area
    assert ce.R == pytest.approx(pp.mean_nnd / (0.5 / np.sqrt(lam)), rel=1e-12)


def test_lattice_is_perfectly_regular():
    g = np.stack(np.meshgrid(np.arange(10) + 0.5, np.arange(10) + 0.5), -1).reshape(-1, 2)
    ce = clark_evans(g, area=100.0)
    assert ce.R == pytest.approx(2.0)
    assert ce.z > 10 and ce.p_value < 1e-10


def test_csr_near_one_and_cluster_below():
    rng = np.random.default_rng(4)
    samples = [PolygonSampler(SQUARE).sample(400, rng) for _ in range(30)]
    donnelly = [clark_evans(p, SQUARE, correction="donnelly").R for p in samples]
    plain = [clark_evans(p, SQUARE).R for p in samples]
    assert np.mean(donnelly) == pytest.approx(1.0, abs=0.02)
    assert np.mean(plain) > np.mean(donnelly)  # the known edge bias that Donnelly's correction removes
    cl = clark_evans(rng.normal(5_000, 200, (400, 2)), SQUARE)
    assert cl.R < 0.2 and cl.z < -10 and cl.p_value < 1e-10


def test_donnelly_raises_expectation_so_r_drops():
    pts = np.random.default_rng(9).random((200, 2)) * 10_000
    plain = clark_evans(pts, SQUARE)
    donnelly = clark_evans(pts, SQUARE, correction="donnelly")
    assert donnelly.expected_nnd > plain.expected_nnd and donnelly.R < plain.R


def test_points_outside_the_area_are_dropped_and_small_n_is_nan():
    pts = np.array([[1.0, 1.0], [2.0, 2.0], [50_000.0, 0.0]])
    assert clark_evans(pts, SQUARE).n == 2
    assert np.isnan(clark_evans(pts[:1], SQUARE).R)


@pytest.mark.parametrize("kwargs, message", [
    ({}, "needs the study area"),
    ({"area": 100.0, "correction": "donnelly"}, "needs the study-area polygon"),
    ({"area": 100.0, "correction": "ripley"}, "accepted: none, donnelly"),
])
def test_errors(kwargs, message):
    with pytest.raises(MetricsError, match=message):
        clark_evans(np.zeros((3, 2)), **kwargs)
