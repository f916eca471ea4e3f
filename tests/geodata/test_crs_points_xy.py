"""``geodata.crs.points_xy`` against its reference, ``GeoSeries(geoms, crs=src).to_crs(dst).x / .y``.

The reference gives x/y for points, empty points and missing geometries (NaN) and refuses any other type;
``points_xy`` must give the same numbers (the same transformer, not close ones) and, for the other types,
NaN (``non_point="nan"``) or a ValueError naming the first one (``non_point="raise"``).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from geodata.crs import points_xy

#: (source, target): lon/lat <-> CGCS2000 GK 120E (EPSG:4549) and UTM 50N (EPSG:32650), projected -> projected,
#: the same CRS as a code, as a string and as a CRS object, and a CRS equal to 4326 but not "exact same"
PAIRS = [
    (4326, 4549), (4549, 4326), (4326, 32650), (32650, 4326), (32650, 4549), (4549, 32650),
    (4326, 4326), (4549, "EPSG:4549"), (pyproj.CRS(4549), 4549),
    (pyproj.CRS.from_wkt(pyproj.CRS(4326).to_wkt()), 4326),
]

#: where points of each source CRS lie (Zhejiang)
_BOUNDS = {"geographic": ((118.0, 123.0), (27.0, 31.2)), "4549": ((300_000.0, 800_000.0), (2_980_000.0, 3_460_000.0)),
           "32650": ((700_000.0, 1_200_000.0), (2_980_000.0, 3_480_000.0))}


def _bounds(crs):
    c = pyproj.CRS.from_user_input(crs)
    if c.is_geographic:
        return _BOUNDS["geographic"]
    return _BOUNDS[str(c.to_epsg())]


def _reference(geoms, src, dst) -> tuple[np.ndarray, np.ndarray]:
    """to_crs's x/y for points, empty points and None; NaN for every other geometry (which .x refuses)."""
    s = gpd.GeoSeries(list(geoms), crs=src).to_crs(dst)
    types = shapely.get_type_id(s.to_numpy())
    x = np.full(len(s), np.nan)
    y = np.full(len(s), np.nan)
    pointish = types <= 0
    if pointish.any():
        x[pointish] = s[pointish].x.to_numpy(float)
        y[pointish] = s[pointish].y.to_numpy(float)
    return x, y


def _geometry(kind: str, u: float, v: float, w: float, bounds):
    (x0, x1), (y0, y1) = bounds
    x, y = x0 + u * (x1 - x0), y0 + v * (y1 - y0)
    dx, dy = (x1 - x0) / 100, (y1 - y0) / 100
    return {
        "point": lambda: shapely.Point(x, y),
        "point_z": lambda: shapely.Point(x, y, 10.0 + 1000.0 * w),
        "empty": lambda: shapely.Point(),
        "none": lambda: None,
        "multipoint": lambda: shapely.MultiPoint([(x, y), (x + dx, y + dy)]),
        "polygon": lambda: shapely.box(x, y, x + dx, y + dy),
        "line": lambda: shapely.LineString([(x, y), (x + dx, y)]),
        "empty_polygon": lambda: shapely.Polygon(),
    }[kind]()


_KINDS = ["point", "point", "point", "point_z", "empty", "none", "multipoint", "polygon", "line", "empty_polygon"]
_unit = st.floats(0.0, 1.0, allow_nan=False)
_rows = st.lists(st.tuples(st.sampled_from(_KINDS), _unit, _unit, _unit), max_size=40)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pair=st.sampled_from(PAIRS), rows=_rows)
def test_points_xy_equals_to_crs_x_y(pair, rows):
    src, dst = pair
    geoms = [_geometry(kind, u, v, w, _bounds(src)) for kind, u, v, w in rows]
    x, y = points_xy(geoms, src, dst)
    rx, ry = _reference(geoms, src, dst)
    assert x.dtype == np.float64 and y.dtype == np.float64 and x.shape == y.shape == (len(geoms),)
    assert_array_equal(x, rx)  # NaN where the reference has NaN, the same float elsewhere
    assert_array_equal(y, ry)
    non_point = [k for k, g in enumerate(geoms) if g is not None and g.geom_type != "Point"]
    if non_point:
        with pytest.raises(ValueError, match=f"position {non_point[0]} is a {geoms[non_point[0]].geom_type}"):
            points_xy(geoms, src, dst, non_point="raise")
    else:
        xr, yr = points_xy(geoms, src, dst, non_point="raise")
        assert_array_equal(xr, rx)
        assert_array_equal(yr, ry)


