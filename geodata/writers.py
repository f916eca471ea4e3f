"""Export a dataset layer: GeoJSON, GeoPackage, CSV, GeoParquet, Excel.

Every export is written to a temporary file beside the target and renamed into place, so an
interrupted export never leaves half a file under the target's name.

Tables (CSV, Excel) carry points as ``lon``/``lat`` columns (``经度``/``纬度`` in Chinese) and
polygons as WKT in a ``wkt`` column, which is how :mod:`geodata.readers` reads them back. CSV is written
as UTF-8 with a byte-order mark by default, so Excel on a Chinese Windows opens it without garbling;
``encoding="gbk"`` writes what older tools expect. ``lang="zh"`` writes a table for Chinese readers:
headers such as ``营业收入(元)`` and labels such as ``纺织服装``, ``是``/``否``, all of which an import reads
back. Coordinates are WGS 84 (EPSG:4326) throughout.

Every CSV and Excel cell and header goes through :func:`geodata.spreadsheet.safe_frame`: text that a
spreadsheet would evaluate (starting with ``= + - @``, tab or CR) is written with a leading apostrophe,
never as a formula. :mod:`geodata.readers` takes that apostrophe off again, so an export imports back
as stored. GeoJSON, GeoPackage and GeoParquet hold typed values that no viewer evaluates.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely

from .dataset import Dataset
from .messages import EXPORT, CodedError
from .schema import LAYERS, SECTOR_IDS
from .spreadsheet import safe_frame
from .tempfiles import claim_temp, remove_stale
from .validate import header_zh, zh_labels

__all__ = ["EXPORT_FORMATS", "ExportError", "export_layer", "export_format"]

# format -> default suffix
EXPORT_FORMATS: dict[str, str] = {
    "geojson": ".geojson",
    "gpkg": ".gpkg",
    "csv": ".csv",
    "parquet": ".parquet",
    "xlsx": ".xlsx",
}
_SUFFIXES = {".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg", ".csv": "csv", ".parquet": "parquet",
             ".geoparquet": "parquet", ".xlsx": "xlsx"}
_ENCODINGS = {"utf-8-sig": "utf-8-sig", "utf8-sig": "utf-8-sig", "utf-8": "utf-8", "utf8": "utf-8",
              "gbk": "gbk", "gb18030": "gb18030"}
EXCEL_MAX_ROWS = 1_048_575  # one header row
EXCEL_MAX_CELL = 32_767


class ExportError(CodedError):
    """A layer cannot be written in the requested form (format, encoding, size).

    Raised with a code of :data:`geodata.messages.EXPORT` and its values (``ExportError("export.lang",
    lang="fr")``); ``str(exc)`` is the English text, ``geodata.messages.message(exc, "zh")`` the Chinese."""

    def __init__(self, code: str, /, **params: Any):
        super().__init__(EXPORT(code, **params))


def export_format(path: str | os.PathLike, format: str | None = None) -> str:
    """The export format named by ``format`` or by ``path``'s suffix."""
    if format:
        key = format.lower().lstrip(".")
        key = {"json": "geojson", "geopackage": "gpkg", "geoparquet": "parquet", "excel": "xlsx"}.get(key, key)
        if key not in EXPORT_FORMATS:
            raise ExportError("export.unknown_format", format=format, accepted=", ".join(EXPORT_FORMATS))
        return key
    suffix = Path(path).suffix.lower()
    if suffix not in _SUFFIXES:
        raise ExportError("export.format_from_name", name=Path(path).name, suffixes=", ".join(_SUFFIXES),
                          formats=", ".join(EXPORT_FORMATS))
    return _SUFFIXES[suffix]


def export_layer(
    ds: Dataset,
    layer: str,
    out: str | os.PathLike,
    format: str | None = None,
    *,
    encoding: str = "utf-8-sig",
    lang: str = "en",
) -> Path:
    """Write ``layer`` of ``ds`` to ``out``; returns the path written.

    Parameters
    ----------
    format : ``geojson``, ``gpkg``, ``csv``, ``parquet`` or ``xlsx``; default from ``out``'s suffix.
    encoding : CSV only: ``utf-8-sig`` (default, opens in Excel), ``utf-8``, ``gbk`` or ``gb18030``.
    lang : CSV and Excel only: ``en`` (field names and ids) or ``zh`` (Chinese headers with units, e.g.
        ``营业收入(元)``, and Chinese labels: ``纺织服装``, ``是``/``否``); an import reads either.
    """
    fmt = export_format(out, format)
    frame = ds.layer(layer)
    if lang not in ("en", "zh"):
        raise ExportError("export.lang", lang=lang)
    if encoding.lower() not in _ENCODINGS:
        raise ExportError("export.encoding", encoding=encoding, accepted=", ".join(sorted(set(_ENCODINGS.values()))))
    spatial = isinstance(frame, gpd.GeoDataFrame) and "geometry" in frame.columns
    if spatial and frame.crs is not None and frame.crs.to_epsg() != 4326:
        frame = frame.to_crs(4326)
    if fmt == "geojson" and not spatial:
        raise ExportError("export.no_geometry", layer=layer)
    writers: dict[str, Callable[..., None]] = {"geojson": _write_ogr, "gpkg": _write_ogr, "parquet": _write_parquet,
                                                "csv": _write_csv, "xlsx": _write_excel}
    writer = writers[fmt]
    return _atomic(Path(out), lambda tmp: writer(frame, tmp, layer=layer, fmt=fmt, spatial=spatial,
                                                 encoding=_ENCODINGS[encoding.lower()], lang=lang))


