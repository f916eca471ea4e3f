import numpy as np
import pytest
from pyproj import Geod

from geodata.crs import (bd09_to_gcj02, bd09_to_wgs84, gcj02_to_bd09, gcj02_to_wgs84, metric_crs,
                         metric_epsg_for_lon, parse_crs, wgs84_to_gcj02)

GEOD = Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2):
    return GEOD.inv(lon1, lat1, lon2, lat2)[2]


@pytest.fixture
def zhejiang_points():
    rng = np.random.default_rng(1)
    return rng.uniform(118.0, 123.0, 500), rng.uniform(27.0, 31.2, 500)


def test_gcj02_round_trip_under_a_millimetre(zhejiang_points):
    lon, lat = zhejiang_points
    back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.max(_metres(lon, lat, *back)) < 1e-3


def test_gcj02_offset_in_zhejiang_is_a_few_hundred_metres(zhejiang_points):
    lon, lat = zhejiang_points
    offset = _metres(lon, lat, *wgs84_to_gcj02(lon, lat))
    assert 300 < offset.min() and offset.max() < 700


def test_known_point_west_lake():
    # Published conversions of Hangzhou's West Lake area agree on an offset of about 0.0047 deg east
    # and 0.0024 deg south (about 520 m): the GCJ-02 point lies east-south-east of the WGS 84 point.
    glon, glat = wgs84_to_gcj02(120.15, 30.25)
    assert 0.0040 < glon - 120.15 < 0.0055
    assert -0.0035 < glat - 30.25 < -0.0015


def test_outside_china_is_unchanged():
    lon, lat = wgs84_to_gcj02(np.array([2.35]), np.array([48.85]))
    assert lon[0] == 2.35 and lat[0] == 48.85


def test_bd09_round_trip(zhejiang_points):
    lon, lat = zhejiang_points
    g = wgs84_to_gcj02(lon, lat)
    b = gcj02_to_bd09(*g)
    assert np.max(_metres(*g, *bd09_to_gcj02(*b))) < 0.5  # Baidu's published inverse is approximate
    assert np.max(_metres(lon, lat, *bd09_to_wgs84(*b))) < 1.0


@pytest.mark.parametrize("lon,epsg", [(75.0, 4534), (120.2, 4549), (121.6, 4550), (135.0, 4554), (60.0, 4534)])
def test_metric_zone(lon, epsg):
    assert metric_epsg_for_lon(lon) == epsg
    assert metric_crs(lon).to_epsg() == epsg


@pytest.mark.parametrize("text,expected", [("gcj02", "gcj02"), ("GCJ-02", "gcj02"), ("bd09", "bd09")])
def test_parse_named_crs(text, expected):
    assert parse_crs(text) == expected


def test_parse_epsg():
    assert parse_crs("4549").to_epsg() == 4549
    assert parse_crs("EPSG:4326").to_epsg() == 4326


def test_parse_unknown_crs_names_what_is_accepted():
    with pytest.raises(ValueError, match="unknown CRS 'mars'.*gcj02"):
        parse_crs("mars")
