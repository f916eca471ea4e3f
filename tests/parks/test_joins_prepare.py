"""``parks.joins.prepare`` against the same joins written with the public steps and label lookups (the
way it was written before it went by row position), and its helpers against shapely and pyproj.

The hard cases: enterprises on a shared county boundary (a vertex of two outlines), on a park's edge,
just outside a park, far outside the province (no county, no city), a missing and an empty point; a
register with duplicated enterprise ids; no enterprises at all.
"""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_array_equal

from parks.joins import assign_counties, assign_parks, prepare, project_fields, urban_core_flags
from parks.joins import _projected_xy


def _reference_prepare(ds, max_park_distance_m=300.0, urban_core_km=None):
    """The enterprises as ``prepare`` returns them, from the public functions and lookups by label."""
    crs = ds.metric_crs
    ent = ds.enterprises
    pts = ent.geometry.to_crs(crs)
    county = assign_counties(pts, ds.counties.to_crs(crs))
    info = ds.counties.set_index("code")[["name", "city", "less_developed", "coastal"]].reindex(county.to_numpy())
    joined = pd.DataFrame({"county_code": county}, index=ent.index)
    joined["county_name"] = info["name"].to_numpy()
    joined["city"] = info["city"].to_numpy()
    joined["less_developed"] = info["less_developed"].fillna(False).astype(bool).to_numpy()
    joined["coastal"] = info["coastal"].fillna(False).astype(bool).to_numpy()
    joined = joined.join(assign_parks(pts, ds.parks.to_crs(crs), max_distance_m=max_park_distance_m))
    joined = joined.join(urban_core_flags(pts, joined["city"], ds.urban_boundaries.to_crs(crs), radius_km=urban_core_km))
    base = ent.drop(columns=[c for c in joined.columns if c in ent.columns])
    return gpd.GeoDataFrame(pd.concat([base.drop(columns="geometry"), joined], axis=1), geometry=ent.geometry, crs=ent.crs)