def _atomic(out: Path, write) -> Path:
    """``write(tmp)`` then rename ``tmp`` to ``out``; ``tmp`` is named with this process's id and start time
    (:mod:`geodata.tempfiles`), and an earlier killed export's leftover for ``out`` is removed first."""
    out.parent.mkdir(parents=True, exist_ok=True)
    remove_stale(out.parent, f".{out.name}")
    with claim_temp(out.parent, f".{out.name}", out.suffix or ".tmp") as tmp:  # not created: GDAL refuses to overwrite
        write(tmp)
        os.replace(tmp, out)
    return out


def _write_ogr(frame, path: Path, *, layer, fmt, spatial, **_) -> None:
    if fmt == "geojson":
        pyogrio.write_dataframe(frame, path, driver="GeoJSON", layer=layer, RFC7946="YES",
                                promote_to_multi=False)
    else:
        pyogrio.write_dataframe(frame if spatial else pd.DataFrame(frame), path, driver="GPKG", layer=layer,
                                promote_to_multi=False)


def _write_parquet(frame, path: Path, *, spatial, **_) -> None:
    if spatial:
        frame.to_parquet(path, index=False)
    else:
        pd.DataFrame(frame).to_parquet(path, index=False)


def _tabular(frame: pd.DataFrame, layer: str, spatial: bool, lang: str) -> pd.DataFrame:
    """The layer as a plain table for a spreadsheet: lon/lat for points, WKT for other geometries; in English
    or Chinese; every text cell and header through the formula guard (:func:`geodata.spreadsheet.safe_frame`)."""
    table = pd.DataFrame(frame.drop(columns="geometry")) if spatial else pd.DataFrame(frame).copy()
    if spatial:
        geoms = frame.geometry
        if len(geoms) and (geoms.geom_type == "Point").all():
            table["lon"], table["lat"] = geoms.x.to_numpy(), geoms.y.to_numpy()
        else:
            table["wkt"] = shapely.to_wkt(geoms.to_numpy(), rounding_precision=-1)  # every digit
    if lang == "zh":
        table = _labels_zh(table, layer)
        names = {f.name: header_zh(f) for f in LAYERS[layer].fields} if layer in LAYERS else {}
        names |= {"lon": "经度", "lat": "纬度"}
        table = table.rename(columns=names)
    return safe_frame(table)


def _labels_zh(table: pd.DataFrame, layer: str) -> pd.DataFrame:
    """Ids and flags of the layer's fields replaced by their Chinese labels."""
    if layer not in LAYERS:
        return table
    sectors = zh_labels(SECTOR_IDS)
    for f in LAYERS[layer].fields:
        if f.name not in table.columns:
            continue
        col = table[f.name]
        if f.choices and zh_labels(f.choices):
            table[f.name] = col.map(lambda v, m=zh_labels(f.choices): m.get(v, v), na_action="ignore")
        elif f.dtype == "list":
            table[f.name] = col.map(lambda v: "、".join(sectors.get(s, s) for s in str(v).split(",") if s),
                                    na_action="ignore")
        elif f.dtype == "bool":
            table[f.name] = col.map(lambda v: "是" if v else "否", na_action="ignore")
    return table


def _write_csv(frame, path: Path, *, layer, spatial, encoding, lang, **_) -> None:
    table = _tabular(frame, layer, spatial, lang)
    text = table.to_csv(index=False, lineterminator="\r\n")
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError as exc:
        bad = text[exc.start:exc.end]
        line = text.count("\n", 0, exc.start) + 1
        raise ExportError("export.unencodable", char=bad, line=line, encoding=encoding) from exc
    path.write_bytes(data)


def _write_excel(frame, path: Path, *, layer, spatial, lang, **_) -> None:
    table = _tabular(frame, layer, spatial, lang)
    if len(table) > EXCEL_MAX_ROWS:
        raise ExportError("export.excel_rows", layer=layer, rows=len(table), limit=EXCEL_MAX_ROWS)
    wkt = "wkt" if "wkt" in table.columns else None
    if wkt is not None:
        lengths = table[wkt].str.len()
        if len(lengths) and lengths.max() > EXCEL_MAX_CELL:
            row = int(lengths.to_numpy().argmax()) + 2
            raise ExportError("export.excel_cell", row=row, layer=layer, chars=int(lengths.max()), limit=EXCEL_MAX_CELL)
    table.to_excel(path, index=False, sheet_name=layer[:31], engine="openpyxl")

