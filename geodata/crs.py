"""Coordinate reference systems: China's obfuscated datums and the metric zone of a dataset.

GCJ-02 (the "Mars" datum of AMap, Tencent and every map licensed in China) is WGS 84 shifted by a
published but deliberately non-linear offset of a few hundred metres; BD-09 (Baidu) is GCJ-02 with a
further rotation. Both are declared on import and converted to WGS 84 here. The forward GCJ-02
transform is the widely reproduced reference algorithm (e.g. ``eviltransform``, ``coordtransform``);
the inverse has no closed form and is solved by fixed-point iteration, which converges to far
below a millimetre in a handful of steps because the offset varies slowly in space.

Metric work (distances, areas, every statistic) happens in the CGCS2000 3-degree Gauss-Kruger zone
whose central meridian is nearest the data (EPSG:4534 = 75E ... EPSG:4554 = 135E).
"""

from __future__ import annotations

import threading

import numpy as np
import pyproj
from numpy.typing import ArrayLike

__all__ = [
    "SUPPORTED_CRS_NAMES",
    "gcj02_to_wgs84",
    "wgs84_to_gcj02",
    "bd09_to_gcj02",
    "bd09_to_wgs84",
    "cached_transformer",
    "metric_crs",
    "metric_epsg_for_lon",
    "NotAPointError",
    "parse_crs",
    "points_xy",
    "transform_geometries",
]

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by the GCJ-02 algorithm
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0

SUPPORTED_CRS_NAMES = ("gcj02", "bd09")


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    ret += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    ret += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    ret += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return ret


def _in_china(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The rectangle inside which the GCJ-02 offset is applied (the reference algorithm's test)."""
    return (lon > 73.66) & (lon < 135.05) & (lat > 3.86) & (lat < 53.55)


def _gcj_offset(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    inside = _in_china(lon, lat)
    return np.where(inside, dlon, 0.0), np.where(inside, dlat, 0.0)


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Forward GCJ-02 transform of WGS 84 longitudes and latitudes (degrees), vectorised."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    dlon, dlat = _gcj_offset(lon, lat)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(
    lon: ArrayLike, lat: ArrayLike, *, tolerance_deg: float = 1e-10, max_iter: int = 30
) -> tuple[np.ndarray, np.ndarray]:
    """Inverse GCJ-02 transform by fixed-point iteration.

    Solves ``wgs84_to_gcj02(w) = g`` for ``w``: start at ``w = g - offset(g)`` and repeat
    ``w <- w - (forward(w) - g)`` until the residual is below ``tolerance_deg`` (1e-10 deg is about
    0.01 mm). The round trip error is therefore far under the 1 m the data layer promises.
    """
    glon = np.asarray(lon, dtype=float)
    glat = np.asarray(lat, dtype=float)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        rlon, rlat = flon - glon, flat - glat
        wlon = wlon - rlon
        wlat = wlat - rlat
        if np.size(rlon) == 0 or max(np.nanmax(np.abs(rlon)), np.nanmax(np.abs(rlat))) < tolerance_deg:
            break
    return wlon, wlat


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Baidu BD-09 to GCJ-02 (the published closed-form inverse of Baidu's rotation)."""
    x = np.asarray(lon, dtype=float) - 0.0065
    y = np.asarray(lat, dtype=float) - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta), z * np.sin(theta)


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 to Baidu BD-09."""
    x = np.asarray(lon, dtype=float)
    y = np.asarray(lat, dtype=float)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_wgs84(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Baidu BD-09 to WGS 84 (via GCJ-02)."""
    return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))


_TO_WGS84 = {"gcj02": gcj02_to_wgs84, "bd09": bd09_to_wgs84}