@pytest.mark.parametrize(("src", "dst"), PAIRS)
def test_a_table_of_cases_in_every_pair(src, dst):
    bounds = _bounds(src)
    geoms = [_geometry(kind, 0.1 * k % 1.0, 0.37 * k % 1.0, 0.5, bounds) for k, kind in enumerate(_KINDS * 3)]
    x, y = points_xy(geoms, src, dst)
    rx, ry = _reference(geoms, src, dst)
    assert_array_equal(x, rx)
    assert_array_equal(y, ry)
    kinds = np.array(_KINDS * 3)
    assert np.isfinite(x[np.isin(kinds, ["point", "point_z"])]).all()
    assert np.isnan(x[~np.isin(kinds, ["point", "point_z"])]).all()


def test_every_input_shape_gives_the_same_numbers():
    rng = np.random.default_rng(7)
    pts = list(shapely.points(rng.uniform(118, 123, 200), rng.uniform(27, 31.2, 200)))
    pts[5] = None
    pts[9] = shapely.Point()
    series = gpd.GeoSeries(pts, crs=4326, index=pd.Index([f"E{k}" for k in range(200)]))
    want = points_xy(pts, 4326, 4549)
    for given_ in (series, series.values, series.to_numpy(), np.asarray(pts, dtype=object), tuple(pts)):
        got = points_xy(given_, 4326, 4549)
        assert_array_equal(got[0], want[0])
        assert_array_equal(got[1], want[1])
    ref = series.to_crs(4549)
    assert_array_equal(want[0], ref.x.to_numpy(float))
    assert_array_equal(want[1], ref.y.to_numpy(float))


def test_the_results_are_new_writable_arrays():
    pts = gpd.GeoSeries(shapely.points([[500_000.0, 3_300_000.0], [510_000.0, 3_310_000.0]]), crs=4549)
    x, y = points_xy(pts, 4549, 4549)  # the same CRS: the coordinates as they are
    assert_array_equal(x, [500_000.0, 510_000.0])
    x[0] = 0.0
    y[0] = 0.0
    assert pts.iloc[0].x == 500_000.0 and pts.iloc[0].y == 3_300_000.0


def test_no_geometries_give_empty_arrays():
    for crs in (4326, 4549):
        x, y = points_xy([], 4326, crs)
        assert x.shape == y.shape == (0,) and x.dtype == np.float64
        x, y = points_xy(gpd.GeoSeries([], crs=4326), 4326, crs, non_point="raise")
        assert x.shape == y.shape == (0,)


def test_bad_arguments_are_refused_with_what_is_accepted():
    pts = [shapely.Point(120.0, 30.0)]
    with pytest.raises(ValueError, match="no CRS"):
        points_xy(pts, None, 4549)
    with pytest.raises(ValueError, match=r"non_point must be one of nan, raise, got 'centroid'"):
        points_xy(pts, 4326, 4549, non_point="centroid")
    with pytest.raises(ValueError, match="in EPSG:4326, not in from_crs EPSG:4549"):
        points_xy(gpd.GeoSeries(pts, crs=4326), 4549, 4326)
    x, _ = points_xy(gpd.GeoSeries(pts, crs="EPSG:4326"), pyproj.CRS(4326).to_wkt(), 4549)  # equal, another spelling
    assert x[0] == pytest.approx(500_000.0, abs=1e-6)  # on the central meridian 120E: the false easting
    with pytest.raises(ValueError, match="one-dimensional"):
        points_xy(np.array([[shapely.Point(1, 2)]], dtype=object), 4326, 4549)
    with pytest.raises(ValueError, match=r"position 1 is a Polygon, not a point \(2 such\)"):
        points_xy([pts[0], shapely.box(0, 0, 1, 1), shapely.MultiPoint([(0, 0)])], 4326, 4549, non_point="raise")


def test_threads_get_the_same_numbers():
    """The transformer is cached per thread (pyproj's transformers are not shared between threads)."""
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(3)
    pts = shapely.points(rng.uniform(118, 123, 5000), rng.uniform(27, 31.2, 5000))
    want = points_xy(pts, 4326, 4549)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: points_xy(pts, 4326, 4549), range(8)))
    for x, y in results:
        assert_array_equal(x, want[0])
        assert_array_equal(y, want[1])


def test_the_refusal_names_position_and_type_and_pickles():
    import pickle

    from geodata.crs import NotAPointError

    geoms = [None, shapely.Point(), shapely.Point(120, 30), shapely.LineString([(0, 0), (1, 1)]), shapely.box(0, 0, 1, 1)]
    with pytest.raises(NotAPointError) as info:
        points_xy(geoms, 4326, 4549, non_point="raise")
    assert (info.value.position, info.value.geom_type, info.value.count) == (3, "LineString", 2)
    assert isinstance(info.value, ValueError)
    back = pickle.loads(pickle.dumps(info.value))  # crosses process boundaries (Dask workers) intact
    assert (back.position, back.geom_type, back.count, str(back)) == (3, "LineString", 2, str(info.value))
