"""Validate rows read from a user's file against a layer's schema, and convert them to the stored form.

Every problem is collected first and then raised once, as one :class:`ImportValidationError` that lists
each problem by row and field together with what is accepted (a few rows per kind of problem, then a
count), the way ``osmnx._validate`` reports a bad graph. Nothing is repaired silently: invalid
polygons are repaired (``shapely.make_valid``) only when asked.

What is accepted, beyond the stored form of :data:`geodata.schema.LAYERS`:

* headers: the field name in any case (``Park ID`` for ``park_id``), cut to 10 characters as shapefiles
  do (``pollution_``), its Chinese label (``Field.zh``) or a common alias (:data:`HEADER_ALIASES`),
  optionally with a unit in brackets or after a slash: ``营业收入（万元）``. Money in 万元/亿元, areas in
  亩/平方米/平方公里, distances in 米, land prices in 万元/亩 are converted to the stored units
  (yuan, ha, km, yuan/m2).
* values: sector ids, their Chinese and English names and GB/T 4754 codes (``C1711``, ``17``); Chinese
  labels of the other vocabularies (``重度``, ``特色工业园区``, ``鼓励类`` ...); booleans as
  ``是/否``, ``Y/N``, ``1/0``, ``true/false``; numbers with thousands separators; years as dates.
* geometry: the layer's type, or the single-part/multi-part variant of it; coordinates in any CRS the
  caller states (EPSG code, ``gcj02``, ``bd09``) or the file declares, converted to WGS 84 and checked
  against the province (with a tolerance for coastlines), with swapped longitude/latitude detected.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyproj

from ._cells import _convert, _typed
from ._geometry_checks import _check_geometries, _check_location, _looks_projected, _table_geometries
from ._problems import LOCATION_TOLERANCE_M, ImportValidationError, Problem, row_list
from ._vocabulary import _accepted_for, _accepted_headers, _map_columns, _units_for, header_zh, zh_labels
from .crs import parse_crs, transform_geometries
from .messages import IMPORT, Note, layer_name
from .readers import RawTable
from .schema import IMPORTABLE_LAYERS, LAYERS

__all__ = ["IMPORTABLE_LAYERS", "ImportValidationError", "Problem", "ValidatedLayer", "header_zh", "validate_layer",
           "zh_labels"]


@dataclass
class ValidatedLayer:
    """Rows ready to store: ``frame`` in the layer's columns and types, geometry in WGS 84."""

    frame: pd.DataFrame
    columns: dict[str, str]  # source header -> field
    units: dict[str, str]  # field -> conversion applied, e.g. "万元 -> yuan (x10000)"
    ignored_columns: list[str]
    crs: str | None
    repaired: int = 0
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- the validator

def validate_layer(
    raw: RawTable,
    layer: str,
    *,
    province=None,
    province_name: str = "the province",
    crs: str | int | pyproj.CRS | None = None,
    repair: bool = False,
    existing_ids: set[str] | None = None,
    keep_columns: set[str] | None = None,
    references: dict[str, tuple[str, set]] | None = None,
    tolerance_m: float = LOCATION_TOLERANCE_M,
) -> ValidatedLayer:
    """Check ``raw`` against ``layer``'s schema and convert it; raise one :class:`ImportValidationError`.

    Parameters
    ----------
    raw : rows read by :func:`geodata.readers.read_table`.
    layer : one of :data:`IMPORTABLE_LAYERS`.
    province : shapely geometry (WGS 84) the features must lie in; None skips the location check.
    crs : the CRS of the file's coordinates as the caller states it (EPSG code, ``gcj02``, ``bd09``);
        overrides what the file declares. A file that declares none is refused unless this is given.
    repair : repair invalid polygons with ``shapely.make_valid`` instead of refusing them.
    existing_ids : ids already in the layer when appending; the file may not repeat them.
    keep_columns : non-schema columns of the layer that are kept from the file (others are ignored
        and listed in ``ignored_columns``).
    references : ``{field: (layer name, accepted ids)}``: values of ``field`` must be among the ids
        (``projects.enterprise_id`` -> enterprises).
    tolerance_m : how far outside the province boundary a feature may lie.
    """
    if layer not in LAYERS or layer not in IMPORTABLE_LAYERS:
        raise ValueError(f"unknown layer {layer!r}; accepted: {', '.join(IMPORTABLE_LAYERS)}")
    schema = LAYERS[layer]
    problems = [Problem("file", None, text) for text in raw.problems]  # coded by the reader
    frame = raw.frame
    n = len(frame)
    if n == 0:
        problems.append(Problem("file", None, IMPORT("file.no_rows")))

    geometry_columns = {"geometry"} | set(raw.coordinates or ()) | ({raw.wkt_column} if raw.wkt_column else set())
    keep = set(keep_columns or ()) - {f.name for f in schema.fields}
    mapped, ignored, header_problems = _map_columns(list(frame.columns), schema, geometry_columns, keep)
    problems.extend(header_problems)
    for f in schema.fields:
        if f.required and f.name not in mapped and not any(p.field == f.name for p in header_problems):
            problems.append(Problem("file", f.name, IMPORT("file.required_column_missing"),
                                    accepted_text=_accepted_headers(f)))

    values: dict[str, list] = {}
    for name, col in mapped.items():
        converted, errors = _convert(frame[col.source].tolist(), col)
        values[name] = converted
        accepted = _accepted_for(col.field)
        for j, msg in errors:
            problems.append(Problem(raw.row_label(j), col.source, msg, accepted_text=accepted))

    _check_ids(raw, schema, mapped, values, existing_ids, problems)
    _check_unique(raw, schema, mapped, values, problems)
    for fname, (ref_layer, ids) in (references or {}).items():
        if fname in values and ids:
            for j, v in enumerate(values[fname]):
                if v is not None and v not in ids:
                    problems.append(Problem(raw.row_label(j), mapped[fname].source,
                                            IMPORT("reference.missing", value=v, layer=layer_name(ref_layer))))

    notes = list(raw.notes)
    crs_used, geoms, repaired = None, None, 0
    if schema.geometry is not None:
        crs_used, geoms, repaired = _geometry(raw, schema, crs, repair, province, province_name, tolerance_m,
                                              problems, notes)
    elif raw.has_geometry or raw.coordinates:
        notes.append(Note(IMPORT("note.table_geometry_ignored")))

    if problems:
        raise ImportValidationError(problems, source=raw.path.name, layer=layer)

    columns: dict[str, pd.Series] = {}
    for f in schema.fields:
        columns[f.name] = _typed(values.get(f.name, [None] * n), f)
    for col in frame.columns:
        if col in keep and col not in columns and col not in geometry_columns:
            columns[col] = frame[col].reset_index(drop=True)
    out = pd.DataFrame(columns)
    if schema.geometry is not None:
        import geopandas as gpd

        out = gpd.GeoDataFrame(out, geometry=gpd.GeoSeries(geoms, crs=4326).values, crs=4326)
    return ValidatedLayer(
        frame=out,
        columns={c.source: name for name, c in mapped.items()},
        units={name: f"{c.unit} -> {_units_for(c.field)[1]} (x{c.factor:g})" for name, c in mapped.items() if c.unit},
        ignored_columns=ignored,
        crs=crs_used,
        repaired=repaired,
        notes=notes,
    )


