"""Shared plumbing for the clustering metrics: validation, the metric CRS, filters, study areas.

Private to :mod:`parks.metrics`; every public metric validates its inputs with these helpers so the
messages read the same everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from geodata.messages import CodedError, layer_name
from geodata.schema import SECTOR_IDS

from .messages import METRICS

__all__ = [
    "MetricsError",
    "MU_PER_HA",
    "require_columns",
    "check_sector",
    "check_county",
    "check_projected",
    "to_metric",
    "xy",
    "area_polygon",
    "make_rng",
]

MU_PER_HA = 15.0  # 1 mu = 1/15 ha (666.67 m2)


class MetricsError(CodedError):
    """A metric was asked for with inputs it cannot use (missing column, unknown sector, degrees...).

    Raised with a code of :data:`parks.metrics.messages.METRICS` and its values; ``str(exc)`` is the English
    text, ``geodata.messages.message(exc, "zh")`` the Chinese."""

    def __init__(self, code: str, /, **params: Any):
        super().__init__(METRICS(code, **params))


def require_columns(frame: pd.DataFrame, columns: Iterable[str], what: str = "enterprises") -> None:
    """Raise :class:`MetricsError` naming every missing column at once."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        derived = any(c in ("park_id", "county_code") for c in missing) and what == "enterprises"
        raise MetricsError("columns.missing", what=layer_name(what), columns=", ".join(repr(c) for c in missing),
                           hint=METRICS("hint.prepare") if derived else "", present=", ".join(map(str, frame.columns)))


def check_sector(sector: str | None) -> str | None:
    """Return ``sector`` if it is one of the eleven sector ids (or None), else raise naming them."""
    if sector is None or sector in SECTOR_IDS:
        return sector
    import difflib

    close = difflib.get_close_matches(str(sector), SECTOR_IDS, n=1)
    hint = METRICS("hint.did_you_mean", suggestion=close[0]) if close else ""
    raise MetricsError("sector.unknown", sector=sector, hint=hint, accepted=", ".join(SECTOR_IDS))


def check_county(county: str | None, codes: Sequence[str]) -> str | None:
    """Return ``county`` if it is one of ``codes`` (or None), else raise naming a few accepted codes."""
    if county is None:
        return None
    county = str(county)
    codes = [str(c) for c in codes]
    if county not in codes:
        shown = ", ".join(sorted(codes)[:12]) + (", ..." if len(codes) > 12 else "")
        raise MetricsError("county.unknown", county=county, shown=shown)
    return county


def check_projected(crs) -> pyproj.CRS:
    """Refuse geographic (degree) CRSs: every distance here is in metres."""
    if crs is None:
        raise MetricsError("crs.none")
    crs = pyproj.CRS(crs)
    if not crs.is_projected:
        raise MetricsError("crs.geographic", crs=crs.to_string())
    return crs


def to_metric(frame: gpd.GeoDataFrame, crs) -> gpd.GeoDataFrame:
    """``frame`` in the projected ``crs`` (a copy; the input is not modified)."""
    crs = check_projected(crs)
    if frame.crs is None:
        raise MetricsError("layer.no_crs")
    return frame.to_crs(crs) if not pyproj.CRS(frame.crs).equals(crs) else frame.copy()


def xy(points: gpd.GeoSeries | gpd.GeoDataFrame | np.ndarray) -> np.ndarray:
    """An (n, 2) float array of coordinates from points (projected) or an array."""
    if isinstance(points, gpd.GeoDataFrame | gpd.GeoSeries):
        check_projected(points.crs)
        geoms = points.geometry if isinstance(points, gpd.GeoDataFrame) else points
        return shapely.get_coordinates(geoms.values)
    arr = np.asarray(points, dtype=float)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise MetricsError("points.shape", shape=arr.shape)
    return arr


def area_polygon(layer: gpd.GeoDataFrame, crs) -> shapely.Geometry:
    """The union of a polygon layer, projected to the metric ``crs``."""
    if layer is None or len(layer) == 0:
        raise MetricsError("area.empty_layer")
    return shapely.union_all(to_metric(layer, crs).geometry.values)


def make_rng(seed) -> np.random.Generator:
    """A numpy Generator from an int seed, a Generator (used as is) or None (fresh entropy)."""
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)
