"""County-to-county flows: aggregation properties against a plain count over random plans."""

from __future__ import annotations

from collections import Counter

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from parks.flows import FLOW_COLUMNS, FlowsError, county_flows

METRIC = "EPSG:4549"
CODES = ["330101", "330102", "330201", "330202"]
CITY = {"330101": "杭州市", "330102": "杭州市", "330201": "宁波市", "330202": "宁波市"}


def world(seed: int, n_ent: int = 60, n_parks: int = 6):
    """Four counties side by side (EPSG:4549), parks and enterprises placed at random inside them."""
    rng = np.random.default_rng(seed)
    x0, y0, size = 500_000.0, 3_300_000.0, 20_000.0
    counties = gpd.GeoDataFrame({"code": CODES, "name": [f"县{c}" for c in CODES], "city": [CITY[c] for c in CODES]},
                                geometry=[shapely.box(x0 + i * size, y0, x0 + (i + 1) * size, y0 + size)
                                          for i in range(len(CODES))], crs=METRIC)
    pc = rng.integers(len(CODES), size=n_parks)
    px, py = x0 + pc * size + rng.uniform(2000, size - 2000, n_parks), y0 + rng.uniform(2000, size - 2000, n_parks)
    parks = gpd.GeoDataFrame({"park_id": [f"P{i}" for i in range(n_parks)], "county_code": np.array(CODES)[pc]},
                             geometry=[shapely.box(x - 500, y - 500, x + 500, y + 500) for x, y in zip(px, py)], crs=METRIC)
    ec = rng.integers(len(CODES), size=n_ent)
    ex, ey = x0 + ec * size + rng.uniform(100, size - 100, n_ent), y0 + rng.uniform(100, size - 100, n_ent)
    ents = gpd.GeoDataFrame({"enterprise_id": [f"E{i:03d}" for i in range(n_ent)], "county_code": np.array(CODES)[ec],
                             "employees": rng.integers(1, 500, n_ent), "land_ha": np.round(rng.uniform(0.1, 5, n_ent), 2)},
                            geometry=gpd.points_from_xy(ex, ey), crs=METRIC)
    return counties, parks, ents, rng


def plan(rng, ents, parks, statuses=("assigned",)):
    n = len(ents)
    park = np.where(rng.random(n) < 0.7, rng.choice(parks["park_id"], n), None)
    return pd.DataFrame({"enterprise_id": ents["enterprise_id"], "park_id": park,
                         "status": rng.choice(list(statuses), n), "scenario": rng.choice(["a", "b"], n)})


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), with_status=st.booleans(), by=st.sampled_from([None, "scenario"]))
def test_flows_add_up_to_the_moves(seed, with_status, by):
    counties, parks, ents, rng = world(seed)
    a = plan(rng, ents, parks, statuses=("pending", "approved", "rejected"))
    if not with_status:
        a = a.drop(columns="status")
    f = county_flows(a, ents, parks, counties, by=by)
    moves = a[a["park_id"].notna()]
    # the sum of the flows is the number of firms with a park, and of their jobs and land
    assert f["firms"].sum() == len(moves)
    emp = dict(zip(ents["enterprise_id"], ents["employees"]))
    land = dict(zip(ents["enterprise_id"], ents["land_ha"]))
    assert f["jobs"].sum() == sum(emp[e] for e in moves["enterprise_id"])
    assert f["land_ha"].sum() == pytest.approx(sum(land[e] for e in moves["enterprise_id"]))
    # one row per (group,) origin, destination pair, each with its plain count
    keys = ([by] if by else []) + ["origin_county_code", "destination_county_code"]
    assert not f.duplicated(keys).any()
    origin = dict(zip(ents["enterprise_id"], ents["county_code"]))
    dest = dict(zip(parks["park_id"], parks["county_code"]))
    count = Counter(((s,) if by else ()) + (origin[e], dest[p])
                    for e, p, s in zip(moves["enterprise_id"], moves["park_id"], moves["scenario"]))
    assert {tuple(r): n for r, n in zip(f[keys].values.tolist(), f["firms"])} == dict(count)
    assert list(f.columns[: len(keys) - 2]) == ([by] if by else [])
    assert set(FLOW_COLUMNS) <= set(f.columns)
    if with_status:
        status_cols = [c for c in f.columns if c.startswith("status_")]
        assert (f[status_cols].sum(axis=1) == f["firms"]).all()
        for s in ("pending", "approved", "rejected"):
            if f"status_{s}" in f.columns:
                assert f[f"status_{s}"].sum() == int((moves["status"] == s).sum())
    else:
        assert not any(c.startswith("status_") for c in f.columns)
    for _, grp in (f.groupby(by) if by else [(None, f)]):  # largest flows first
        assert grp["firms"].is_monotonic_decreasing
    assert set(f["origin_city"]) <= set(CITY.values())


def test_counties_from_geometry_equal_the_given_codes():
    counties, parks, ents, rng = world(7)
    a = plan(rng, ents, parks)
    given_codes = county_flows(a, ents, parks, counties)
    derived = county_flows(a, ents.drop(columns="county_code").to_crs(4326), parks.drop(columns="county_code"),
                           counties.to_crs(4326), metric_crs=METRIC)
    pd.testing.assert_frame_equal(given_codes, derived)


def test_explicit_counties_win_over_the_enterprise_and_park():
    counties, parks, ents, rng = world(1)
    cand = pd.DataFrame({"enterprise_id": ["E000", "E001"], "park_id": ["P0", "P1"], "status": ["pending", "approved"],
                         "origin_county_code": ["330101", "330101"], "destination_county_code": ["330202", "330202"]})
    f = county_flows(cand, ents, parks, counties)
    assert f[["origin_county", "destination_county", "destination_city", "firms", "status_pending", "status_approved"]] \
        .values.tolist() == [["县330101", "县330202", "宁波市", 2, 1, 1]]


def test_empty_plan_gives_an_empty_table():
    counties, parks, ents, _ = world(2)
    f = county_flows(pd.DataFrame({"enterprise_id": ["E000"], "park_id": [None]}), ents, parks, counties)
    assert f.empty and list(f.columns) == list(FLOW_COLUMNS)


def test_bad_input_is_named():
    counties, parks, ents, rng = world(3)
    a = plan(rng, ents, parks)
    with pytest.raises(FlowsError, match=r"assignments lack column\(s\) park_id"):
        county_flows(a.drop(columns="park_id"), ents, parks, counties)
    bad = a.copy()
    bad.loc[bad.index[0], "park_id"] = "P99"
    with pytest.raises(FlowsError, match="not in parks: P99"):
        county_flows(bad, ents, parks, counties)
    with pytest.raises(FlowsError, match="no county_code column"):
        county_flows(a, pd.DataFrame(ents.drop(columns=["county_code", "geometry"])), parks, counties)
    with pytest.raises(FlowsError, match=r"counties lack column\(s\) city"):
        county_flows(a, ents, parks, counties.drop(columns="city"))
