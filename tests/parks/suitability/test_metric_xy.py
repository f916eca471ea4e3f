"""The suitability context's enterprise x/y (``_metric_xy``, over ``geodata.crs.points_xy``): ``to_crs``'s
numbers for points, NaN for empty or missing ones, a coded refusal naming the row for any other geometry."""

import geopandas as gpd
import numpy as np
import pyproj
import pytest
import shapely
from numpy.testing import assert_array_equal

from parks.suitability import SuitabilityError
from parks.suitability.context import _metric_xy


def _frame(geoms, crs=4326):
    return gpd.GeoDataFrame({"enterprise_id": [f"E{k}" for k in range(len(geoms))]}, geometry=geoms, crs=crs,
                            index=[f"row{k}" for k in range(len(geoms))])


def test_points_empty_and_missing_equal_to_crs():
    rng = np.random.default_rng(5)
    geoms = list(shapely.points(rng.uniform(118, 123, 300), rng.uniform(27, 31.2, 300)))
    geoms[3], geoms[17] = None, shapely.Point()
    geoms[40] = shapely.Point(120.5, 29.5, 35.0)
    frame = _frame(geoms)
    crs = pyproj.CRS(4549)
    x, y = _metric_xy(frame, crs)
    ref = frame.to_crs(crs).geometry
    assert_array_equal(x, ref.x.to_numpy(float))
    assert_array_equal(y, ref.y.to_numpy(float))
    assert np.isnan(x[[3, 17]]).all() and np.isfinite(np.delete(x, [3, 17])).all()


def test_a_polygon_is_refused_with_its_row_in_both_languages():
    frame = _frame([shapely.Point(120, 30), shapely.box(120, 30, 120.1, 30.1), shapely.MultiPoint([(120, 30)])])
    with pytest.raises(SuitabilityError) as info:
        _metric_xy(frame, pyproj.CRS(4549))
    exc = info.value
    assert exc.code == "layer.bad_choice"
    assert "'Polygon'" in str(exc) and "row1" in str(exc) and "Point" in str(exc)
    zh = exc.in_lang("zh")
    assert "Polygon" in zh and "row1" in zh and zh != str(exc)


def test_no_crs_is_refused():
    frame = gpd.GeoDataFrame({"enterprise_id": ["E0"]}, geometry=[shapely.Point(120, 30)])
    with pytest.raises(SuitabilityError) as info:
        _metric_xy(frame, pyproj.CRS(4549))
    assert info.value.code == "layer.no_crs"
