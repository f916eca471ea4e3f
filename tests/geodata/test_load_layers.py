"""``load_dataset(path, layers=...)`` reads the rows of the named layers only; the others come back empty
with the file's columns, types and CRS."""

from __future__ import annotations

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from geodata.dataset import SPATIAL_LAYERS, TABLE_LAYERS, DatasetError, load_dataset


@pytest.fixture(scope="module")
def full(dataset_path):
    return load_dataset(dataset_path)


def test_only_the_named_layers_have_rows(dataset_path, full):
    part = load_dataset(dataset_path, layers=("counties", "parks"))
    for name in SPATIAL_LAYERS + TABLE_LAYERS:
        got, want = getattr(part, name), getattr(full, name)
        if name in ("counties", "parks"):
            assert_frame_equal(pd.DataFrame(got), pd.DataFrame(want))
            assert len(got) > 0
        else:
            assert len(got) == 0, name
            assert list(got.columns) == list(want.columns), name
            assert got.dtypes.astype(str).to_dict() == want.dtypes.astype(str).to_dict(), name
        if name in SPATIAL_LAYERS:
            assert got.crs == want.crs, name
    assert part.metadata == full.metadata and part.path == full.path


def test_a_list_and_the_province_for_the_metric_crs(dataset_path, full):
    part = load_dataset(dataset_path, layers=["province"])
    assert part.metric_crs == full.metric_crs
    assert len(part.enterprises) == 0 and len(part.province) == len(full.province)


def test_no_layers_reads_none_and_none_reads_all(dataset_path, full):
    empty = load_dataset(dataset_path, layers=())
    assert all(len(getattr(empty, n)) == 0 for n in SPATIAL_LAYERS + TABLE_LAYERS)
    assert len(full.enterprises) > 0 and len(full.projects) > 0


@pytest.mark.parametrize("layers, match", [
    (("parks", "park"), r"unknown layer 'park'; accepted: province, cities"),
    ("parks", r"sequence of layer names, got the string 'parks'"),
])
def test_bad_layer_names_are_refused_by_name(dataset_path, layers, match):
    with pytest.raises(DatasetError, match=match):
        load_dataset(dataset_path, layers=layers)