@pytest.fixture(scope="module")
def hard(raw_dataset):
    """The small dataset with enterprises appended at the hard places (in WGS 84, as stored)."""
    ds = raw_dataset
    counties, parks = ds.counties, ds.parks
    # a vertex shared by two county outlines
    a, b = counties.geometry.iloc[0], None
    for g in counties.geometry.iloc[1:]:
        if a.touches(g) or a.intersects(g):
            b = g
            break
    shared = shapely.intersection(a.boundary, b.boundary)
    on_shared = shapely.get_coordinates(shared)[len(shapely.get_coordinates(shared)) // 2]
    park = parks.geometry.iloc[0]
    on_edge = shapely.get_coordinates(park.exterior if park.geom_type == "Polygon" else park.geoms[0].exterior)[0]
    lon0, lat0 = park.centroid.x, park.centroid.y
    extra = [
        shapely.Point(on_shared),                          # shared county boundary
        shapely.Point(on_edge),                            # a park's vertex (not within it)
        shapely.Point(park.bounds[2] + 0.001, lat0),       # about 100 m east of the park's bounding box
        shapely.Point(lon0, lat0),                         # the park's centroid
        shapely.Point(60.0, 10.0),                         # far outside: no county, no city
        None,                                              # missing
        shapely.Point(),                                   # empty
    ]
    ent = ds.enterprises
    rows = ent.iloc[[0] * len(extra)].copy()
    rows["enterprise_id"] = [f"HARD{i}" for i in range(len(extra))]
    rows = rows.set_geometry(gpd.GeoSeries(extra, crs=ent.crs, index=rows.index))
    enterprises = pd.concat([ent, rows], ignore_index=True)
    return replace(ds, enterprises=gpd.GeoDataFrame(enterprises, geometry="geometry", crs=ent.crs))


@pytest.mark.parametrize("max_park_distance_m,urban_core_km", [(300.0, None), (0.0, None), (300.0, 5.0), (2000.0, 30.0)])
def test_prepare_equals_the_public_steps(hard, max_park_distance_m, urban_core_km):
    got = prepare(hard, max_park_distance_m=max_park_distance_m, urban_core_km=urban_core_km)
    ref = _reference_prepare(hard, max_park_distance_m, urban_core_km)
    pd.testing.assert_frame_equal(got.enterprises, ref, check_exact=True)
    e = got.enterprises.set_index("enterprise_id")
    # the hard rows: not vacuous
    assert e.loc["HARD4", "county_code"] is None and pd.isna(e.loc["HARD4", "city"])
    assert not e.loc["HARD4", "less_developed"] and not e.loc["HARD4", "in_urban_core"]
    assert np.isnan(e.loc["HARD4", "city_centre_km"])
    for missing in ("HARD5", "HARD6"):
        assert e.loc[missing, "county_code"] is None and pd.isna(e.loc[missing, "park_id"])
    assert e.loc["HARD0", "county_code"] is not None  # on the shared boundary: a county (the lower index)
    assert e.loc["HARD3", "park_match"] == "within"
    if max_park_distance_m == 0:
        assert set(got.enterprises["park_match"].dropna()) == {"within"}


def test_prepare_gives_the_lower_index_county_on_a_shared_boundary(hard):
    got = prepare(hard).enterprises.set_index("enterprise_id")
    pt = hard.enterprises.set_index("enterprise_id").geometry["HARD0"]
    crs = hard.metric_crs
    counties = hard.counties.to_crs(crs)
    p = gpd.GeoSeries([pt], crs=hard.enterprises.crs).to_crs(crs).iloc[0]
    touching = [c for c, g in zip(counties["code"], counties.geometry) if g.intersects(p)]
    assert len(touching) >= 1
    assert got.loc["HARD0", "county_code"] == touching[0]


def test_projected_xy_equals_to_crs(hard):
    crs = hard.metric_crs
    geom = hard.enterprises.geometry
    x, y = _projected_xy(geom, crs)
    ref = geom.to_crs(crs)
    present = ~(ref.isna() | ref.is_empty).to_numpy()
    assert_array_equal(x[present], ref[present].x.to_numpy())  # the same numbers, not close ones
    assert_array_equal(y[present], ref[present].y.to_numpy())
    assert np.isnan(x[~present]).all() and np.isnan(y[~present]).all() and (~present).sum() == 2
    # already in the target CRS: the coordinates as they are
    x2, y2 = _projected_xy(ref, crs)
    assert_array_equal(x2[present], x[present])


def test_urban_core_flags_equal_shapely_point_by_point(dataset):
    crs = dataset.metric_crs
    ent = dataset.enterprises
    pts = ent.geometry.to_crs(crs)
    ub = dataset.urban_boundaries.to_crs(crs)
    got = urban_core_flags(pts, ent["city"], ub)
    by_city = dict(zip(ub["city"], ub.geometry))
    centres = gpd.GeoSeries(gpd.points_from_xy(ub["centre_lon"], ub["centre_lat"]), crs=4326).to_crs(crs)
    centre = dict(zip(ub["city"], centres))
    for i in range(0, len(ent), 5):
        city, p = ent["city"].iloc[i], pts.iloc[i]
        assert got["in_urban_core"].iloc[i] == (city in by_city and by_city[city].contains(p))
        if city in centre:
            assert got["city_centre_km"].iloc[i] == pytest.approx(p.distance(centre[city]) / 1000.0, rel=1e-12)
        else:
            assert np.isnan(got["city_centre_km"].iloc[i])
    assert got["in_urban_core"].sum() > 0 and (~got["in_urban_core"]).sum() > 0


def test_prepare_leaves_its_input_as_it_was(hard):
    before = hard.enterprises.copy()
    out = prepare(hard)
    out.enterprises.loc[0, "employees"] = -1  # a change to the result does not reach the input
    out.enterprises.loc[0, "county_code"] = "x"
    pd.testing.assert_frame_equal(hard.enterprises, before)


def test_prepare_with_no_enterprises(raw_dataset):
    ds = replace(raw_dataset, enterprises=raw_dataset.enterprises.iloc[:0])
    got = prepare(ds).enterprises
    ref = _reference_prepare(ds)
    assert len(got) == 0
    assert list(got.columns) == list(ref.columns)


def test_project_fields_first_row_per_enterprise_id(dataset):
    ent = dataset.enterprises
    # a register with one id twice (the second row in another park) and a project of an unknown enterprise
    dup = ent.iloc[[5]].copy()
    dup["park_id"] = "ELSEWHERE"
    dup["county_code"] = "999999"
    register = pd.concat([ent, dup], ignore_index=True)
    projects = dataset.projects.copy()
    projects.loc[projects.index[0], "enterprise_id"] = ent["enterprise_id"].iloc[5]
    projects.loc[projects.index[1], "enterprise_id"] = "NOT-THERE"
    got = project_fields(projects, register)
    # reference: every enterprise's first row, looked up by label
    info = register.drop_duplicates("enterprise_id").set_index("enterprise_id")
    looked = info.reindex(projects["enterprise_id"].to_numpy())
    def values(s):
        return [None if pd.isna(v) else v for v in s]

    for c in ("park_id", "county_code", "county_name", "city"):
        assert values(got[c]) == values(looked[c]), c
    assert_array_equal(got["less_developed"].to_numpy(), looked["less_developed"].fillna(False).astype(bool).to_numpy())
    assert got["county_code"].iloc[0] == ent["county_code"].iloc[5] != "999999"
    assert pd.isna(got["park_id"].iloc[1]) and pd.isna(got["county_code"].iloc[1])


def test_prepare_keeps_a_partitions_index_and_order(hard):
    """A Dask partition's enterprises: an index that is not 0..n-1 and rows in another order."""
    ent = hard.enterprises.iloc[::-1]
    ent = ent.set_axis(pd.Index(np.arange(len(ent)) * 3 + 500_000), axis=0)
    ds = replace(hard, enterprises=ent)
    got = prepare(ds).enterprises
    pd.testing.assert_frame_equal(got, _reference_prepare(ds), check_exact=True)
    assert_array_equal(got.index.to_numpy(), ent.index.to_numpy())
