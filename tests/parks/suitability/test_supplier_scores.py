"""``criteria.supplier_scores`` scores every (supplier, leader) pair at once; against the per-supplier loop it
replaced (the reference, kept here): the same rows and the same values to rounding (numpy's SIMD ``exp2`` and
the order of the sums may differ in the last bit); a supplier without a leader scores 0. The batch kernel and the
matrix path both call it, so they still agree to the last bit (``test_batch_kernel.py``)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from parks.suitability.criteria import decay, supplier_scores


def _reference(ctx, ids, park_x, park_y, half_km):
    """The loop as it was: one supplier at a time, ``w @ d``."""
    links = ctx.supplier_links
    rows = [i for i, e in enumerate(ids) if e in links]
    value = np.zeros((len(rows), len(park_x)))
    score = np.zeros((len(rows), len(park_x)))
    for r, i in enumerate(rows):
        lx, ly, w = links[ids[i]]
        d = np.hypot(park_x[None, :] - lx[:, None], park_y[None, :] - ly[:, None]) / 1000.0
        value[r] = w @ d
        score[r] = w @ decay(d, half_km)
    return np.asarray(rows, dtype=int), value, score


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_all_pairs_at_once_equal_the_loop(seed):
    rng = np.random.default_rng(seed)
    park_x, park_y = rng.uniform(0, 3e5, 57), rng.uniform(0, 3e5, 57)
    ids = np.array([f"E{i}" for i in range(300)], dtype=object)
    links = {}
    for e in rng.choice(ids, 60, replace=False):
        k = int(rng.integers(0, 4))  # 0 to 3 leaders; 0: no leader
        w = rng.dirichlet(np.ones(k)) if k else np.zeros(0)
        links[e] = (rng.uniform(0, 3e5, k), rng.uniform(0, 3e5, k), w)
    ctx = SimpleNamespace(supplier_links=links)
    rows, value, score = supplier_scores(ctx, ids, park_x, park_y, 15.0)
    ref_rows, ref_value, ref_score = _reference(ctx, ids, park_x, park_y, 15.0)
    np.testing.assert_array_equal(rows, ref_rows)
    np.testing.assert_allclose(value, ref_value, rtol=1e-14, atol=0)
    np.testing.assert_allclose(score, ref_score, rtol=1e-14, atol=1e-300)
    no_leader = [r for r, i in enumerate(rows) if len(links[ids[i]][0]) == 0]
    assert no_leader and (score[no_leader] == 0).all() and (value[no_leader] == 0).all()


def test_no_supplier_among_the_ids():
    ctx = SimpleNamespace(supplier_links={"X": (np.array([1.0]), np.array([2.0]), np.array([1.0]))})
    rows, value, score = supplier_scores(ctx, np.array(["A", "B"], dtype=object), np.zeros(4), np.zeros(4), 15.0)
    assert rows.shape == (0,) and value.shape == score.shape == (0, 4)


def test_the_context_computes_its_suppliers_once_and_a_replaced_context_its_own():
    from dataclasses import replace

    from parks.suitability.context import enterprise_arrays
    from parks.suitability.criteria import supplier_lookup

    from .conftest import random_supplier_links, world_context

    ctx, w = world_context(3)
    ent = enterprise_arrays(ctx, w["enterprises"])
    links = random_supplier_links(ent, 30, seed=7, weights=(0.6, 0.4))
    sup = replace(ctx, supplier_links=links)
    assert sup.supplier_table is sup.supplier_table  # computed once
    rows, value, score = supplier_lookup(sup, ent.ids)
    ref = supplier_scores(sup, ent.ids, sup.park_x, sup.park_y, sup.params.supplier_half_km)
    np.testing.assert_array_equal(rows, ref[0])
    np.testing.assert_allclose(value, ref[1], rtol=1e-14)
    np.testing.assert_allclose(score, ref[2], rtol=1e-14, atol=1e-300)
    # a context made from it with other links has a table of its own, not the first one's
    fewer = replace(sup, supplier_links=dict(list(links.items())[:5]))
    assert len(fewer.supplier_table[0]) == 5 and len(sup.supplier_table[0]) == 30
    assert len(supplier_lookup(fewer, ent.ids)[0]) == 5