def parse_crs(value: str | int | pyproj.CRS) -> str | pyproj.CRS:
    """Parse a user-stated CRS: ``gcj02``, ``bd09`` (returned as that name) or anything pyproj reads.

    Raises ``ValueError`` naming the value and what is accepted.
    """
    if isinstance(value, pyproj.CRS):
        return value
    text = str(value).strip()
    low = text.lower().replace("-", "").replace("_", "")
    if low in SUPPORTED_CRS_NAMES:
        return low
    if text.isdigit():
        text = f"EPSG:{text}"
    try:
        return pyproj.CRS.from_user_input(text)
    except pyproj.exceptions.CRSError as exc:
        raise ValueError(
            f"unknown CRS {value!r}; accepted: an EPSG code such as 4326 or EPSG:4549, "
            f"'gcj02' (AMap/Tencent) or 'bd09' (Baidu)"
        ) from exc


def transform_geometries(geoms, crs: str | pyproj.CRS):
    """Transform a shapely geometry array from ``crs`` to WGS 84 lon/lat.

    ``crs`` may be ``'gcj02'``/``'bd09'`` or a pyproj CRS. Returns a new array.
    """
    import shapely

    geoms = np.asarray(geoms, dtype=object)
    if isinstance(crs, str) and crs in _TO_WGS84:
        fn = _TO_WGS84[crs]

        def _tx(coords: np.ndarray) -> np.ndarray:
            x, y = fn(coords[:, 0], coords[:, 1])
            return np.column_stack([x, y])

        return shapely.transform(geoms, _tx)
    src = pyproj.CRS.from_user_input(crs)
    transformer = pyproj.Transformer.from_crs(src, 4326, always_xy=True)

    def _tx2(coords: np.ndarray) -> np.ndarray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geoms, _tx2)


def metric_epsg_for_lon(lon: float) -> int:
    """EPSG code of the CGCS2000 3-degree Gauss-Kruger zone (CM 75E..135E) nearest ``lon``."""
    cm = int(round(lon / 3.0)) * 3
    cm = min(max(cm, 75), 135)
    return 4534 + (cm - 75) // 3


def metric_crs(gdf_or_lon) -> pyproj.CRS:
    """The CGCS2000 3-degree GK CRS for a GeoDataFrame (by its central longitude) or a longitude."""
    if hasattr(gdf_or_lon, "total_bounds"):
        gdf = gdf_or_lon
        if gdf.crs is None:
            raise ValueError("GeoDataFrame has no CRS; metric work needs a known CRS")
        bounds = gdf.to_crs(4326).total_bounds if not gdf.crs.equals(pyproj.CRS(4326)) else gdf.total_bounds
        lon = (bounds[0] + bounds[2]) / 2.0
    else:
        lon = float(gdf_or_lon)
    return pyproj.CRS.from_epsg(metric_epsg_for_lon(lon))


_local = threading.local()


def cached_transformer(src, dst) -> pyproj.Transformer:
    """``pyproj.Transformer.from_crs(src, dst, always_xy=True)``, built once per thread and CRS pair.

    Building one costs about 0.1 s (the projection database); a join partition or one scored enterprise
    must not pay it each time. Cached per thread because pyproj transformers must not be shared between
    threads (the API's thread pool, Dask's worker threads).
    """
    key = (pyproj.CRS.from_user_input(src).to_wkt(), pyproj.CRS.from_user_input(dst).to_wkt())
    cache = getattr(_local, "transformers", None)
    if cache is None:
        cache = _local.transformers = {}
    found = cache.get(key)
    if found is None:
        found = cache[key] = pyproj.Transformer.from_crs(key[0], key[1], always_xy=True)
    return found


#: what :func:`points_xy` does with a geometry that is not a point (accepted values of ``non_point``)
NON_POINT_CHOICES = ("nan", "raise")


class NotAPointError(ValueError):
    """:func:`points_xy` (``non_point="raise"``) met a geometry that is not a point: ``position`` is the first
    one's position in the input, ``geom_type`` its type, ``count`` how many there are."""

    def __init__(self, position: int, geom_type: str, count: int):
        self.position, self.geom_type, self.count = position, geom_type, count
        super().__init__(f"geometry at position {position} is a {geom_type}, not a point ({count} such); "
                         f"accepted: points, empty points or missing geometries")

    def __reduce__(self):
        return type(self), (self.position, self.geom_type, self.count)


