"""The Dask path's per-partition pieces, checked without a cluster (Dask's synchronous scheduler):
the population sums of the context against ``build_context`` on odd partitions, and the layers a join
partition is shipped."""

from __future__ import annotations

from dataclasses import replace

import dask
import numpy as np
import pandas as pd
import pytest

from parks import scale


@pytest.fixture(scope="module")
def odd_population(dataset):
    """The session's joined enterprises with the values a register has: enterprises outside every park,
    without a county, and a missing chain-leader flag."""
    ent = dataset.enterprises.reset_index(drop=True).copy()
    ent.loc[ent.index[::7], "park_id"] = None
    ent.loc[ent.index[3::50], "county_code"] = None
    if "chain_leader" in ent.columns:
        ent["chain_leader"] = ent["chain_leader"].astype(object)
        ent.loc[ent.index[5::40], "chain_leader"] = None
    return ent


def test_partition_sums_equal_build_context(dataset, odd_population):
    """Summed over uneven partitions (one empty, one of a single row), the context's population inputs are
    build_context's over the whole population."""
    from parks.suitability import context_from_dataset

    ent = odd_population
    want = context_from_dataset(replace(dataset, enterprises=ent))
    cuts = [0, 0, 1, 700, 701, 1900, len(ent)]  # an empty partition, a one-row one, uneven sizes
    pieces = [ent.iloc[a:b] for a, b in zip(cuts, cuts[1:])]
    assert len(pieces[0]) == 0 and len(pieces[1]) == 1
    import dask_geopandas

    lazy = dask_geopandas.from_geopandas(ent, npartitions=2)
    with dask.config.set(scheduler="sync"):
        got = scale.context_partitioned(dataset, lazy, parts=[dask.delayed(p) for p in pieces])
    assert got.metadata["partitions"] == len(pieces)
    np.testing.assert_array_equal(got.park_ids, want.park_ids)
    np.testing.assert_allclose(got.sector_share, want.sector_share, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(got.supply_raw, want.supply_raw, rtol=1e-9)
    np.testing.assert_allclose(got.labour_pool, want.labour_pool, rtol=1e-12)
    assert ent["county_code"].isna().any()  # enterprises without a county are in no county's row
    assert got.county_sector.keys() == want.county_sector.keys()
    for c in want.county_sector:
        np.testing.assert_array_equal(got.county_sector[c], want.county_sector[c])
        np.testing.assert_array_equal(got.county_leaders[c], want.county_leaders[c])
    assert want.supplier_links  # the suppliers table names enterprises of the population: not vacuous
    assert got.supplier_links.keys() == want.supplier_links.keys()
    for sup, arrays in want.supplier_links.items():
        for a, b in zip(got.supplier_links[sup], arrays):
            np.testing.assert_allclose(a, b, rtol=1e-12)
    assert (want.sector_share.sum(axis=1) > 0).any() and want.supply_raw.sum() > 0


def test_layers_ship_no_register_table(dataset):
    """What every join partition is sent: the boundaries, parks and urban cores, none of the tables that
    grow with the register (enterprise_years alone is six rows per enterprise)."""
    big = replace(dataset, enterprise_years=pd.concat([dataset.enterprise_years] * 3, ignore_index=True))
    small = scale.layers(big)
    for name in ("enterprises", "projects", "import_log", "suppliers", "fixed_asset_investment", "enterprise_years"):
        assert len(getattr(small, name)) == 0, name
        assert list(getattr(small, name).columns) == list(getattr(big, name).columns), name
    assert len(big.enterprise_years) > 0 and len(big.suppliers) > 0  # not vacuous
    for name in ("province", "catalogue", "protected_areas"):
        pd.testing.assert_frame_equal(getattr(small, name), getattr(big, name))
    # the layers the join projects come projected once, to the same metric CRS (the province is kept)
    assert small.metric_crs == big.metric_crs
    for name in ("counties", "parks", "urban_boundaries"):
        assert getattr(small, name).crs == big.metric_crs and getattr(big, name).crs != big.metric_crs, name
        pd.testing.assert_frame_equal(getattr(small, name), getattr(big, name).to_crs(big.metric_crs))
    assert small.path is None
    # and a partition joined against them gets prepare's columns
    raw = dataset.enterprises.iloc[:200]
    from parks.joins import prepare

    pd.testing.assert_frame_equal(scale.join_partition(raw, small).drop(columns="geometry"),
                                  prepare(replace(dataset, enterprises=raw)).enterprises.drop(columns="geometry"))


def test_capture_sums_in_one_pass_equal_capture_sums_per_grouping(odd_population, dataset):
    """The partition's capture sums of the three groupings from one set of per-enterprise values are
    ``capture_sums`` of each grouping, frame for frame (enterprises without a county in no county's row)."""
    from parks.metrics.capture import capture_sums

    groupings = ("sector", "county_code", "all")
    investment = scale.project_investment(dataset.projects)
    assert investment is not None and investment.sum() > 0
    for part in (odd_population, odd_population.iloc[:1], odd_population.iloc[:0]):
        got = scale.capture_sums_partition(part, investment, groupings)
        for by in groupings:
            total, inside = capture_sums(part, investment, by)
            pd.testing.assert_frame_equal(got[by], total.join(inside.add_suffix("_in")))
    got = scale.capture_sums_partition(odd_population, None, groupings)["county_code"]
    assert (got["investment"] == 0).all() and got["one"].sum() == odd_population["county_code"].notna().sum()


def test_context_graph_holds_the_parks_inputs_once(dataset, odd_population):
    """The parks' inputs of the context's partition sums (positions, links, the suppliers' ids) are one key
    of the graph that every partition's task refers to, not a copy embedded in each task."""
    import pickle

    import dask_geopandas

    graphs: list[dict] = []

    def recording_get(dsk, keys, **kwargs):
        graphs.append(dict(dsk.__dask_graph__() if hasattr(dsk, "__dask_graph__") else dsk))
        return dask.get(dsk, keys, **kwargs)

    pieces = [odd_population.iloc[i::4] for i in range(4)]
    lazy = dask_geopandas.from_geopandas(odd_population, npartitions=2)
    with dask.config.set(scheduler=recording_get):
        got = scale.context_partitioned(dataset, lazy, parts=[dask.delayed(p) for p in pieces])
    park_xy = np.column_stack([got.park_x, got.park_y]).tobytes()
    dumped = [pickle.dumps(v) for g in graphs for v in g.values()]
    assert sum(park_xy in d for d in dumped) == 1
    assert sum(b"_population_sums" in d for d in dumped) == len(pieces)  # one task per partition
