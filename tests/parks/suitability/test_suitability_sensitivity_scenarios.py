"""Weight sensitivity (seeded Dirichlet) and the scenario selections."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parks.suitability import SuitabilityError, score_enterprise
from parks.suitability.scenarios import SCENARIOS, select_scenario, scenario_constraints
from parks.suitability.sensitivity import dirichlet_weights, weight_sensitivity


@pytest.fixture(scope="module")
def world(W):
    return W.world_context(0)


def _eid_with_choices(ctx, w, k=3):
    for eid in w["enterprises"]["enterprise_id"]:
        if score_enterprise(ctx, eid).ranked_total >= k:
            return eid
    raise AssertionError("no enterprise with enough feasible parks")


def test_sensitivity_is_seeded_and_probabilities_add_up(world):
    ctx, w = world
    eid = _eid_with_choices(ctx, w)
    a = weight_sensitivity(ctx, eid, n=400, seed=7)
    b = weight_sensitivity(ctx, eid, n=400, seed=7)
    pd.testing.assert_frame_equal(a, b)
    assert a["p_rank1"].sum() == pytest.approx(1.0)
    assert a["p_top3"].sum() == pytest.approx(min(3, len(a)))
    assert set(a["park_id"]) == {r.park_id for r in score_enterprise(ctx, eid).ranked}
    assert ((a["mean_rank"] >= 1) & (a["mean_rank"] <= len(a))).all()


def test_tight_concentration_reproduces_the_ranking(world):
    ctx, w = world
    eid = _eid_with_choices(ctx, w)
    best = score_enterprise(ctx, eid).ranked[0].park_id
    s = weight_sensitivity(ctx, eid, n=200, concentration=1e7, seed=1)
    assert s.iloc[0]["park_id"] == best and s.iloc[0]["p_rank1"] == pytest.approx(1.0)


def test_dirichlet_keeps_zero_weights_zero_and_mean_near_weights():
    w = {c: 0.0 for c in ("sector_fit", "supply_chain", "distance", "transport", "land_price", "land_margin",
                          "labour", "policy", "ecology")}
    w.update(distance=0.5, labour=0.3, policy=0.2)
    draws = dirichlet_weights(w, 20000, 50.0, np.random.default_rng(0))
    assert np.allclose(draws.sum(axis=1), 1.0)
    assert (draws[:, [0, 1, 3, 4, 5, 8]] == 0).all()
    np.testing.assert_allclose(draws[:, [2, 6, 7]].mean(axis=0), [0.5, 0.3, 0.2], atol=0.005)


def test_sensitivity_argument_errors(world):
    ctx, w = world
    with pytest.raises(SuitabilityError, match="n must be a positive integer"):
        weight_sensitivity(ctx, "E00001", n=0)
    with pytest.raises(SuitabilityError, match="concentration must be > 0"):
        weight_sensitivity(ctx, "E00001", concentration=0)


def test_scenarios_select_what_the_plan_says(world):
    _, w = world
    e = w["enterprises"]
    per_mu = pd.Series(np.where(np.arange(len(e)) % 4 == 0, "D", "A"), index=e.index)
    urban = select_scenario("urban-core", e, per_mu=per_mu)
    assert urban["in_urban_core"].all() and len(urban)
    assert urban["scenario_reasons"].str.len().gt(0).all()
    low = urban[urban["scenario_reasons"].str.contains("per_mu_low")]
    assert (per_mu.loc[low.index] == "D").all()
    old = urban[urban["scenario_reasons"].str.contains("old")]
    assert (old["established"] < 1995).all()
    scattered = select_scenario("scattered", e)
    assert scattered["park_id"].isna().all() and not scattered["in_urban_core"].any()
    assert len(scattered) == int((e["park_id"].isna() & ~e["in_urban_core"]).sum())
    coastal = select_scenario("coastal-transfer", e)
    assert coastal["labour_intensive"].all() and coastal["coastal"].all() and not coastal["less_developed"].any()
    assert scenario_constraints("coastal-transfer").less_developed_only
    assert not scenario_constraints("scattered").less_developed_only


def test_unknown_scenario_and_missing_columns(world):
    _, w = world
    with pytest.raises(SuitabilityError, match="unknown scenario 'coastal'.*accepted: urban-core"):
        select_scenario("coastal", w["enterprises"])
    with pytest.raises(SuitabilityError, match="needs enterprise column.*in_urban_core.*prepare"):
        select_scenario("scattered", w["enterprises"].drop(columns="in_urban_core"))


def test_urban_core_uses_the_per_mu_module_on_the_built_in_dataset(dataset):
    sel = select_scenario("urban-core", dataset.enterprises)
    assert len(sel) and sel["in_urban_core"].all()
    assert sel["scenario_reasons"].str.contains("per_mu_low").any()
    assert set(SCENARIOS) == {"urban-core", "scattered", "coastal-transfer"}
