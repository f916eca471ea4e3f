"""Issue 12 on the built-in province: scenario rules, the joint plan, a solver that always returns,
distance that can beat land price. The province is the session's small built-in dataset (3 000
enterprises, real boundaries), prepared once; the context is built once per module."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest
import shapely

from parks.suitability import SuitabilityError, context_from_dataset, score_batch
from parks.suitability.allocation import allocate
from parks.suitability.criteria import decay, land_price_reference, relative_price_score
from parks.suitability.joint import joint_plan, land_column, parse_priority, plan_scenario
from parks.suitability.scenarios import ScenarioParams, ScenarioWarning, select_scenario


@pytest.fixture(scope="module")
def ctx(dataset):
    return context_from_dataset(dataset)


@pytest.fixture(scope="module")
def plans(ctx, dataset):
    return {s: plan_scenario(ctx, dataset.enterprises, s, time_limit=30)
            for s in ("urban-core", "scattered", "coastal-transfer")}


def _placed(plan):
    a = plan.assignments
    return a[a["status"] == "assigned"]


def test_urban_core_destinations_are_outside_every_urban_core(plans, dataset):
    got = _placed(plans["urban-core"])
    assert len(got) > 20
    # independent of the context's flag: the park polygons' centroids against the boundary polygons
    m = dataset.metric_crs
    core = shapely.union_all(dataset.urban_boundaries.to_crs(m).geometry.to_numpy())
    parks = dataset.parks.to_crs(m).set_index("park_id")
    cent = parks.loc[got["park_id"].unique()].geometry.centroid
    assert not shapely.contains_xy(core, cent.x.to_numpy(), cent.y.to_numpy()).any()
    # and there are urban-core parks to avoid (else the test proves nothing)
    allc = parks.geometry.centroid
    assert shapely.contains_xy(core, allc.x.to_numpy(), allc.y.to_numpy()).any()


def test_urban_core_moves_stay_in_the_own_city_or_band(plans):
    got = _placed(plans["urban-core"])
    own_city = (got["origin_city"] == got["park_city"]).to_numpy()
    assert own_city.mean() > 0.8
    # outside the own city only within the band (default 30 km)
    assert (got.loc[~own_city, "distance_km"] <= ScenarioParams().urban_core_band_km + 1e-9).all()
    assert got["distance_km"].median() < 50


def test_scattered_selects_township_enterprises_outside_parks_and_cores(dataset):
    e = dataset.enterprises
    sel = select_scenario("scattered", e)
    assert len(sel) > 0
    assert sel["township_enterprise"].astype(bool).all()
    assert sel["park_id"].isna().all() and not sel["in_urban_core"].astype(bool).any()
    expected = e["township_enterprise"].astype(bool) & e["park_id"].isna() & ~e["in_urban_core"].astype(bool)
    assert len(sel) == int(expected.sum())


def test_scattered_without_the_column_falls_back_with_a_warning(dataset):
    e = dataset.enterprises.drop(columns="township_enterprise")
    with pytest.warns(ScenarioWarning, match="township_enterprise") as caught:
        sel = select_scenario("scattered", e)
    w = next(x.message for x in caught if isinstance(x.message, ScenarioWarning))
    assert w.code == "scenario.no_township_column"  # coded: the command line shows it in its language
    assert "乡镇企业" in w.in_lang("zh") and "falling back" not in w.in_lang("zh")
    assert len(sel) == int((e["park_id"].isna() & ~e["in_urban_core"].astype(bool)).sum())


def test_scattered_moves_stay_in_the_own_county(plans):
    got = _placed(plans["scattered"])
    assert len(got) > 20
    own = (got["origin_county_code"] == got["park_county_code"]).to_numpy()
    assert own.mean() > 0.6
    assert (got.loc[~own, "distance_km"] <= ScenarioParams().scattered_band_km + 1e-9).all()
    assert got["distance_km"].median() < 40


def test_scattered_candidates_put_own_county_township_zones_first(plans, ctx):
    """The rule is in the order: an enterprise with a feasible own-county township zone among its
    candidates has one as its first candidate, and own-county parks come before the band."""
    top = plans["scattered"].batch.top
    kind = dict(zip(ctx.park_ids, ctx.park_kind))
    origin = plans["scattered"].assignments.set_index("enterprise_id")["origin_county_code"]
    t = top.assign(own=top["county_code"].to_numpy() == origin.reindex(top["enterprise_id"]).to_numpy(),
                   tz=top["park_id"].map(kind).eq("township_zone").to_numpy())
    t["tier"] = np.where(t["own"] & t["tz"], 0, np.where(t["own"], 1, 2))
    # tiers never decrease along an enterprise's candidate list
    assert (t.groupby("enterprise_id")["tier"].apply(lambda s: s.is_monotonic_increasing)).all()
    assert (t["tier"] == 0).any() and (t["tier"] == 2).any()


def test_allocation_is_fast_and_proven_on_each_scenario(plans):
    for s, p in plans.items():
        assert p.allocation.status in ("optimal", "time_limit", "time_limit_greedy"), s
        assert p.allocation.mip_gap is not None and 0 <= p.allocation.mip_gap < 0.05, s
        assert p.allocation.bound >= float((p.batch.top.set_index(["enterprise_id", "park_id"])
                                            .reindex(list(zip(_placed(p)["enterprise_id"], _placed(p)["park_id"])))
                                            [["score", "bonus"]].sum(axis=1)).sum()) - 1e-6


@pytest.mark.parametrize("mode", ["priority", "weights"])
def test_joint_plan_never_promises_more_land_than_a_park_has(ctx, dataset, mode):
    # scarce land, so that the scenarios compete for it
    tight = dataclasses.replace(ctx, free_land=ctx.free_land * 0.05)
    kw = {"scenario_weights": {"urban-core": 3, "coastal-transfer": 2, "scattered": 1}} if mode == "weights" else {}
    plan = joint_plan(tight, dataset.enterprises, time_limit=20, **kw)
    a = plan.assignments
    assert not a["enterprise_id"].duplicated().any()  # one row per enterprise
    got = a[a["status"] == "assigned"]
    used = got.groupby("park_id")["land_ha"].sum()
    free = pd.Series(tight.free_land, index=tight.park_ids.astype(str))
    assert (used <= free.reindex(used.index) + 1e-6).all()
    parks = plan.parks.set_index("park_id")
    assert np.allclose(parks[[land_column(s) for s in plan.order]].sum(axis=1), parks["land_used_ha"])
    assert np.allclose(parks["land_used_ha"].reindex(used.index), used)
    assert (parks["land_left_ha"] >= -1e-6).all()
    assert (a.loc[a["status"] == "unassigned", "reason"] == "capacity").any()  # land was scarce indeed
    assert plan.summary()["parks_over_free_land"] == 0
    # the scenarios planned separately would over-promise some park: that is what the joint plan prevents
    sep = pd.concat([_placed(plan_scenario(tight, dataset.enterprises, s, time_limit=20)) for s in plan.order])
    total = sep.groupby("park_id")["land_ha"].sum()
    assert (total > free.reindex(total.index) + 1e-6).any()


def test_priority_order_decides_who_gets_scarce_land(ctx, dataset):
    tight = dataclasses.replace(ctx, free_land=ctx.free_land * 0.05)
    first = joint_plan(tight, dataset.enterprises, priority="scattered,urban-core", time_limit=20)
    last = joint_plan(tight, dataset.enterprises, priority="urban-core,scattered", time_limit=20)

    def land(plan, s):
        return float(plan.parks[land_column(s)].sum())

    assert land(first, "scattered") >= land(last, "scattered")
    assert land(last, "urban-core") >= land(first, "urban-core")


@pytest.mark.parametrize("text, message", [
    ("urban-core,coastal", "'coastal' is not a scenario"),
    ("scattered,scattered", "names 'scattered' twice"),
])
def test_bad_priority_is_refused(text, message):
    with pytest.raises(SuitabilityError, match=message):
        parse_priority(text)


def test_bad_scenario_weights_are_refused(ctx, dataset):
    with pytest.raises(SuitabilityError, match="must be a finite number > 0"):
        joint_plan(ctx, dataset.enterprises, scenario_weights={"urban-core": 0})
    with pytest.raises(SuitabilityError, match="not a scenario"):
        joint_plan(ctx, dataset.enterprises, scenario_weights={"city": 1})


def test_tiny_time_limit_still_returns_a_feasible_allocation_with_its_gap(plans, ctx):
    top = plans["scattered"].batch.top
    land = plans["scattered"].batch.summary.set_index("enterprise_id")["land_ha"]
    free = pd.Series(ctx.free_land * 0.03, index=ctx.park_ids.astype(str))  # land rows bind everywhere
    full = allocate(top, land, free, time_limit=30)
    quick = allocate(top, land, free, time_limit=0.01)
    assert quick.status in ("time_limit", "time_limit_greedy")
    assert quick.mip_gap is not None and quick.mip_gap >= 0 and quick.bound is not None
    got = quick.assignments[quick.assignments["status"] == "assigned"]
    assert len(got) > 0
    used = got.groupby("park_id")["land_ha"].sum()
    assert (used <= free.reindex(used.index) + 1e-6).all()
    # the proven bound holds for the better allocation too
    value_full = float(full.objective) + float(top.set_index(["enterprise_id", "park_id"]).loc[
        list(zip(*[full.assignments.query("status == 'assigned'")[c] for c in ("enterprise_id", "park_id")]))]["bonus"].sum())
    assert value_full <= quick.bound + 1e-6


def test_relative_price_saturates():
    ref = np.array([400.0])
    s = relative_price_score(np.array([400.0, 200.0, 100.0, 10.0, 800.0, 8000.0]), ref, 2.0)
    assert s[0] == pytest.approx(0.5)
    assert s[1] == s[2] == s[3] == 1.0  # twice as cheap or more: the same
    assert s[4] == s[5] == 0.0
    d = np.array([[5.0, 1.0, 3.0, 9.0]])
    assert land_price_reference(d, np.array([10.0, 20.0, 30.0, 40.0]), 3)[0] == pytest.approx(20.0)  # median of 10, 20, 30


def test_distance_beats_land_price_on_the_province(ctx, dataset):
    """Doubling the price advantage of the cheapest park (halving its price, then again) does not pull
    near firms (best park within 10 km) to it from beyond the documented band: the land-price score
    saturates at half the local price, so halving a price gains at most w_land_price / 2, which pays
    for a distance-score loss of at most that (a band of ``band(d0)`` km from a best park at d0)."""
    from parks.suitability.context import enterprise_arrays

    e = dataset.enterprises
    w = score_batch(ctx, e.head(1), top=1).weights
    cheap = int(np.argmin(ctx.land_price))
    ent = enterprise_arrays(ctx, e)
    dist = ctx.distances_km(ent)
    h = ctx.params.distance_half_km

    def best(c):
        b = score_batch(c, ent, top=1).top.set_index("enterprise_id")["park_id"]
        return b.reindex(ent.ids)

    before = best(ctx)
    has = before.notna().to_numpy()
    j0 = np.array([ctx.park_index(p) if isinstance(p, str) else 0 for p in before])
    d0 = dist[np.arange(len(j0)), j0]
    near = has & (d0 <= 10.0) & (before.to_numpy() != ctx.park_ids[cheap])
    assert near.sum() > 100
    arg = 2.0 ** (-d0 / h) - 0.5 * w["land_price"] / w["distance"]
    band = np.where(arg > 0, -h * np.log2(np.where(arg > 0, arg, 1.0)), np.inf)
    for factor in (0.5, 0.25):
        price = ctx.land_price.copy()
        price[cheap] *= factor
        after = best(dataclasses.replace(ctx, land_price=price))
        pulled = near & (after.to_numpy() == ctx.park_ids[cheap])
        assert (dist[pulled, cheap] <= band[pulled] + 1e-9).all(), (factor, dist[pulled, cheap], band[pulled])
    # and the cheapest park is not the first choice of the province
    assert (before == ctx.park_ids[cheap]).mean() < 0.1


def test_no_park_is_first_choice_for_a_large_share_of_a_scenario(plans):
    for s, p in plans.items():
        first = p.batch.top[p.batch.top["rank"] == 1]["park_id"].value_counts(normalize=True)
        if len(first) and s != "coastal-transfer":  # coastal: few less-developed parks lead a sector
            assert first.iloc[0] < 0.2, (s, first.head(3).to_dict())


def test_supplier_criterion_is_the_distance_to_its_own_leaders(W):
    from parks.suitability import build_context
    from parks.suitability.batch import score_batch_loop
    from geodata.reference import sector_linkages
    import pyproj

    w = W.make_world(3)
    ents = w["enterprises"]
    leaders = ents["enterprise_id"].iloc[[0, 1]].tolist()
    suppliers = pd.DataFrame({"supplier_id": [ents["enterprise_id"].iloc[5]] * 2 + [ents["enterprise_id"].iloc[6]],
                              "leader_id": leaders + [leaders[0]], "share": [0.75, 0.25, None]})
    ctx = build_context(w["parks"], ents, counties=w["counties"], protected_areas=w["protected_areas"],
                        catalogue=w["catalogue"], linkages=sector_linkages(), metric_crs=pyproj.CRS.from_epsg(W.CRS),
                        suppliers=suppliers)
    sub = ents.iloc[[5, 6, 7]]
    fast = score_batch(ctx, sub, top=ctx.n_parks)
    slow = score_batch_loop(ctx, sub, top=ctx.n_parks)
    pd.testing.assert_frame_equal(fast.top, slow.top, rtol=1e-12, atol=1e-12)
    pop = ctx.enterprises
    lx, ly = pop.loc[leaders, "x"].to_numpy(float), pop.loc[leaders, "y"].to_numpy(float)
    t = fast.top[fast.top["enterprise_id"] == ents["enterprise_id"].iloc[5]]
    j = [ctx.park_index(p) for p in t["park_id"]]
    d = np.hypot(ctx.park_x[j][:, None] - lx[None, :], ctx.park_y[j][:, None] - ly[None, :]) / 1000.0
    expected = 0.75 * decay(d[:, 0], 15.0) + 0.25 * decay(d[:, 1], 15.0)
    np.testing.assert_allclose(t["supply_chain"].to_numpy(), expected, rtol=1e-12)
    with pytest.raises(SuitabilityError, match="share"):
        build_context(w["parks"], ents, metric_crs=pyproj.CRS.from_epsg(W.CRS),
                      suppliers=suppliers.assign(share=[1.5, 0.2, 0.1]))


def test_constraints_name_the_new_reasons(ctx, dataset):
    from parks.suitability import score_enterprise
    from parks.suitability.scenarios import scenario_constraints

    sel = select_scenario("urban-core", dataset.enterprises)
    eid = str(sel["enterprise_id"].iloc[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = score_enterprise(ctx, eid, constraints=scenario_constraints("urban-core")).to_dict()
    codes = {r["code"] for x in res["excluded"] for r in x["reasons"]}
    assert {"urban_core_park", "outside_city_band"} <= codes
    assert all(r["message_zh"] for x in res["excluded"] for r in x["reasons"])


def test_sensitivity_reports_how_often_the_nearest_park_wins(ctx, dataset):
    from parks.suitability.sensitivity import weight_sensitivity

    eid = str(dataset.enterprises["enterprise_id"].iloc[0])
    tab = weight_sensitivity(ctx, eid, n=300, seed=1)
    assert tab["nearest"].sum() == 1
    near = tab[tab["nearest"]].iloc[0]
    assert near["distance_km"] == pytest.approx(tab["distance_km"].min())
    assert tab.attrs["p_nearest_wins"] == pytest.approx(near["p_rank1"])
    # all the weight on distance: the nearest park wins every draw
    only = weight_sensitivity(ctx, eid, {"distance": 1.0}, n=50, seed=1)
    assert only.attrs["p_nearest_wins"] == 1.0


def test_coastal_preference_hosts_and_pairs(W):
    """host_bonus where the park's county has >= host_min_enterprises of the firm's sector, a park
    leading it or a chain leader of it or a linked sector; pairing_bonus for mountain-sea partners."""
    from geodata.reference import sector_linkages
    from geodata.schema import SECTOR_IDS
    from parks.suitability import build_context
    from parks.suitability.context import enterprise_arrays
    from parks.suitability.scenarios import scenario_preference
    import pyproj

    w = W.make_world(5, n_enterprises=300)
    pairs = pd.DataFrame({"developed_code": ["330000"], "less_developed_code": ["330001"]})
    ctx = build_context(w["parks"], w["enterprises"], counties=w["counties"], linkages=sector_linkages(),
                        metric_crs=pyproj.CRS.from_epsg(W.CRS), shanhai_pairs=pairs)
    e = w["enterprises"]
    ent = enterprise_arrays(ctx, e)
    params = ScenarioParams(host_bonus=0.2, pairing_bonus=0.3, host_min_enterprises=5, nearness_bonus=0.0)
    b = scenario_preference("coastal-transfer", ctx, ent, params)
    link = ctx.linkage > 0
    for i in range(0, len(e), 17):
        s = ent.sector_idx[i]
        for j in range(ctx.n_parks):
            c = ctx.county_code[j]
            in_c = e[e["county_code"] == c]
            n_sector = int((in_c["sector"] == SECTOR_IDS[s]).sum())
            leads = any(SECTOR_IDS[s] in str(v).split(",") for v in w["parks"].loc[w["parks"]["county_code"] == c, "leading_sectors"])
            chain = any(bool(r.chain_leader) and (r.sector == SECTOR_IDS[s] or link[s, SECTOR_IDS.index(r.sector)])
                        for r in in_c.itertuples())
            paired = (str(ent.county_code[i]), str(c)) in {("330000", "330001")}
            expected = 0.2 * (n_sector >= 5 or leads or chain) + 0.3 * paired
            assert b[i, j] == pytest.approx(expected), (i, j)
    assert (b >= 0.3 - 1e-12).any()  # some pair counted


def test_coastal_preference_prefers_nearer_receiving_parks(W):
    """nearness_bonus * 2 ** (-d / transfer_half_km), d the distance (km) from the firm to the park's
    centroid, measured here by shapely on the parks' polygons."""
    from geodata.reference import sector_linkages
    from parks.suitability import build_context
    from parks.suitability.context import enterprise_arrays
    from parks.suitability.scenarios import scenario_preference
    import pyproj

    w = W.make_world(6, n_enterprises=200)
    ctx = build_context(w["parks"], w["enterprises"], counties=w["counties"], linkages=sector_linkages(),
                        metric_crs=pyproj.CRS.from_epsg(W.CRS))
    ent = enterprise_arrays(ctx, w["enterprises"])
    base = ScenarioParams(nearness_bonus=0.0)
    near = ScenarioParams(nearness_bonus=0.3, transfer_half_km=40.0)
    extra = (scenario_preference("coastal-transfer", ctx, ent, near)
             - scenario_preference("coastal-transfer", ctx, ent, base))
    parks = w["parks"].to_crs(W.CRS).set_index("park_id").loc[list(ctx.park_ids)]
    centroids = shapely.centroid(parks.geometry.to_numpy())
    points = w["enterprises"].to_crs(W.CRS).geometry.to_numpy()
    d_km = shapely.distance(points[:, None], centroids[None, :]) / 1000.0
    np.testing.assert_allclose(extra, 0.3 * 2.0 ** (-d_km / 40.0), rtol=1e-9, atol=1e-12)
    # the nearest park gets the largest bonus for every firm
    assert (extra.argmax(axis=1) == d_km.argmin(axis=1)).all()
    with pytest.raises(SuitabilityError, match="transfer_half_km"):
        ScenarioParams(transfer_half_km=0)