def _check_ids(raw, schema, mapped, values, existing_ids, problems) -> None:
    id_field = schema.id_field
    if id_field is None or id_field not in values:
        return
    ids = values[id_field]
    seen: dict[str, list[int]] = {}
    for j, v in enumerate(ids):
        if v is not None:
            seen.setdefault(v, []).append(j)
    source = mapped[id_field].source
    for v, rows in seen.items():
        if len(rows) > 1:
            listed = row_list([raw.row_label(j) for j in rows[:5]], len(rows) > 5)
            problems.append(Problem(raw.row_label(rows[1]), source, IMPORT("id.duplicate", value=v, rows=listed),
                                    accepted_text=IMPORT("accepted.each_id_once")))
    if existing_ids:
        for v, rows in seen.items():
            if v in existing_ids:
                problems.append(Problem(raw.row_label(rows[0]), source, IMPORT("id.already_in_layer", value=v)))


def _check_unique(raw, schema, mapped, values, problems) -> None:
    """Rows of a table without an id field that repeat its key (``LayerSchema.unique``): one problem per
    repeated key, naming its rows. (Appending the same key again is not checked against the layer.)"""
    if not schema.unique or not all(f in values for f in schema.unique):
        return
    seen: dict[tuple, list[int]] = {}
    for j, key in enumerate(zip(*(values[f] for f in schema.unique))):
        if None not in key:
            seen.setdefault(key, []).append(j)
    source = ", ".join(mapped[f].source for f in schema.unique)
    for key, rows in seen.items():
        if len(rows) > 1:
            listed = row_list([raw.row_label(j) for j in rows[:5]], len(rows) > 5)
            problems.append(Problem(raw.row_label(rows[1]), source,
                                    IMPORT("key.duplicate", fields=" + ".join(schema.unique),
                                           key=" / ".join(map(str, key)), rows=listed),
                                    accepted_text=IMPORT("accepted.each_combination_once")))


def _same_crs(a: str | pyproj.CRS, b: pyproj.CRS) -> bool:
    """``a`` (a pyproj CRS, or 'gcj02'/'bd09') is ``b``, axis order aside."""
    return isinstance(a, pyproj.CRS) and a.equals(b, ignore_axis_order=True)


def _geometry(raw, schema, crs, repair, province, province_name, tolerance_m, problems, notes):
    geoms, reported = _table_geometries(raw, problems)
    if geoms is None:
        problems.append(Problem("file", "geometry", IMPORT("geometry.none_in_file", wanted=schema.geometry),
                                accepted_text=IMPORT("accepted.geometry_file")))
        return None, None, 0
    geoms, repaired = _check_geometries(raw, schema, geoms, repair, problems, reported)
    if repaired:
        notes.append(Note(IMPORT("note.repaired_one" if repaired == 1 else "note.repaired_many", n=repaired)))
    source = None
    if crs is not None:
        try:
            source = parse_crs(crs)
        except ValueError:
            problems.append(Problem("file", "crs", IMPORT("crs.unknown", value=crs)))
            return None, geoms, repaired
        if raw.crs is not None and not _same_crs(source, raw.crs):
            notes.append(Note(IMPORT("note.crs_declared", declared=raw.crs.to_string(), crs=crs)))
    elif raw.crs is not None:
        source = raw.crs
    else:
        if raw.crs_hint:
            text = IMPORT("crs.none_header_hint", hint=raw.crs_hint)
        elif _looks_projected(geoms):
            text = IMPORT("crs.none_projected_hint")
        else:
            text = IMPORT("crs.none")
        problems.append(Problem("file", "crs", text, accepted_text=IMPORT("accepted.crs")))
        return None, geoms, repaired
    label = source if isinstance(source, str) else (f"EPSG:{source.to_epsg()}" if source.to_epsg() else source.name)
    present = np.array([g is not None for g in geoms])
    if present.any() and not _same_crs(source, pyproj.CRS(4326)):
        with np.errstate(all="ignore"):
            geoms[present] = transform_geometries(geoms[present], source)
    if province is not None and present.any():
        _check_location(raw, geoms, province, province_name, problems, tolerance_m)
    return label, geoms, repaired

