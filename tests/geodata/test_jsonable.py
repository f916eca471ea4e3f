"""geodata.jsonable: the one numpy/pandas -> JSON converter."""

import datetime as dt
import json
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geodata.jsonable import dumps, json_default, jsonable

_NUMPY_INTS = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64)
_NUMPY_FLOATS = (np.float16, np.float32, np.float64)


def _tagged_ints():
    """(value, expected) where expected is the Python int by ``.item()`` (numpy's own conversion)."""
    def one(t):
        info = np.iinfo(t)
        return st.integers(int(info.min), int(info.max)).map(lambda i: (t(i), i))
    return st.one_of(st.integers(-2**62, 2**62).map(lambda i: (i, i)), *(one(t) for t in _NUMPY_INTS))


def _tagged_floats():
    def one(t):
        return st.floats(allow_nan=True, allow_infinity=True, width=np.finfo(t).bits).map(
            lambda x: (t(x), None if not math.isfinite(x) else float(t(x).item())))
    return st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(
        lambda x: (x, x if math.isfinite(x) else None)), *(one(t) for t in _NUMPY_FLOATS))


_scalars = st.one_of(
    _tagged_ints(),
    _tagged_floats(),
    st.booleans().map(lambda b: (np.bool_(b), b)),
    st.booleans().map(lambda b: (b, b)),
    st.text(max_size=8).map(lambda s: (s, s)),
    st.sampled_from([(None, None), (pd.NA, None), (pd.NaT, None), (np.datetime64("NaT"), None)]),
    st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1)).map(
        lambda d: (pd.Timestamp(d), d.isoformat())),
    st.dates().map(lambda d: (d, d.isoformat())),
    st.decimals(allow_nan=True, allow_infinity=True, places=3).map(
        lambda d: (d, float(d) if d.is_finite() else None)),
)


def _containers(children):
    lists = st.lists(children, max_size=4)
    return st.one_of(
        lists.map(lambda xs: ([v for v, _ in xs], [e for _, e in xs])),
        lists.map(lambda xs: (tuple(v for v, _ in xs), [e for _, e in xs])),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers(-5, 5)), children, max_size=4).map(
            lambda d: ({k: v for k, (v, _) in d.items()}, {str(k): e for k, (_, e) in d.items()})),
    )


_values = st.recursive(_scalars, _containers, max_leaves=20)


def _same(a, b):
    """Equality that also requires the same JSON type (True is not 1, 1 is not 1.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


@settings(max_examples=300, deadline=None)
@given(_values)
def test_converts_like_the_reference_and_is_strict_json(tagged):
    value, expected = tagged
    out = jsonable(value)
    assert _same(out, expected), (value, out, expected)
    # strict JSON (no NaN/Infinity) that reads back the same
    text = json.dumps(out, allow_nan=False, ensure_ascii=False)
    assert _same(json.loads(text), out)
    assert dumps(value) == text


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=20))
def test_arrays_and_series_become_lists(xs):
    arr = np.asarray(xs, dtype=float)
    expected = [x if math.isfinite(x) else None for x in xs]
    assert jsonable(arr) == expected
    assert jsonable(pd.Series(arr)) == expected
    assert jsonable(pd.Index(arr, dtype=float)) == expected
    assert jsonable(arr.reshape(-1, 1)) == [[e] for e in expected]


def test_json_default_hook_and_unknown_types():
    assert json.dumps({"a": np.int64(2), "b": np.array([1.5, np.inf])}, default=json_default) == \
        '{"a": 2, "b": [1.5, null]}'

    class Thing:
        pass

    with pytest.raises(TypeError, match=r"not JSON-serialisable: Thing \(accepted: None, bool"):
        jsonable({"x": [1, Thing()]})
    with pytest.raises(TypeError, match="complex"):
        jsonable(1j)
    with pytest.raises(TypeError, match="bytes"):
        json.dumps({"b": b"raw"}, default=json_default)


def test_decimal_and_time():
    assert jsonable(Decimal("1.25")) == 1.25
    assert jsonable(Decimal("NaN")) is None
    assert jsonable(dt.time(8, 30)) == "08:30:00"
    assert jsonable(np.datetime64("2024-01-02")) == "2024-01-02T00:00:00"
