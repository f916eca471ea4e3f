"""Geometry checks for the importer (:mod:`geodata.validate`): geometry types, repair, CRS and location
in the province."""

from __future__ import annotations



import numpy as np
import pandas as pd
import pyproj
import shapely

from ._cells import _as_number, _missing
from ._problems import Problem
from .messages import IMPORT, Localised, Message
from .crs import metric_crs
from .readers import RawTable
from .schema import LayerSchema


# --------------------------------------------------------------------------- geometry

_ACCEPTED_TYPES = {
    "Point": ("Point",),
    "Polygon": ("Polygon", "MultiPolygon"),
    "MultiPolygon": ("Polygon", "MultiPolygon"),
}


def _table_geometries(raw: RawTable, problems: list[Problem]) -> tuple[np.ndarray | None, set[int]]:
    """The file's geometries (its geometry column, points from coordinate columns or parsed WKT) and the
    rows whose missing geometry has been reported already (bad coordinates, bad WKT)."""
    frame = raw.frame
    n = len(frame)
    reported: set[int] = set()
    if raw.has_geometry:
        return np.asarray(frame["geometry"].to_numpy(), dtype=object), reported
    if raw.coordinates:
        lon_col, lat_col = raw.coordinates
        lons, lats = frame[lon_col].tolist(), frame[lat_col].tolist()
        xs = pd.to_numeric(pd.Series(lons, dtype=object), errors="coerce").to_numpy(dtype=float)
        ys = pd.to_numeric(pd.Series(lats, dtype=object), errors="coerce").to_numpy(dtype=float)
        for j in np.flatnonzero(~(np.isfinite(xs) & np.isfinite(ys))).tolist():  # the per-cell path says what is wrong
            lon, lat = lons[j], lats[j]
            if _missing(lon) or _missing(lat):
                problems.append(Problem(raw.row_label(j), "geometry",
                                        IMPORT("geometry.no_coordinates", lon=lon_col, lat=lat_col)))
                reported.add(j)
                continue
            try:
                xs[j], ys[j] = _as_number(lon), _as_number(lat)
            except (ValueError, TypeError):
                problems.append(Problem(raw.row_label(j), "geometry",
                                        IMPORT("geometry.coordinates_not_numbers", x=lon, y=lat, lon=lon_col,
                                               lat=lat_col)))
                reported.add(j)
        geoms = np.asarray(shapely.points(xs, ys), dtype=object)
        geoms[np.isnan(xs) | np.isnan(ys)] = None
        return geoms, reported
    if raw.wkt_column:
        geoms = np.empty(n, dtype=object)
        for j, t in enumerate(frame[raw.wkt_column].tolist()):
            if _missing(t):
                continue
            try:
                geoms[j] = shapely.from_wkt(str(t))
            except shapely.errors.GEOSException:
                problems.append(Problem(raw.row_label(j), "geometry", IMPORT("geometry.not_wkt", text=str(t)[:40])))
                reported.add(j)
        return geoms, reported
    return None, reported


def _fit_type(g, wanted: str):
    """``g`` in the layer's geometry type (single <-> multi part), or None if it cannot be."""
    kind = g.geom_type
    if wanted == "Point":
        if kind == "MultiPoint" and len(g.geoms) == 1:
            return g.geoms[0]
        return g if kind == "Point" else None
    if kind not in ("Polygon", "MultiPolygon"):
        return None
    if wanted == "MultiPolygon" and kind == "Polygon":
        return shapely.MultiPolygon([g])
    if wanted == "Polygon" and kind == "MultiPolygon" and len(g.geoms) == 1:
        return g.geoms[0]
    return g


