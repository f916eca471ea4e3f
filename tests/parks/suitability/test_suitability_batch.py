"""Vectorised batch scoring equals the per-enterprise pandas loop and the single-enterprise model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parks.suitability import Constraints, score_enterprise
from parks.suitability.batch import score_batch, score_batch_loop


@pytest.fixture(scope="module", params=(0, 3))
def world(request, W):
    return W.world_context(request.param, n_enterprises=60)


@pytest.mark.parametrize("weights, constraints", [
    (None, None),
    ({"distance": 1}, {"land_margin": 0.3, "max_distance_km": 50}),
    ({"sector_fit": 2, "labour": 1, "ecology": 1}, {"less_developed_only": True, "exclude_current_park": False}),
])
def test_vectorised_equals_loop_reference(world, constraints, weights):
    ctx, w = world
    fast = score_batch(ctx, w["enterprises"], weights, constraints, top=4, chunk_size=37)
    slow = score_batch_loop(ctx, w["enterprises"], weights, constraints, top=4)
    pd.testing.assert_frame_equal(fast.top, slow.top, check_exact=False, rtol=0, atol=1e-12)
    pd.testing.assert_frame_equal(fast.summary, slow.summary)


def test_chunk_size_does_not_matter(world):
    ctx, w = world
    a = score_batch(ctx, w["enterprises"], top=3, chunk_size=1)
    b = score_batch(ctx, w["enterprises"], top=3, chunk_size=10_000)
    pd.testing.assert_frame_equal(a.top, b.top)
    pd.testing.assert_frame_equal(a.summary, b.summary)


def test_batch_agrees_with_score_enterprise(world):
    ctx, w = world
    cons = Constraints(land_margin=0.2)
    batch = score_batch(ctx, w["enterprises"], constraints=cons, top=3)
    for eid in w["enterprises"]["enterprise_id"][:40]:
        res = score_enterprise(ctx, eid, constraints=cons, top=3)
        rows = batch.top[batch.top["enterprise_id"] == eid]
        assert rows["park_id"].tolist() == [r.park_id for r in res.ranked]
        np.testing.assert_allclose(rows["score"], [r.score for r in res.ranked], atol=1e-12)
        for c in ("distance", "labour", "sector_fit"):
            np.testing.assert_allclose(rows[c], [r.criteria[c].score for r in res.ranked], atol=1e-12)
        s = batch.summary.set_index("enterprise_id").loc[eid]
        assert s["n_feasible"] == res.ranked_total


def test_progress_is_reported(world):
    ctx, w = world
    seen = []
    score_batch(ctx, w["enterprises"], top=1, chunk_size=50, progress=lambda d, n: seen.append((d, n)))
    n = len(w["enterprises"])
    assert seen[-1] == (n, n) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_on_the_built_in_dataset(dataset):
    from geodata.reference import sector_linkages
    from parks.suitability import context_from_dataset

    ctx = context_from_dataset(dataset, sector_linkages())
    sample = dataset.enterprises.iloc[::60]
    fast = score_batch(ctx, sample, top=3)
    slow = score_batch_loop(ctx, sample, top=3)
    pd.testing.assert_frame_equal(fast.top, slow.top, check_exact=False, rtol=0, atol=1e-12)
    assert (fast.summary["n_feasible"] > 0).mean() > 0.5
