"""score_enterprise: properties every result must have, metamorphic tests, profiles, errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from geodata.schema import POLLUTION_CLASSES, class_rank
from parks.suitability import (CRITERIA, Constraints, EnterpriseProfile, SuitabilityError, UnknownEnterpriseError,
                               score_enterprise)

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module", params=SEEDS)
def world(request, W):
    return W.world_context(request.param)


def _check_result(ctx, w, res, constraints: Constraints):
    parks = w["parks"].set_index("park_id")
    ranked = [r.park_id for r in res.ranked]
    excluded = [e.park_id for e in res.excluded]
    # every park in exactly one list
    assert sorted(ranked + excluded) == sorted(parks.index)
    assert not set(ranked) & set(excluded)
    assert all(e.reasons for e in res.excluded)
    # ranks 1..n, scores non-increasing, ties by park_id
    assert [r.rank for r in res.ranked] == list(range(1, len(ranked) + 1))
    for a, b in zip(res.ranked, res.ranked[1:]):
        assert round(a.score, 9) > round(b.score, 9) or (round(a.score, 9) == round(b.score, 9) and a.park_id < b.park_id)
    ent = res.enterprise
    for r in res.ranked:
        # contributions sum to the score; each in [0, 1]
        assert math.isclose(sum(c.contribution for c in r.criteria.values()), r.score, abs_tol=1e-12)
        assert set(r.criteria) == set(CRITERIA)
        assert all(0.0 <= c.score <= 1.0 for c in r.criteria.values())
        assert all(math.isclose(c.contribution, c.weight * c.score) for c in r.criteria.values())
        # the hard constraints hold, checked against the park layer directly
        p = parks.loc[r.park_id]
        assert p["free_land_ha"] >= ent["land_ha"] * (1 + constraints.land_margin)
        assert class_rank(ent["pollution_class"]) <= class_rank(p["max_pollution_class"])
        assert ent.get("catalogue_level") != "eliminate"
        if constraints.less_developed_only:
            assert ctx.less_developed[ctx.park_index(r.park_id)] == 1
        if constraints.max_distance_km is not None:
            assert r.criteria["distance"].value <= constraints.max_distance_km
        if constraints.exclude_current_park:
            assert r.park_id != ent.get("park_id")
        near = min(ctx.protected_km[k][ctx.park_index(r.park_id)] for k in constraints.protected_kinds)
        assert near * 1000 > constraints.protected_buffer_m


@pytest.mark.parametrize("constraints", [
    Constraints(),
    Constraints(land_margin=0.5, protected_buffer_m=5000, max_distance_km=60),
    Constraints(less_developed_only=True, exclude_current_park=False, protected_kinds=("water_source",)),
])
def test_properties_hold_for_every_enterprise(world, constraints):
    ctx, w = world
    for eid in w["enterprises"]["enterprise_id"][:60]:
        res = score_enterprise(ctx, eid, constraints=constraints)
        _check_result(ctx, w, res, constraints)
        json.dumps(res.to_dict(), allow_nan=False, ensure_ascii=False)


def test_all_weight_on_distance_gives_the_nearest_feasible_park(world, W):
    ctx, w = world
    parks_m = w["parks"].to_crs(W.CRS).set_index("park_id")
    ents = w["enterprises"].to_crs(W.CRS).set_index("enterprise_id")
    for eid in ents.index[:40]:
        res = score_enterprise(ctx, eid, {"distance": 1})
        if not res.ranked:
            continue
        feasible = [r.park_id for r in res.ranked]
        d = parks_m.loc[feasible].geometry.centroid.distance(ents.loc[eid].geometry)
        nearest = d.sort_values(kind="stable").index[0]
        assert d[res.ranked[0].park_id] == pytest.approx(d[nearest])
        # the raw distance is metres in the metric CRS / 1000, never degrees
        for r in res.ranked[:3]:
            assert r.criteria["distance"].value * 1000 == pytest.approx(d[r.park_id], rel=1e-9)


def test_all_weight_on_sector_fit_gives_a_park_leading_the_sector(world):
    ctx, w = world
    leads = w["parks"].set_index("park_id")["leading_sectors"].str.split(",")
    ents = w["enterprises"].set_index("enterprise_id")
    checked = 0
    for eid in ents.index[:80]:
        res = score_enterprise(ctx, eid, {"sector_fit": 1})
        sector = ents.loc[eid, "sector"]
        if any(sector in leads[r.park_id] for r in res.ranked):
            assert sector in leads[res.ranked[0].park_id]
            checked += 1
    assert checked > 5


@pytest.mark.parametrize("criterion", CRITERIA)
def test_raising_a_weight_never_lowers_the_top_park_score_on_it(world, criterion):
    ctx, w = world
    base = {c: 1.0 for c in CRITERIA}
    for eid in w["enterprises"]["enterprise_id"][:25]:
        before = score_enterprise(ctx, eid, base)
        if not before.ranked:
            continue
        for bump in (0.5, 3.0, 20.0):
            after = score_enterprise(ctx, eid, dict(base, **{criterion: 1.0 + bump}))
            assert after.ranked[0].criteria[criterion].score >= before.ranked[0].criteria[criterion].score - 1e-12


def test_profile_scores_like_the_same_enterprise_by_id(world):
    ctx, w = world
    e = w["enterprises"].iloc[3]
    by_id = score_enterprise(ctx, e["enterprise_id"], constraints={"exclude_current_park": False})
    prof = EnterpriseProfile(sector=e["sector"], land_ha=float(e["land_ha"]), employees=int(e["employees"]),
                             pollution_class=e["pollution_class"], lon=e.geometry.x, lat=e.geometry.y,
                             product=e["product"], size=e["size"])
    by_profile = score_enterprise(ctx, prof, constraints={"exclude_current_park": False})
    assert [r.park_id for r in by_id.ranked] == [r.park_id for r in by_profile.ranked]
    assert np.allclose([r.score for r in by_id.ranked], [r.score for r in by_profile.ranked], atol=1e-9)
    # a mapping works too, and the result says where the enterprise came from
    as_map = score_enterprise(ctx, {"sector": e["sector"], "land_ha": 1.0, "employees": 10, "pollution_class": "light",
                                    "lon": e.geometry.x, "lat": e.geometry.y})
    assert as_map.enterprise["source"] == "profile" and by_id.enterprise["source"] == "dataset"


def test_ties_are_broken_by_park_id(world):
    ctx, _ = world
    # only land price weighs, and a profile with zero land needs: parks with equal price tie
    res = score_enterprise(ctx, {"sector": "information", "land_ha": 0.0, "employees": 1, "pollution_class": "light",
                                 "lon": 120.0, "lat": 29.8}, {"policy": 1})
    groups = pd.DataFrame({"p": [r.park_id for r in res.ranked], "s": [r.score for r in res.ranked]})
    for _, g in groups.groupby("s"):
        assert list(g["p"]) == sorted(g["p"])
    assert groups["s"].duplicated().any()


def test_eliminated_enterprise_is_flagged_and_excluded_everywhere(world):
    ctx, _ = world
    res = score_enterprise(ctx, {"sector": "building_materials", "product": "水泥", "size": "below", "land_ha": 1,
                                 "employees": 10, "pollution_class": "light", "lon": 120.2, "lat": 29.9})
    assert res.flag == "closure_or_upgrade" and not res.ranked
    assert all(any(r["code"] == "catalogue_eliminate" for r in e.reasons) for e in res.excluded)
    above = score_enterprise(ctx, {"sector": "building_materials", "product": "水泥", "size": "above", "land_ha": 1,
                                   "employees": 10, "pollution_class": "light", "lon": 120.2, "lat": 29.9})
    assert above.flag is None


def test_restricted_sector_never_goes_to_less_developed_counties(world):
    ctx, _ = world
    res = score_enterprise(ctx, {"sector": "petrochemical", "land_ha": 0.5, "employees": 10, "pollution_class": "light",
                                 "lon": 120.3, "lat": 29.9})
    assert res.enterprise["catalogue_level"] == "restricted"
    assert all(ctx.less_developed[ctx.park_index(r.park_id)] == 0 for r in res.ranked)
    ld = [e for e in res.excluded if ctx.less_developed[ctx.park_index(e.park_id)] == 1]
    assert ld and all(any(r["code"] == "catalogue_restricted" for r in e.reasons) for e in ld)


def test_reason_messages_name_the_values(world):
    ctx, w = world
    res = score_enterprise(ctx, {"sector": "machinery", "land_ha": 1000.0, "employees": 10, "pollution_class": "heavy",
                                 "lon": 120.2, "lat": 29.9})
    assert not res.ranked
    msgs = {r["code"]: r["message"] for e in res.excluded for r in e.reasons}
    assert "need 1100.00 ha (1000.00 ha + 10% margin)" in msgs["free_land"]
    if "pollution_class" in msgs:
        assert "heavy exceeds" in msgs["pollution_class"]
    assert all(r["message_zh"] for e in res.excluded for r in e.reasons)


def test_top_truncates_ranked_only(world):
    ctx, w = world
    eid = w["enterprises"]["enterprise_id"].iloc[0]
    full = score_enterprise(ctx, eid)
    top = score_enterprise(ctx, eid, top=2)
    assert top.ranked_total == full.ranked_total and len(top.ranked) == min(2, full.ranked_total)
    assert [e.park_id for e in top.excluded] == [e.park_id for e in full.excluded]
    d = top.to_dict()
    assert set(d) >= {"enterprise", "weights", "constraints", "ranked", "excluded", "ranked_total", "flag"}
    assert set(d["ranked"][0]) >= {"park_id", "rank", "score", "criteria"}
    assert set(d["ranked"][0]["criteria"]["distance"]) == {"value", "score", "weight", "contribution"}


def test_errors_name_the_problem(world):
    ctx, _ = world
    with pytest.raises(UnknownEnterpriseError, match="enterprise_id 'NOPE' is not in the dataset"):
        score_enterprise(ctx, "NOPE")
    with pytest.raises(LookupError):
        score_enterprise(ctx, "NOPE")
    with pytest.raises(SuitabilityError, match="sector 'txtile'.*accepted: information"):
        score_enterprise(ctx, {"sector": "txtile", "land_ha": 1, "employees": 1, "pollution_class": "light", "lon": 120, "lat": 30})
    with pytest.raises(SuitabilityError, match="unknown constraint 'max_km'"):
        score_enterprise(ctx, "E00001", constraints={"max_km": 3})
    with pytest.raises(SuitabilityError, match="top must be a positive integer"):
        score_enterprise(ctx, "E00001", top=0)


def test_metric_crs_must_be_projected(W):
    import pyproj

    from parks.suitability import build_context

    w = W.make_world(0)
    with pytest.raises(SuitabilityError, match="not projected"):
        build_context(w["parks"], w["enterprises"], metric_crs=pyproj.CRS.from_epsg(4326))
    with pytest.raises(SuitabilityError, match="lacks column.*park_id.*prepare"):
        build_context(w["parks"], w["enterprises"].drop(columns="park_id"))


def test_criteria_transforms_at_known_points():
    from parks.suitability.criteria import decay, linear, log_ratio, saturating

    assert decay(30.0, 30.0) == pytest.approx(0.5) and decay(0.0, 30.0) == 1.0
    assert saturating(0.0, 10.0) == 0.0 and saturating(10.0, 10.0) == pytest.approx(1 - math.exp(-1))
    assert log_ratio(1.0, 5.0) == 0.0 and log_ratio(5.0, 5.0) == pytest.approx(1.0) and log_ratio(np.inf, 5.0) == 1.0
    assert log_ratio(0.5, 5.0) == 0.0
    assert linear(150.0, 100.0, 200.0, decreasing=True) == pytest.approx(0.5)
    assert linear(7.0, 3.0, 3.0) == 1.0


def test_supply_chain_rises_with_linked_enterprises_nearby(W):
    """Adding a chain leader of a linked sector next to a park raises that park's supply_chain raw value."""
    import geopandas as gpd

    from geodata.reference import sector_linkages
    from parks.suitability import build_context

    w = W.make_world(1)
    kw = dict(counties=w["counties"], protected_areas=w["protected_areas"], catalogue=w["catalogue"],
              linkages=sector_linkages())
    ctx0 = build_context(w["parks"], w["enterprises"], **kw)
    park = w["parks"].sort_values("park_id").iloc[0]
    c = park.geometry.centroid
    extra = gpd.GeoDataFrame([{**w["enterprises"].drop(columns="geometry").iloc[0].to_dict(), "enterprise_id": "NEW",
                               "sector": "metallurgy", "chain_leader": True}], geometry=[c], crs=4326)
    ctx1 = build_context(w["parks"], pd.concat([w["enterprises"], extra], ignore_index=True), **kw)
    from geodata.schema import SECTOR_IDS

    mach, info = SECTOR_IDS.index("machinery"), SECTOR_IDS.index("information")
    assert ctx1.supply_raw[0, mach] > ctx0.supply_raw[0, mach]  # metallurgy supplies machinery
    assert ctx1.supply_raw[0, info] == pytest.approx(ctx0.supply_raw[0, info])  # no link metallurgy-information
    assert POLLUTION_CLASSES  # vocabulary import used by the world


