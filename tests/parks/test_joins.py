"""Joins against a brute-force reference (shapely predicates pair by pair)."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from parks.joins import assign_counties, assign_parks, park_profiles, prepare, urban_core_flags


@pytest.fixture(scope="module")
def metric(dataset):
    crs = dataset.metric_crs
    return dataset.enterprises.to_crs(crs), dataset.parks.to_crs(crs), dataset.counties.to_crs(crs)


def test_park_join_matches_brute_force(metric):
    ent, parks, _ = metric
    got = assign_parks(ent.geometry, parks, max_distance_m=300)
    pts = ent.geometry.to_numpy()
    for i in range(0, len(ent), 7):  # every 7th point, all 200 parks each
        within = [pid for pid, g in zip(parks["park_id"], parks.geometry) if g.contains(pts[i])]
        if within:
            assert got["park_id"].iloc[i] == within[0]
            assert got["park_match"].iloc[i] == "within"
            continue
        d = shapely.distance(parks.geometry.to_numpy(), pts[i])
        if d.min() <= 300:
            assert got["park_id"].iloc[i] == parks["park_id"].iloc[int(np.argmin(d))]
            assert got["park_distance_m"].iloc[i] == pytest.approx(d.min())
        else:
            assert pd.isna(got["park_id"].iloc[i]) and np.isnan(got["park_distance_m"].iloc[i])


def test_zero_distance_means_within_only(metric):
    ent, parks, _ = metric
    got = assign_parks(ent.geometry, parks, max_distance_m=0)
    assert set(got["park_match"].dropna()) == {"within"}


def test_county_join_matches_brute_force(metric):
    ent, _, counties = metric
    got = assign_counties(ent.geometry, counties)
    pts = ent.geometry.to_numpy()
    for i in range(0, len(ent), 11):
        hit = [c for c, g in zip(counties["code"], counties.geometry) if g.intersects(pts[i])]
        assert got.iloc[i] == (hit[0] if hit else got.iloc[i])
        assert got.iloc[i] is not None


def test_degrees_are_refused(dataset):
    with pytest.raises(ValueError, match="projected"):
        assign_parks(dataset.enterprises.geometry, dataset.parks)


def test_urban_core_radius_option(dataset):
    crs = dataset.metric_crs
    pts = dataset.enterprises.geometry.to_crs(crs)
    flags = urban_core_flags(pts, dataset.enterprises["city"], dataset.urban_boundaries.to_crs(crs), radius_km=5)
    assert ((flags["city_centre_km"] <= 5) == flags["in_urban_core"]).all()
    poly = dataset.enterprises["in_urban_core"]
    assert 0.05 < poly.mean() < 0.4


def test_prepare_adds_columns_without_touching_input(raw_dataset):
    before = raw_dataset.enterprises.copy()
    out = prepare(raw_dataset)
    for col in ["county_code", "city", "less_developed", "coastal", "park_id", "park_distance_m", "in_urban_core"]:
        assert col in out.enterprises
    assert "park_id" not in raw_dataset.enterprises
    pd.testing.assert_frame_equal(before, raw_dataset.enterprises)


def test_park_profiles_sum_up(dataset):
    prof = park_profiles(dataset)
    assert len(prof) == 200
    inside = dataset.enterprises[dataset.enterprises["park_id"].notna()]
    assert prof["enterprises"].sum() == len(inside)
    assert prof["employees"].sum() == inside["employees"].sum()
    sector_cols = [c for c in prof if c.startswith("n_")]
    assert (prof[sector_cols].sum(axis=1) == prof["enterprises"]).all()
    assert prof["share_above_size"].between(0, 1).all()
