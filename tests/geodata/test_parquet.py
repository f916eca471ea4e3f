"""Partitioned GeoParquet of enterprises: round trip, order, partitions, errors."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geodata.parquet import (ParquetStoreError, enterprise_parquet_files, read_enterprises_parquet,
                             read_enterprises_parquet_frame, write_enterprises_parquet)


@pytest.fixture
def frame():
    n = 23
    return gpd.GeoDataFrame(
        {"enterprise_id": [f"E{i:03d}" for i in range(n)], "sector": ["textiles"] * n, "employees": np.arange(n),
         "revenue": np.linspace(1e6, 2e7, n)},
        geometry=shapely.points(np.c_[120 + np.arange(n) / 50, 29 + np.arange(n) / 70]), crs=4326,
        index=np.arange(100, 100 + n))


def test_round_trip_keeps_rows_order_and_crs(frame, tmp_path):
    d = write_enterprises_parquet(frame, tmp_path / "e", partition_rows=5)
    assert [f.name for f in enterprise_parquet_files(d)] == [f"part.0000{i}.parquet" for i in range(5)]
    back = read_enterprises_parquet_frame(d)
    assert back.crs.to_epsg() == 4326
    pd.testing.assert_frame_equal(back, frame.reset_index(drop=True))


def test_dask_read_one_partition_per_file(frame, tmp_path):
    d = write_enterprises_parquet(frame, tmp_path / "e", partition_rows=10)
    ddf = read_enterprises_parquet(d, columns=["enterprise_id"])
    assert ddf.npartitions == 3
    got = ddf.compute()
    assert list(got.columns) == ["enterprise_id", "geometry"]
    assert got["enterprise_id"].tolist() == frame["enterprise_id"].tolist()


def test_overwrite_is_explicit_and_atomic(frame, tmp_path):
    d = write_enterprises_parquet(frame, tmp_path / "e")
    with pytest.raises(ParquetStoreError, match="exists; pass overwrite=True"):
        write_enterprises_parquet(frame, d)
    write_enterprises_parquet(frame.iloc[:3], d, overwrite=True)
    assert len(read_enterprises_parquet_frame(d)) == 3
    assert [p.name for p in tmp_path.iterdir()] == ["e"]  # no temporary directory left behind


def test_errors(frame, tmp_path):
    with pytest.raises(ParquetStoreError, match="does not exist"):
        enterprise_parquet_files(tmp_path / "missing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ParquetStoreError, match="holds no .parquet files"):
        enterprise_parquet_files(tmp_path / "empty")
    with pytest.raises(ParquetStoreError, match="partition_rows must be >= 1"):
        write_enterprises_parquet(frame, tmp_path / "x", partition_rows=0)
    with pytest.raises(ParquetStoreError, match="no CRS"):
        write_enterprises_parquet(frame.set_crs(None, allow_override=True), tmp_path / "x")
    with pytest.raises(TypeError, match="must be a GeoDataFrame"):
        write_enterprises_parquet(pd.DataFrame(frame), tmp_path / "x")
