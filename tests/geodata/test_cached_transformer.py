"""geodata.crs.cached_transformer: one transformer per thread and CRS pair, the numbers of a fresh one."""

from __future__ import annotations

import threading

import numpy as np
import pyproj

from geodata.crs import cached_transformer


def test_same_object_in_one_thread_for_the_same_pair_in_any_spelling():
    a = cached_transformer(4326, 4549)
    assert cached_transformer("EPSG:4326", pyproj.CRS.from_epsg(4549)) is a
    assert cached_transformer(4549, 4326) is not a


def test_each_thread_has_its_own():
    mine = cached_transformer(4326, 4549)
    seen = []
    t = threading.Thread(target=lambda: seen.append(cached_transformer(4326, 4549)))
    t.start()
    t.join()
    assert seen and seen[0] is not mine


def test_numbers_equal_a_fresh_transformer():
    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(118, 123, 1000), rng.uniform(27, 31.5, 1000)
    fresh = pyproj.Transformer.from_crs(4326, 4549, always_xy=True).transform(lon, lat)
    kept = cached_transformer(4326, 4549).transform(lon, lat)
    np.testing.assert_array_equal(fresh[0], kept[0])
    np.testing.assert_array_equal(fresh[1], kept[1])
