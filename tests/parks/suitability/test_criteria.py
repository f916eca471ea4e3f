"""Criterion helpers against their numpy references."""

import numpy as np
import pytest

from parks.suitability.criteria import land_price_reference


def _reference(distance_km, price, k):
    """The first version: ``np.median`` of the ``k`` nearest parks' prices (ties by park order)."""
    d = np.asarray(distance_km, dtype=float)
    if d.shape[1] == 0:
        return np.full(d.shape[0], np.nan)
    k = min(int(k), d.shape[1])
    nearest = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.median(np.asarray(price, float)[nearest], axis=1)


@pytest.mark.parametrize("k", [1, 2, 3, 4, 5, 8, 199, 200, 250])
@pytest.mark.parametrize("seed", range(4))
def test_land_price_reference_is_numpys_median(k, seed):
    rng = np.random.default_rng(seed)
    n, m = 37, 200
    d = rng.uniform(0, 300, (n, m))
    d[:, ::7] = d[:, :1]  # tied distances: the park order decides which are nearest
    price = rng.choice([120.0, 185.5, 240.0, 310.25, 96.0, 480.0], m) * rng.uniform(0.5, 2.0, m)
    price[::11] = price[0]  # tied prices
    got = land_price_reference(d, price, k)
    want = _reference(d, price, k)
    assert got.shape == (n,)
    np.testing.assert_array_equal(got, want)  # to the last bit, NaN where NaN


@pytest.mark.parametrize("k", [1, 2, 3, 6])
def test_a_missing_price_among_the_nearest_gives_nan_as_numpy_does(k):
    rng = np.random.default_rng(9)
    d = rng.uniform(0, 100, (50, 40))
    price = rng.uniform(50, 500, 40)
    price[[3, 17]] = np.nan
    with np.errstate(invalid="ignore"):
        want = _reference(d, price, k)
    got = land_price_reference(d, price, k)
    assert np.isnan(want).any() and not np.isnan(want).all()
    np.testing.assert_array_equal(got, want)


def test_no_parks_and_no_neighbours():
    assert land_price_reference(np.zeros((3, 0)), np.zeros(0), 5).shape == (3,)
    assert np.isnan(land_price_reference(np.zeros((3, 0)), np.zeros(0), 5)).all()
    assert np.isnan(land_price_reference(np.ones((2, 4)), np.arange(4.0), 0)).all()


@pytest.mark.parametrize("shape_in, shape", [((7,), (1, 7)), ((1, 7), (1, 7)), ((7,), (4, 7)), ((1, 7), (3, 7)),
                                              ((1, 1), (1, 7)), ((3, 1), (3, 7)), ((0,), (1, 0)), ((7,), (0, 7))])
def test_broadcast_rows_is_numpys_broadcast_to(shape_in, shape):
    from parks.suitability.criteria import broadcast_rows

    a = np.arange(int(np.prod(shape_in)), dtype=float).reshape(shape_in)
    got, want = broadcast_rows(a, shape), np.broadcast_to(a, shape)
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    assert not got.flags.writeable  # as broadcast_to's: a criterion matrix never writes into the context
    assert np.shares_memory(got, a) or got.size == 0
    assert a.flags.writeable  # the context's own array stays as it was
