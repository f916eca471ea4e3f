"""The batch kernel (tables, penalties, argmax passes) gives the matrix path's results to the last bit.

The matrix path is the one ``score_batch`` took before the kernel (full criterion matrices and a
stable sort of the rounded scores, ``batch._score_matrices``), over the batch's distances
(``sqrt(dx*dx + dy*dy)``, the reference loop's formula); it still scores the rows the kernel leaves
undecided, and with a ``preference``. The pandas loop stays the independent
reference (``test_suitability_batch.py``).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from parks.suitability import batch as B
from parks.suitability.context import enterprise_arrays
from parks.suitability.model import SCORE_DECIMALS
from parks.suitability.weights import normalise_weights

from .conftest import random_supplier_links


def matrix_path(ctx, ent, weights=None, constraints=None, top=3, chunk=50):
    """``score_batch`` as it was: the matrix path over every row."""
    w = normalise_weights(weights)
    cons = B._constraints(constraints)
    n, k = len(ent), min(top, ctx.n_parks)
    arrays = (np.zeros((n, k), dtype=np.int64), np.full((n, k), np.nan), np.full((n, k, 9), np.nan),
              np.zeros(n, dtype=np.int64))
    for s in range(0, n, chunk):
        B._score_matrices(ctx, ent, w, cons, k, s, min(s + chunk, n), *arrays, None, None)
    return B._assemble(ctx, ent, w, cons, k, *arrays)


def assert_same(a, b):
    pd.testing.assert_frame_equal(a.top, b.top, check_exact=True)
    pd.testing.assert_frame_equal(a.summary, b.summary, check_exact=True)


def duplicated_parks(ctx, copies: int = 2, jitter_m: float = 0.0):
    """The context with every park repeated ``copies`` times (new ids, same attributes): exact ties between
    a park and its copies, or, with ``jitter_m``, copies moved by that much (scores equal to ~1e-12)."""
    m = ctx.n_parks
    idx = np.tile(np.arange(m), copies)
    shift = np.repeat(np.arange(copies), m) * jitter_m
    per_park = {f: getattr(ctx, f)[idx] for f in (
        "free_land", "land_price", "land_price_score", "max_pollution_rank", "county_code", "less_developed",
        "sensitive", "labour_pool", "leading", "sector_share", "supply_raw", "transport_value", "transport_score",
        "ecology_km", "ecology_score", "park_kind", "park_city", "park_in_urban_core")
        if getattr(ctx, f) is not None}
    parks = ctx.parks.iloc[idx].reset_index(drop=True)
    ids = np.array([f"{p}-{c}" for c, p in zip(np.repeat(np.arange(copies), m), ctx.park_ids[idx])], dtype=object)
    order = np.argsort(ids, kind="stable")  # a context keeps its parks sorted by park_id
    per_park = {f: v[order] for f, v in per_park.items()}
    return replace(ctx, parks=parks.iloc[order].reset_index(drop=True), park_ids=ids[order],
                   park_x=(ctx.park_x[idx] + shift)[order], park_y=ctx.park_y[idx][order],
                   protected_km={k: v[idx][order] for k, v in ctx.protected_km.items()}, **per_park)


@pytest.fixture(scope="module", params=(0, 3, 7))
def world(request, W):
    return W.world_context(request.param, n_enterprises=400)


CASES = [
    (None, None, 3),
    ({"distance": 1}, {"land_margin": 0.3, "max_distance_km": 50}, 4),
    ({"sector_fit": 2, "labour": 1, "ecology": 1}, {"less_developed_only": True, "exclude_current_park": False}, 3),
    ({"land_price": 1, "policy": 1}, {"own_county_or_km": 20, "exclude_urban_core_parks": True}, 5),
    ({"transport": 1, "supply_chain": 3, "land_margin": 1}, {"own_city_or_km": 0, "protected_kinds": []}, 2),
    (None, {"land_margin": 2.0, "max_distance_km": 15}, 6),  # few feasible parks: short rows
    (None, None, 50),  # top beyond the number of parks
]


@pytest.mark.parametrize("weights, constraints, top", CASES)
def test_kernel_equals_matrix_path(world, weights, constraints, top):
    ctx, w = world
    ent = enterprise_arrays(ctx, w["enterprises"])
    assert_same(B.score_batch(ctx, ent, weights, constraints, top=top, chunk_size=97),
                matrix_path(ctx, ent, weights, constraints, top))


def test_short_rows_are_exercised(world):
    """The tight case above leaves enterprises with fewer feasible parks than ``top`` (and some with none)."""
    ctx, w = world
    res = B.score_batch(ctx, w["enterprises"], constraints={"land_margin": 2.0, "max_distance_km": 15}, top=6)
    assert ((res.summary["n_feasible"] > 0) & (res.summary["n_feasible"] < 6)).any()
    assert (res.summary["n_feasible"] == 0).any()


@pytest.mark.parametrize("jitter_m", [0.0, 1e-6, 0.4])
def test_ties_are_broken_by_park_id_as_before(world, jitter_m):
    """Copies of every park tie exactly (jitter 0) or within the 1e-9 rounding (1e-6 m); the kernel ranks
    them exactly as the stable sort did: by rounded score, then park_id."""
    ctx, w = world
    dup = duplicated_parks(ctx, copies=3, jitter_m=jitter_m)
    ent = enterprise_arrays(dup, w["enterprises"])
    fast = B.score_batch(dup, ent, top=5, chunk_size=64)
    assert_same(fast, matrix_path(dup, ent, top=5))
    top = fast.top
    key = -np.round(top["score"].to_numpy(), SCORE_DECIMALS)
    same_ent = top["enterprise_id"].to_numpy()[1:] == top["enterprise_id"].to_numpy()[:-1]
    tie = same_ent & (key[1:] == key[:-1])
    if jitter_m < 1e-3:  # the copies of the best park take the first ranks, in park_id order
        assert tie.mean() > 0.3
    assert (key[1:][same_ent] >= key[:-1][same_ent]).all()
    ids = top["park_id"].to_numpy()
    assert (ids[1:][tie] > ids[:-1][tie]).all()


def test_supplier_rows(world):
    """Suppliers score supply-chain proximity by the decay to their own chain leaders."""
    ctx, w = world
    ent = enterprise_arrays(ctx, w["enterprises"])
    sup = replace(ctx, supplier_links=random_supplier_links(ent, 40, seed=5))
    weights = {"supply_chain": 3, "sector_fit": 1, "distance": 1}
    fast = B.score_batch(sup, ent, weights, top=3, chunk_size=77)
    assert_same(fast, matrix_path(sup, ent, weights, top=3))
    plain = B.score_batch(ctx, ent, weights, top=3)
    changed = fast.top["supply_chain"].to_numpy() != plain.top["supply_chain"].to_numpy()
    assert changed.any()


def test_rows_without_coordinates_and_segments(world, monkeypatch):
    """A row without coordinates goes to the matrix path; a batch split in segments (small table budget)
    and blocks gives the same results."""
    ctx, w = world
    ent = enterprise_arrays(ctx, w["enterprises"])
    x = ent.x.copy()
    x[[3, 200]] = np.nan
    holes = replace(ent, x=x)
    assert_same(B.score_batch(ctx, holes, top=3), matrix_path(ctx, holes, top=3))
    expected = matrix_path(ctx, ent, top=3)
    monkeypatch.setattr(B, "_TABLE_BYTES", 1)
    monkeypatch.setattr(B, "_SEGMENT", 100)
    monkeypatch.setattr(B, "_BLOCK", 16)
    assert_same(B.score_batch(ctx, ent, top=3, chunk_size=30), expected)


def test_on_the_built_in_dataset(dataset):
    from parks.suitability import context_from_dataset

    ctx = context_from_dataset(dataset)
    ent = enterprise_arrays(ctx, dataset.enterprises)
    for weights, constraints, top in CASES[:4]:
        assert_same(B.score_batch(ctx, ent, weights, constraints, top=top), matrix_path(ctx, ent, weights, constraints,
                                                                                       top, chunk=2000))
