"""The column-wise builders of the batch equal the row-wise ones they replace.

``enterprise_arrays`` (codes and distinct catalogue keys) against ``context._arrays`` (row by row,
still used for one enterprise), and the batch's Arrow-built text columns against pandas' own
construction from the object arrays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parks.suitability import batch as B
from parks.suitability import context as C


def rowwise(ctx, frame):
    """``enterprise_arrays`` as it was: ``to_crs`` then ``_arrays`` over Python lists."""
    if "geometry" in frame.columns:
        metric = frame.to_crs(ctx.metric_crs)
        x, y = metric.geometry.x.to_numpy(float), metric.geometry.y.to_numpy(float)
    else:
        x, y = frame["x"].to_numpy(float), frame["y"].to_numpy(float)
    n = len(frame)

    def col(name):
        return frame[name].astype(object).where(frame[name].notna(), None).tolist() if name in frame.columns else [None] * n

    return C._arrays(ctx, frame["enterprise_id"].astype(str).tolist(), x, y, frame["sector"].tolist(),
                     pd.to_numeric(frame["land_ha"]).to_numpy(float), pd.to_numeric(frame["employees"]).to_numpy(float),
                     frame["pollution_class"].tolist(), col("product"), col("size"), col("catalogue_level"),
                     col("park_id"), col("county_code"), col("city"))


def assert_same_arrays(a, b):
    for f in a.__dataclass_fields__:
        va, vb = getattr(a, f), getattr(b, f)
        assert va.dtype == vb.dtype and va.shape == vb.shape, f
        assert [type(v) for v in va.tolist()] == [type(v) for v in vb.tolist()], f
        np.testing.assert_array_equal(va, vb, err_msg=f, strict=True)


def variants(frame):
    f = frame.copy()
    yield "as is", f
    g = f.copy()
    g.loc[g.index[::7], "park_id"] = None
    g.loc[g.index[::5], "product"] = None
    g["catalogue_level"] = np.where(np.arange(len(g)) % 11 == 0, "restricted", None)
    g["city"] = np.where(np.arange(len(g)) % 3 == 0, "乙市", None)
    yield "missing values, explicit levels, cities", g
    h = f.drop(columns=["product", "size", "park_id"])
    h["county_code"] = pd.to_numeric(h["county_code"])  # codes as numbers
    yield "columns absent, numeric county codes", h
    yield "empty", f.iloc[:0]
    x = pd.DataFrame(f.drop(columns="geometry"))
    m = f.to_crs(4549)
    x["x"], x["y"] = m.geometry.x.to_numpy(), m.geometry.y.to_numpy()
    yield "plain frame with metric x/y", x


@pytest.mark.parametrize("seed", [0, 3])
def test_enterprise_arrays_equal_the_row_builder(W, seed):
    ctx, w = W.world_context(seed, n_enterprises=300)
    for name, frame in variants(w["enterprises"]):
        assert_same_arrays(C.enterprise_arrays(ctx, frame), rowwise(ctx, frame))


def test_enterprise_arrays_on_the_built_in_dataset(dataset):
    from parks.suitability import context_from_dataset

    ctx = context_from_dataset(dataset)
    assert_same_arrays(C.enterprise_arrays(ctx, dataset.enterprises), rowwise(ctx, dataset.enterprises))


@pytest.mark.parametrize("vocab, codes", [
    (np.array(["a", "b", None], dtype=object), [0, 1, 2, -1, 0]),
    (np.array(["a", "b"], dtype=object), [-1, -1]),
    (np.array([None, None], dtype=object), [0, 1]),
    (np.array([1, 2], dtype=object), [0, 1, -1]),
    (np.array(["a", np.nan], dtype=object), [0, 1]),
    (np.array(["a"], dtype=object), []),
    (np.array(["园区", "x"], dtype=object), [1, 0]),
])
def test_text_columns_as_pandas_builds_them(vocab, codes):
    codes = np.asarray(codes, dtype=np.intp)
    expected = pd.Series(np.append(vocab, None)[codes])
    got = pd.Series(B._text(vocab, codes))
    assert got.dtype == expected.dtype
    pd.testing.assert_series_equal(got, expected, check_exact=True)
