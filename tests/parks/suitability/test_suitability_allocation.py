"""Allocation by MILP equals brute force on small cases; constraints and reasons."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from parks.suitability import SuitabilityError
from parks.suitability.allocation import allocate, allocate_batch


def brute_force(cand, land, free, cap):
    """Best total over every assignment (each enterprise to one of its candidate parks or nowhere)."""
    ents = sorted(land)
    options = {e: [None] + cand[cand["enterprise_id"] == e]["park_id"].tolist() for e in ents}
    score = {(e, p): s for e, p, s in cand[["enterprise_id", "park_id", "score"]].itertuples(index=False)}
    best = 0.0
    for choice in itertools.product(*(options[e] for e in ents)):
        used, count, total = {}, {}, 0.0
        for e, p in zip(ents, choice):
            if p is None:
                continue
            used[p] = used.get(p, 0.0) + land[e]
            count[p] = count.get(p, 0) + 1
            total += score[(e, p)]
        if all(used[p] <= free[p] + 1e-9 for p in used) and (cap is None or all(c <= cap for c in count.values())):
            best = max(best, total)
    return best


def random_case(seed, n_e=5, n_p=3):
    rng = np.random.default_rng(seed)
    ents = [f"e{i}" for i in range(n_e)]
    parks = [f"p{j}" for j in range(n_p)]
    pairs = [(e, p) for e in ents for p in parks if rng.random() < 0.75]
    cand = pd.DataFrame(pairs, columns=["enterprise_id", "park_id"])
    cand["score"] = np.round(rng.uniform(0.1, 1.0, len(cand)), 3)
    land = dict(zip(ents, np.round(rng.uniform(0.5, 4.0, n_e), 2)))
    free = dict(zip(parks, np.round(rng.uniform(1.0, 6.0, n_p), 2)))
    return cand, land, free


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("cap", [None, 1, 2])
def test_milp_matches_brute_force(seed, cap):
    cand, land, free = random_case(seed)
    res = allocate(cand, land, free, cap=cap, enterprises=sorted(land))
    assert res.status == "optimal"
    assert res.objective == pytest.approx(brute_force(cand, land, free, cap), abs=1e-6)
    a = res.assignments
    assert sorted(a["enterprise_id"]) == sorted(land)  # everyone reported exactly once
    got = a[a["status"] == "assigned"]
    # assignments are candidate pairs; land and cap respected; park table adds up
    pairs = set(zip(cand["enterprise_id"], cand["park_id"]))
    assert all((e, p) in pairs for e, p in zip(got["enterprise_id"], got["park_id"]))
    for p, g in got.groupby("park_id"):
        assert g["land_ha"].sum() <= free[p] + 1e-9
        assert cap is None or len(g) <= cap
    parks = res.parks.set_index("park_id")
    for p in free:
        assert parks.loc[p, "land_used_ha"] == pytest.approx(got.loc[got["park_id"] == p, "land_ha"].sum())
        assert parks.loc[p, "land_left_ha"] == pytest.approx(free[p] - parks.loc[p, "land_used_ha"])


def test_unassigned_reasons():
    cand = pd.DataFrame({"enterprise_id": ["a", "b"], "park_id": ["p", "p"], "score": [0.9, 0.5]})
    land = {"a": 3.0, "b": 3.0, "c": 1.0, "d": 1.0}
    res = allocate(cand, land, {"p": 4.0}, flags={"d": "closure_or_upgrade"})
    r = res.assignments.set_index("enterprise_id")
    assert r.loc["a", "park_id"] == "p" and r.loc["a", "status"] == "assigned"
    assert r.loc["b", "reason"] == "capacity"
    assert r.loc["c", "reason"] == "no_feasible_park"
    assert r.loc["d", "reason"] == "closure_or_upgrade"
    import json

    json.dumps(res.to_dict(), allow_nan=False)


def test_bad_candidates_are_refused():
    with pytest.raises(SuitabilityError, match="lack column.*score"):
        allocate(pd.DataFrame({"enterprise_id": ["a"], "park_id": ["p"]}), {"a": 1}, {"p": 1})
    with pytest.raises(SuitabilityError, match="land_ha lacks enterprise"):
        allocate(pd.DataFrame({"enterprise_id": ["a"], "park_id": ["p"], "score": [1.0]}), {}, {"p": 1})


def test_allocate_batch_on_a_world(W):
    from parks.suitability.batch import score_batch

    ctx, w = W.world_context(2, n_enterprises=80)
    batch = score_batch(ctx, w["enterprises"], top=5)
    res = allocate_batch(ctx, batch, cap=4)
    assert res.status == "optimal"
    got = res.assignments[res.assignments["status"] == "assigned"]
    free = dict(zip(ctx.park_ids, ctx.free_land))
    for p, g in got.groupby("park_id"):
        assert g["land_ha"].sum() <= free[p] + 1e-9 and len(g) <= 4
    assert len(res.assignments) == len(w["enterprises"])


@pytest.mark.parametrize("seed", range(6))
def test_non_binding_rows_are_dropped_without_changing_the_optimum(seed):
    cand, land, free = random_case(seed, n_e=6, n_p=3)
    big = {p: 1e6 for p in free}  # no land row binds: a pure assignment with caps
    for cap in (None, 1, 2, 10):
        res = allocate(cand, land, big, cap=cap)
        assert res.objective == pytest.approx(brute_force(cand, land, big, cap), abs=1e-6)
    mixed = dict(free, p0=1e6)  # one park's rows dropped, the others kept
    res = allocate(cand, land, mixed, cap=2)
    assert res.objective == pytest.approx(brute_force(cand, land, mixed, 2), abs=1e-6)
