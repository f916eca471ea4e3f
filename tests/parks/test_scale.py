"""The Dask path gives the in-memory results row for row, on a local two-worker cluster."""

from __future__ import annotations

import dask  # noqa: F401 - hard dependencies: a broken install fails here, never skips
import dask_geopandas
import distributed  # noqa: F401
import numpy as np
import pandas as pd
import pytest

from parks import scale


@pytest.fixture(scope="module")
def client():
    """Two worker processes, one thread each (what a small real cluster looks like)."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                      memory_limit="2GiB") as cluster, Client(cluster) as c:
        yield c


@pytest.fixture(scope="module")
def raw_enterprises(dataset):
    """The stored enterprise columns only (what a register in GeoParquet carries)."""
    derived = [c for c in dataset.enterprises.columns if c in (
        "county_code", "county_name", "city", "less_developed", "coastal", "park_id", "park_distance_m",
        "park_match", "city_centre_km", "in_urban_core")]
    return dataset.enterprises.drop(columns=derived)


@pytest.fixture(scope="module")
def parquet_dir(raw_enterprises, tmp_path_factory):
    from geodata.parquet import write_enterprises_parquet

    return write_enterprises_parquet(raw_enterprises, tmp_path_factory.mktemp("pq") / "enterprises",
                                     partition_rows=700)


@pytest.fixture(scope="module")
def joined_dask(client, parquet_dir, dataset):
    from geodata.parquet import read_enterprises_parquet

    return scale.join_partitioned(read_enterprises_parquet(parquet_dir), dataset).persist()


def test_join_matches_prepare_row_for_row(joined_dask, dataset):
    got = joined_dask.compute().reset_index(drop=True)
    assert joined_dask.npartitions == 5  # 3000 rows / 700 per file
    want = dataset.enterprises.reset_index(drop=True)
    assert list(got.columns) == list(want.columns)
    pd.testing.assert_frame_equal(got.drop(columns="geometry"), want.drop(columns="geometry"), check_dtype=False)
    assert got.geometry.geom_equals_exact(want.geometry, tolerance=0).all()
    assert got["park_id"].notna().sum() > 0  # the comparison is not vacuous


def test_join_engine_memory_equals_dask(client, raw_enterprises, dataset):
    mem = scale.join(raw_enterprises, dataset, engine="memory")
    dsk = scale.join(raw_enterprises, dataset, engine="dask", npartitions=3).compute().reset_index(drop=True)
    pd.testing.assert_frame_equal(mem.drop(columns="geometry"), dsk.drop(columns="geometry"), check_dtype=False)


def test_batch_suitability_matches_in_memory(client, joined_dask, dataset):
    from parks.suitability import context_from_dataset
    from parks.suitability.batch import score_batch

    ctx = context_from_dataset(dataset)
    want = score_batch(ctx, dataset.enterprises, top=3)
    top, summary = scale.score_batch(ctx, joined_dask, engine="dask", top=3)
    pd.testing.assert_frame_equal(top, want.top.reset_index(drop=True), check_dtype=False)
    pd.testing.assert_frame_equal(summary, want.summary.reset_index(drop=True), check_dtype=False)
    assert len(top) > len(dataset.enterprises)  # top-3 rows for most enterprises


def test_partitioned_context_equals_population_context(client, joined_dask, dataset):
    from parks.suitability import context_from_dataset

    want = context_from_dataset(dataset)
    got = scale.context_partitioned(dataset, joined_dask)
    np.testing.assert_array_equal(got.park_ids, want.park_ids)
    np.testing.assert_allclose(got.sector_share, want.sector_share, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.supply_raw, want.supply_raw, rtol=1e-9)
    np.testing.assert_allclose(got.labour_pool, want.labour_pool, rtol=1e-12)
    assert want.supply_raw.sum() > 0 and want.labour_pool.sum() > 0
    # and the population tables the scenarios read
    assert got.county_sector.keys() == want.county_sector.keys()
    for c in want.county_sector:
        np.testing.assert_array_equal(got.county_sector[c], want.county_sector[c])
        np.testing.assert_array_equal(got.county_leaders[c], want.county_leaders[c])
    assert got.supplier_links.keys() == want.supplier_links.keys()
    for sup, (x, y, w) in want.supplier_links.items():
        for a, b in zip(got.supplier_links[sup], (x, y, w)):
            np.testing.assert_allclose(a, b, rtol=1e-12)
    assert got.shanhai_pairs == want.shanhai_pairs
    # and it scores the same parks
    from parks.suitability.batch import score_batch

    a = score_batch(want, dataset.enterprises.iloc[:300], top=2).top
    b = score_batch(got, dataset.enterprises.iloc[:300], top=2).top
    pd.testing.assert_series_equal(a["park_id"], b["park_id"])
    np.testing.assert_allclose(a["score"], b["score"], rtol=1e-9)


@pytest.mark.parametrize("by", ["sector", "county_code", "all"])
def test_capture_matches_in_memory(client, joined_dask, dataset, by):
    from parks.metrics.capture import park_capture

    want = park_capture(dataset.enterprises, dataset.projects, by=by)
    got = scale.park_capture_partitioned(joined_dask, dataset.projects, by=by)
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-12)


def test_capture_all_groupings_in_one_pass(client, joined_dask, dataset):
    from parks.metrics.capture import park_capture

    got = scale.park_capture_partitioned(joined_dask, dataset.projects, by=("sector", "county_code", "all"))
    assert list(got) == ["sector", "county_code", "all"]
    for by, frame in got.items():
        pd.testing.assert_frame_equal(frame, park_capture(dataset.enterprises, dataset.projects, by=by),
                                      check_dtype=False, rtol=1e-12)


def test_errors_name_the_accepted_values(raw_enterprises, dataset):
    with pytest.raises(scale.ScaleError, match="engine 'spark' not accepted; accepted: memory, dask"):
        scale.join(raw_enterprises, dataset, engine="spark")
    with pytest.raises(scale.ScaleError, match="needs a dask_geopandas.GeoDataFrame"):
        scale.join_partitioned(raw_enterprises, dataset)
    ddf = dask_geopandas.from_geopandas(raw_enterprises, npartitions=2)
    with pytest.raises(scale.ScaleError, match="lack column.*'park_id'.*join them first"):
        scale.park_capture_partitioned(ddf, by="sector")
    with pytest.raises(scale.ScaleError, match="by 'city' not accepted; accepted: sector, county_code, all"):
        scale.park_capture_partitioned(ddf, by=("sector", "city"))


@pytest.mark.parametrize("dtype", ["string[pyarrow]", "str", object])
def test_investment_lookup_equals_map(dtype):
    """The capture's investment per row (an Arrow hash lookup for Arrow-backed ids) is the values of
    ``ids.map(investment).fillna(0)``: ids with and without projects, missing ids, ids the projects name twice."""
    rng = np.random.default_rng(5)
    ids = [f"E{i}" for i in rng.integers(0, 5000, 20_000)]
    ids[::97] = [None] * len(ids[::97])
    series = pd.Series(pd.array(ids, dtype=dtype) if dtype is not object else np.array(ids, dtype=object))
    projects = pd.DataFrame({"enterprise_id": [f"E{i}" for i in rng.integers(0, 8000, 3000)],
                             "investment": rng.gamma(2.0, 50.0, 3000)})
    investment = scale.project_investment(projects)
    got = scale._investment_of(series, investment)
    want = series.map(investment).fillna(0.0).to_numpy(float)
    np.testing.assert_array_equal(got, want)
    assert (got > 0).sum() > 100  # not vacuous