def test_coastal_transfer_moves_shorter_with_the_nearness_rule(ctx, dataset, plans):
    """On the built-in province every receiving park lies beyond the score's distance half-distance:
    without the scenario's own nearness rule, firms cross the province to a park whose sector fits a
    little better. With it (the default), the median move is shorter and no more firms stay unplaced."""
    off = plan_scenario(ctx, dataset.enterprises, "coastal-transfer", params=ScenarioParams(nearness_bonus=0.0),
                        time_limit=30)
    on = plans["coastal-transfer"]

    def moves(plan):
        got = _placed(plan)
        parks = dataset.parks.to_crs(dataset.metric_crs).set_index("park_id").loc[got["park_id"]]
        firms = dataset.enterprises.to_crs(dataset.metric_crs).set_index("enterprise_id").loc[got["enterprise_id"]]
        return shapely.distance(firms.geometry.to_numpy(), shapely.centroid(parks.geometry.to_numpy())) / 1000.0

    assert np.median(moves(on)) < 0.8 * np.median(moves(off))
    assert len(_placed(on)) >= len(_placed(off))


def test_key_enterprises_get_scarce_land_first(ctx, dataset):
    """With scarce land, key_bonus places a larger share of the key enterprises (key_enterprise or
    small_giant) than without it."""
    tight = dataclasses.replace(ctx, free_land=ctx.free_land * 0.03)

    def key_share(bonus):
        plan = plan_scenario(tight, dataset.enterprises, "urban-core", params=ScenarioParams(key_bonus=bonus),
                             time_limit=20)
        a = plan.assignments
        assert a["key"].any() and (~a["key"]).any()
        return float((a.loc[a["key"], "status"] == "assigned").mean()), a

    without, _ = key_share(0.0)
    with_bonus, _ = key_share(2.0)
    assert with_bonus > without