def test_profile_field_errors(world):
    ctx, _ = world
    with pytest.raises(SuitabilityError, match="unknown field 'landha'.*accepted: sector, land_ha"):
        score_enterprise(ctx, {"sector": "textiles", "landha": 1, "employees": 1, "pollution_class": "light",
                               "lon": 120, "lat": 30})
    with pytest.raises(SuitabilityError, match="missing field.*lat"):
        score_enterprise(ctx, {"sector": "textiles", "land_ha": 1, "employees": 1, "pollution_class": "light", "lon": 120})
    with pytest.raises(SuitabilityError, match="size 'big'.*accepted: above, below"):
        EnterpriseProfile("textiles", 1, 1, "light", 120, 30, size="big")


def test_properties_for_random_weights_and_profiles(W):
    """Hypothesis: any weights and any profile give a partition, contributions summing to the score."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    ctx, w = W.world_context(4)
    weights = st.dictionaries(st.sampled_from(CRITERIA), st.floats(0, 100), min_size=1).filter(
        lambda d: sum(d.values()) > 0)
    profiles = st.builds(
        dict, sector=st.sampled_from(["information", "textiles", "petrochemical", "machinery"]),
        land_ha=st.floats(0, 40), employees=st.integers(0, 5000), pollution_class=st.sampled_from(POLLUTION_CLASSES),
        lon=st.floats(119.9, 121.7), lat=st.floats(29.7, 30.2))

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(weights, profiles)
    def check(wts, prof):
        res = score_enterprise(ctx, prof, wts)
        ids = [r.park_id for r in res.ranked] + [e.park_id for e in res.excluded]
        assert sorted(ids) == sorted(ctx.park_ids)
        for r in res.ranked:
            assert math.isclose(sum(c.contribution for c in r.criteria.values()), r.score, abs_tol=1e-12)
            assert -1e-12 <= r.score <= 1 + 1e-12
            assert ctx.free_land[ctx.park_index(r.park_id)] >= prof["land_ha"] * 1.1
        json.dumps(res.to_dict(), allow_nan=False)

    check()