def points_xy(geoms, from_crs, to_crs, *, non_point: str = "nan") -> tuple[np.ndarray, np.ndarray]:
    """x and y of point geometries in ``to_crs``: the numbers of ``GeoSeries(geoms, crs=from_crs).to_crs(to_crs)``
    ``.x`` / ``.y``, without building the projected point objects.

    ``geoms``: a GeoSeries, a GeometryArray or an array/list of shapely geometries (``None`` allowed).
    The transformer is the one ``to_crs`` builds (``always_xy``; :func:`cached_transformer` keeps it per
    thread); a CRS identical to the target (``is_exact_same``, as ``to_crs`` tests it) returns the coordinates
    as they are; 3-D points are transformed with their z, as ``to_crs`` does, and their x/y returned.

    Missing (``None``) and empty points give NaN. Any other geometry (multipoint, line, polygon, ...):
    ``non_point="nan"`` gives NaN for it (a join that places points leaves it unplaced); ``non_point="raise"``
    raises :class:`NotAPointError` (a ``ValueError``) naming the first one's position and type, where a point
    is required. ``from_crs`` None, or not the CRS a GeoSeries says it is in: ``ValueError``. Always new
    float64 arrays.

    >>> import shapely
    >>> x, y = points_xy([shapely.Point(120.0, 30.0), None], 4326, 4549)
    >>> [round(float(v), 3) for v in x], bool(np.isnan(y[1]))
    ([500000.0, nan], True)
    """
    if non_point not in NON_POINT_CHOICES:
        raise ValueError(f"non_point must be one of {', '.join(NON_POINT_CHOICES)}, got {non_point!r}")
    import shapely

    values = _geometry_values(geoms)
    if from_crs is None:
        raise ValueError("the geometries have no CRS: set the CRS they are in (e.g. EPSG:4326) before projecting")
    src = pyproj.CRS.from_user_input(from_crs)
    dst = pyproj.CRS.from_user_input(to_crs)
    own = getattr(geoms, "crs", None)  # a GeoSeries / GeometryArray says what it is in: it must agree
    if own is not None and not pyproj.CRS.from_user_input(own).equals(src):
        raise ValueError(f"the geometries are in {own.to_string()}, not in from_crs {src.to_string()}")
    if non_point == "raise":
        wrong = np.flatnonzero(shapely.get_type_id(values) > 0)  # -1: missing, 0: point
        if len(wrong):
            raise NotAPointError(int(wrong[0]), values[wrong[0]].geom_type, len(wrong))
    # get_x / get_y: contiguous arrays (pyproj copies strided ones), NaN for None and for every non-point
    try:
        x, y = shapely.get_x(values), shapely.get_y(values)
    except shapely.errors.GEOSException:  # GEOS refuses getX of an empty point: those are NaN too
        x, y = np.full(len(values), np.nan), np.full(len(values), np.nan)
        keep = ~shapely.is_empty(values)
        x[keep], y[keep] = shapely.get_x(values[keep]), shapely.get_y(values[keep])
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if src.is_exact_same(dst):
        return x, y
    tr = cached_transformer(src, dst)
    bad = np.isnan(x) | np.isnan(y)
    has_z = shapely.has_z(values) & ~bad
    if not has_z.any():
        x, y = tr.transform(x, y)
    else:  # as geopandas' to_crs: 2-D points by (x, y), 3-D points by (x, y, z)
        flat = ~has_z
        x[flat], y[flat] = tr.transform(x[flat], y[flat])
        x[has_z], y[has_z] = tr.transform(x[has_z], y[has_z], shapely.get_z(values[has_z]))[:2]
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if bad.any():
        x[bad] = np.nan
        y[bad] = np.nan
    return x, y


def _geometry_values(geoms) -> np.ndarray:
    """The shapely geometries of a GeoSeries / GeometryArray / sequence as an object array (no copy where
    one exists)."""
    values = getattr(geoms, "values", geoms)  # GeoSeries -> GeometryArray
    data = getattr(values, "_data", None)  # GeometryArray's own object array
    if isinstance(data, np.ndarray):
        return data
    out = np.asarray(values, dtype=object)
    if out.ndim != 1:
        raise ValueError(f"geometries must be one-dimensional, got an array of shape {out.shape}")
    return out