def _repair(g):
    fixed = shapely.make_valid(g)
    if fixed.geom_type in ("Polygon", "MultiPolygon", "Point"):
        return fixed
    parts = [p for p in shapely.get_parts(fixed) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    return shapely.union_all(parts)


def _check_geometries(raw: RawTable, schema: LayerSchema, geoms: np.ndarray, repair: bool,
                      problems: list[Problem], reported: set[int]) -> tuple[np.ndarray, int]:
    """Per-row: missing, empty, wrong type, invalid (repaired if asked). Returns (geometries, repaired).

    ``reported`` are rows whose missing geometry was already reported (bad coordinates, bad WKT).
    The common case (right type, valid) is checked for all rows at once; only the rest row by row.
    """
    wanted = schema.geometry
    assert wanted is not None, f"layer {schema.name!r} has no geometry"  # callers check schema.geometry
    geoms = np.array([None if isinstance(g, float) else g for g in geoms], dtype=object)
    present = ~shapely.is_missing(geoms)
    out = np.empty(len(geoms), dtype=object)
    out[present] = shapely.force_2d(geoms[present])
    type_ids = shapely.get_type_id(out)
    fine = present & ~shapely.is_empty(out) & (type_ids == _TYPE_IDS[wanted])
    fine[fine] = shapely.is_valid(out[fine])
    repaired = 0
    for j in np.flatnonzero(~fine):
        fitted, message, was_repaired = _check_geometry(out[j], wanted, repair, j in reported)
        out[j] = fitted
        repaired += was_repaired
        if message is not None:
            accepted = (IMPORT("accepted.text", text=", ".join(_ACCEPTED_TYPES[wanted]))
                        if message.code == "geometry.wrong_type" else None)
            problems.append(Problem(raw.row_label(int(j)), "geometry", message, accepted_text=accepted))
    return out, repaired


_TYPE_IDS = {"Point": 0, "Polygon": 3, "MultiPolygon": 6}


def _check_geometry(g, wanted: str, repair: bool, reported: bool) -> tuple[object, Message | None, bool]:
    """One geometry that is not simply right: (geometry to store or None, problem or None, repaired?)."""
    if g is None:
        return None, None if reported else IMPORT("geometry.missing"), False
    if g.is_empty:
        return None, IMPORT("geometry.empty"), False
    fitted = _fit_type(g, wanted)
    if fitted is None:
        return None, IMPORT("geometry.wrong_type", found=g.geom_type, wanted=wanted), False
    if fitted.is_valid:
        return fitted, None, False
    reason = shapely.is_valid_reason(fitted)
    if not repair:
        return None, IMPORT("geometry.invalid", reason=reason), False
    fixed = _repair(fitted)
    fixed = _fit_type(fixed, wanted) if fixed is not None and not fixed.is_empty else None
    if fixed is None or not fixed.is_valid:
        return None, IMPORT("geometry.unrepairable", reason=reason), False
    return fixed, None, True


def _check_location(raw: RawTable, geoms: np.ndarray, province, province_name: str,
                    problems: list[Problem], tolerance_m: float) -> None:
    """Report features outside the province (beyond ``tolerance_m``), noting swapped lon/lat."""
    province_label = (Localised(province_name, "省界") if province_name == "the province"
                      else Localised(province_name, province_name))
    idx = np.array([j for j, g in enumerate(geoms) if g is not None], dtype=int)
    if idx.size == 0:
        return
    shapely.prepare(province)
    inside = shapely.intersects(province, geoms[idx])
    out_idx = idx[~inside]
    if out_idx.size == 0:
        return
    outside = geoms[out_idx]
    metric = metric_crs(shapely.centroid(province).x)
    to_m = pyproj.Transformer.from_crs(4326, metric, always_xy=True)

    def _tx(coords):
        x, y = to_m.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    with np.errstate(all="ignore"):
        province_m = shapely.transform(province, _tx)
        dist = shapely.distance(province_m, shapely.transform(outside, _tx))
    swapped = shapely.intersects(province, shapely.transform(outside, lambda c: c[:, ::-1]))
    if swapped.sum() >= max(2, 0.5 * idx.size):
        problems.append(Problem("file", "geometry", IMPORT("geometry.swapped_columns", swapped=int(swapped.sum()),
                                                           total=int(idx.size))))
    for j, g, d, sw in zip(out_idx, outside, dist, swapped):
        if np.isfinite(d) and d <= tolerance_m:
            continue
        p = g if g.geom_type == "Point" else g.representative_point()
        where = f"({p.x:.6g}, {p.y:.6g})"
        away = IMPORT("geometry.km_away", km=d / 1000) if np.isfinite(d) else ""
        code = "geometry.outside_swapped" if sw else "geometry.outside"
        problems.append(Problem(raw.row_label(int(j)), "geometry",
                                IMPORT(code, point=where, province=province_label, away=away)))


def _looks_projected(geoms: np.ndarray) -> bool:
    valid = [g for g in geoms if g is not None and not g.is_empty]
    if not valid:
        return False
    b = shapely.total_bounds(np.asarray(valid, dtype=object))
    return bool(np.nanmax(np.abs(b)) > 360)
