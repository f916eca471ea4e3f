"""Read a user's file into a table for import: GeoJSON, GeoPackage, Shapefile, GeoParquet, CSV, Excel.

Reading is deliberately forgiving about *form* and says nothing about *content*: it finds the text
encoding, the sheet or layer, the coordinate columns and the CRS the file declares, and hands the
rows on unchanged (strings stay strings, so ids keep their leading zeros). Whether the rows are
acceptable is decided by :mod:`geodata.validate`, which collects every problem at once.

Text encodings (CSV, and shapefiles without a ``.cpg``): a byte-order mark wins; otherwise strict
UTF-8, then strict GB 18030 (the superset of GBK/GB 2312 that Chinese Excel and ArcGIS write), then
``charset-normalizer``'s guess. Trying GB 18030 before a statistical detector matters: detectors
misread short Chinese texts as Shift-JIS (see ``tests/geodata/test_import.py``).

Coordinate columns of CSV/Excel are found by header, Chinese included: ``经度``/``纬度``,
``lon``/``lat``, ``lng``, ``longitude``/``latitude``, ``x``/``y`` (case, spaces, full-width forms and a
bracketed suffix such as ``经度(GCJ-02)`` ignored). Polygons in a table come as WKT in a column named
``wkt``, ``geometry`` or ``geom``.
"""

from __future__ import annotations

import codecs
import datetime as _dt
import os
import re
import struct
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pyproj

from .messages import IMPORT, CodedError, Localised, Message, Note, library_reason
from .spreadsheet import unguard_frame
from .tempfiles import claim_temp, remove_stale

__all__ = [
    "ArchiveLimits",
    "FORMATS",
    "ImportReadError",
    "RawTable",
    "SHAPEFILE_MEMBERS",
    "detect_text_encoding",
    "find_coordinate_columns",
    "format_for_path",
    "read_table",
    "split_header",
]


class ImportReadError(CodedError):
    """A file cannot be read at all (unknown format, unreadable, ambiguous layer or sheet, an archive over its
    limits).

    Raised with a code of :data:`geodata.messages.IMPORT` and its values; ``str(exc)`` is the English text,
    ``geodata.messages.message(exc, "zh")`` the Chinese."""

    def __init__(self, code: str, /, **params: object):
        super().__init__(IMPORT(code, **params))


def _part(what: str) -> Message:
    """A part of a file one imports: a GeoPackage layer, an Excel sheet, a shapefile in a .zip."""
    return {"layer": IMPORT("read.part_layer"), "sheet": IMPORT("read.part_sheet"),
            "shapefile": IMPORT("read.part_shapefile")}[what]


# suffix -> format name
FORMATS: dict[str, str] = {
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".gpkg": "GeoPackage",
    ".shp": "Shapefile",
    ".zip": "Shapefile",
    ".parquet": "GeoParquet",
    ".geoparquet": "GeoParquet",
    ".csv": "CSV",
    ".txt": "CSV",
    ".tsv": "CSV",
    ".xlsx": "Excel",
    ".xlsm": "Excel",
}

LON_NAMES = ("longitude", "lon", "lng", "long", "经度", "东经", "x", "point_x", "x坐标", "横坐标")
LAT_NAMES = ("latitude", "lat", "lat", "lat", "纬度", "北纬", "y", "point_y", "y坐标", "纵坐标")
WKT_NAMES = ("wkt", "geometry", "geom", "the_geom", "shape", "几何")
_CRS_HINTS = {"gcj02": "gcj02", "gcj": "gcj02", "火星": "gcj02", "高德": "gcj02", "腾讯": "gcj02",
              "bd09": "bd09", "百度": "bd09", "wgs84": "4326", "gps": "4326", "cgcs2000": "4490"}


@dataclass
class RawTable:
    """Rows read from a file, before validation.

    ``frame`` holds the file's columns as read (a ``geometry`` column of shapely objects when the format
    carries geometry); ``coordinates`` names the (lon, lat) columns of a CSV/Excel table, ``wkt_column``
    a WKT geometry column; ``crs`` is what the file declares (None when it declares nothing).
    """

    frame: pd.DataFrame
    format: str
    path: Path
    crs: pyproj.CRS | None = None
    has_geometry: bool = False
    coordinates: tuple[str, str] | None = None
    wkt_column: str | None = None
    encoding: str | None = None
    source_layer: str | None = None
    crs_hint: str | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[Message] = field(default_factory=list)  # of the file as a whole (geodata.messages.IMPORT)
    row_numbers: list[int] | None = None  # CSV/Excel: the line or sheet row of each record

    def row_label(self, i: int) -> str:
        """How a user finds row ``i`` (0-based) in the file: its spreadsheet row or line, or a feature number."""
        if self.row_numbers is not None:
            return f"row {self.row_numbers[i]}"
        if self.format in ("CSV", "Excel"):
            return f"row {i + 2}"
        return f"feature {i + 1}"


def format_for_path(path: str | os.PathLike, format: str | None = None) -> str:
    """The format name for ``path`` (by suffix) or the stated ``format``; ``ImportReadError`` if unknown."""
    if format:
        names = {v.lower(): v for v in FORMATS.values()} | {k.lstrip("."): v for k, v in FORMATS.items()}
        try:
            return names[format.lower().lstrip(".")]
        except KeyError:
            raise ImportReadError("read.unknown_format", value=format,
                                  accepted=", ".join(sorted(set(FORMATS.values())))) from None
    suffix = Path(path).suffix.lower()
    if suffix == ".xls":
        raise ImportReadError("read.old_excel", name=Path(path).name)
    try:
        return FORMATS[suffix]
    except KeyError:
        raise ImportReadError("read.unknown_type", name=Path(path).name, suffix=suffix or IMPORT("read.no_suffix"),
                              accepted=", ".join(sorted(FORMATS))) from None


# --------------------------------------------------------------------------- text encodings

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def detect_text_encoding(data: bytes) -> str:
    """The encoding of ``data``: BOM, else strict UTF-8, else strict GB 18030, else charset-normalizer.

    Returns a Python codec name ("ascii" data reports "utf-8").
    """
    for bom, name in _BOMS:
        if data.startswith(bom):
            return name
    for name in ("utf-8", "gb18030"):
        try:
            data.decode(name)
            return name
        except UnicodeDecodeError:
            pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise ImportReadError("read.encoding_unknown")
    return best.encoding


# --------------------------------------------------------------------------- headers

_BRACKETED = re.compile(r"^(.*?)\s*[\(\[（【](.*?)[\)\]）】]\s*$")


def _nfkc(text: object) -> str:
    return unicodedata.normalize("NFKC", str(text)).strip()


def split_header(name: object) -> tuple[str, str]:
    """Split a header into (base, unit): ``'营业收入（万元）'`` -> ``('营业收入', '万元')``.

    Full-width forms are folded (NFKC), the base is lower-cased with spaces removed; a unit comes from
    brackets or after a slash (``'revenue/万元'``). No unit gives ``''``.
    """
    text = _nfkc(name)
    unit = ""
    m = _BRACKETED.match(text)
    if m:
        text, unit = m.group(1), m.group(2).strip()
    elif "/" in text:
        text, unit = (part.strip() for part in text.rsplit("/", 1))
    base = re.sub(r"\s+", "", text).lower()
    return base, unit


def find_coordinate_columns(columns) -> tuple[tuple[str, str] | None, list[Message]]:
    """The (lon, lat) column pair among ``columns``, found by name; and problems (ambiguity, half a pair).

    Pairs are tried in order: longitude/latitude, lon/lat, lng/lat, long/lat, 经度/纬度, 东经/北纬,
    x/y, point_x/point_y, x坐标/y坐标, 横坐标/纵坐标.
    """
    by_base: dict[str, list[str]] = {}
    for col in columns:
        by_base.setdefault(split_header(col)[0], []).append(col)
    problems: list[Message] = []
    for lon_name, lat_name in zip(LON_NAMES, LAT_NAMES):
        lons, lats = by_base.get(lon_name, []), by_base.get(lat_name, [])
        if lons and lats:
            if len(lons) > 1 or len(lats) > 1:
                problems.append(IMPORT("file.several_coordinate_columns", columns=", ".join(map(repr, lons + lats))))
                return None, problems
            return (lons[0], lats[0]), problems
    half = [c for n in LON_NAMES + LAT_NAMES for c in by_base.get(n, [])]
    if half:
        problems.append(IMPORT("file.coordinate_column_unpaired", column=half[0]))
    return None, problems


def _crs_hint(headers) -> str | None:
    for h in headers:
        unit = split_header(h)[1].lower().replace("-", "").replace("_", "").replace(" ", "")
        for key, crs in _CRS_HINTS.items():
            if key in unit:
                return crs
    return None


def _find_wkt_column(columns) -> str | None:
    for col in columns:
        if split_header(col)[0] in WKT_NAMES:
            return col
    return None


# --------------------------------------------------------------------------- formats

def read_table(path: str | os.PathLike, *, source_layer: str | None = None, target: str | None = None,
               format: str | None = None, limits: ArchiveLimits | None = None) -> RawTable:
    """Read ``path`` into a :class:`RawTable`.

    ``source_layer`` picks a GeoPackage layer or an Excel sheet; without it, the one named ``target``
    (the dataset layer being imported) is taken, else the only one, else :class:`ImportReadError`
    lists the choices. ``limits`` bounds what a zipped shapefile may unpack to (default
    :class:`ArchiveLimits`).
    """
    path = Path(path)
    if not path.exists():
        raise ImportReadError("read.no_file", path=str(path))
    fmt = format_for_path(path, format)
    reader = {
        "GeoJSON": _read_ogr, "GeoPackage": _read_ogr, "Shapefile": _read_shapefile,
        "GeoParquet": _read_parquet, "CSV": _read_csv, "Excel": _read_excel,
    }[fmt]
    extra = {"limits": limits} if fmt == "Shapefile" else {}
    try:
        return reader(path, fmt, source_layer=source_layer, target=target, **extra)
    except ImportReadError:
        raise
    except Exception as exc:  # a corrupt or mislabelled file: say which and why
        raise ImportReadError("read.unreadable", name=path.name, format=fmt, reason=library_reason(exc)) from exc


def _pick(names: list[str], wanted: str | None, target: str | None, what: str, path: Path) -> str:
    if wanted is not None:
        if wanted not in names:
            raise ImportReadError("read.no_such_part", name=path.name, what=_part(what), wanted=wanted,
                                  names=", ".join(names))
        return wanted
    if target is not None and target in names:
        return target
    if len(names) == 1:
        return names[0]
    raise ImportReadError("read.several_parts", name=path.name, n=len(names), what=_part(what), names=", ".join(names))


def _from_ogr(path: Path, fmt: str, layer: str | None = None, encoding: str | None = None) -> RawTable:
    gdf = pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    spatial = "geometry" in gdf.columns
    crs = pyproj.CRS.from_user_input(gdf.crs) if spatial and gdf.crs is not None else None
    frame = pd.DataFrame(gdf)
    if spatial:
        frame["geometry"] = list(gdf.geometry.array)
    raw = RawTable(frame, fmt, path, crs=crs, has_geometry=spatial, encoding=encoding, source_layer=layer)
    if not spatial:
        _table_geometry(raw)
    return raw


def _read_ogr(path: Path, fmt: str, *, source_layer, target) -> RawTable:
    layer = None
    if fmt == "GeoPackage":
        names = [str(n) for n, _ in pyogrio.list_layers(path)]
        layer = _pick(names, source_layer, target, "layer", path)
    return _from_ogr(path, fmt, layer)


# the files a shapefile is made of, taken from a .zip; anything else in the archive is never unpacked
SHAPEFILE_MEMBERS = (".shp", ".shx", ".dbf", ".prj", ".cpg")
_MIB = 1 << 20


@dataclass(frozen=True)
class ArchiveLimits:
    """How much a zipped shapefile may unpack to (see ``docs/security.md``, "Archives and file limits").

    ``max_unpacked_bytes`` caps the total size of the members read (.shp .shx .dbf .prj .cpg);
    ``max_ratio`` caps each member's unpacked/compressed size ratio, for members larger than
    ``ratio_floor_bytes`` (a small file cannot exhaust anything, and tiny files compress oddly).
    """

    max_unpacked_bytes: int = 2 * 1024 * _MIB  # 2 GiB; why: docs/security.md
    max_ratio: float = 100.0
    ratio_floor_bytes: int = _MIB

    @classmethod
    def from_options(cls, max_unpacked_mb: float | None = None, max_ratio: float | None = None) -> "ArchiveLimits":
        """Limits from the command line's ``--max-unpacked-mb`` and ``--max-ratio`` (None: the default)."""
        default = cls()
        if max_unpacked_mb is not None and not (max_unpacked_mb > 0 and np.isfinite(max_unpacked_mb)):
            raise ImportReadError("archive.max_unpacked_mb", value=max_unpacked_mb)
        if max_ratio is not None and not (max_ratio >= 1 and np.isfinite(max_ratio)):
            raise ImportReadError("archive.max_ratio", value=max_ratio)
        return cls(
            max_unpacked_bytes=default.max_unpacked_bytes if max_unpacked_mb is None else int(max_unpacked_mb * _MIB),
            max_ratio=default.max_ratio if max_ratio is None else float(max_ratio),
        )


def _read_shapefile(path: Path, fmt: str, *, source_layer, target, limits: ArchiveLimits | None = None) -> RawTable:
    if path.suffix.lower() == ".zip":
        return _read_zipped_shapefile(path, fmt, source_layer, limits or ArchiveLimits())
    encoding, note = shapefile_encoding(path)
    raw = _from_ogr(path, fmt, None, encoding)
    if note:
        raw.notes.append(note)
    return raw


def _read_zipped_shapefile(path: Path, fmt: str, source_layer: str | None, limits: ArchiveLimits) -> RawTable:
    """Unpack only the chosen shapefile's own members into a private temporary folder, within ``limits``,
    read it, and remove the folder (also when anything fails)."""
    with zipfile.ZipFile(path) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        _check_archive_entries(path, infos)
        shps = [i.filename for i in infos if i.filename.lower().endswith(".shp") and not _is_resource_fork(i.filename)]
        if not shps:
            raise ImportReadError("archive.no_shapefile", name=path.name)
        shp = _pick(shps, source_layer, None, "shapefile", path)
        stem = shp[: -len(".shp")].lower()
        members = [i for i in infos if i.filename.lower()[: len(stem)] == stem
                   and i.filename.lower()[len(stem):] in SHAPEFILE_MEMBERS]
        _check_member_sizes(path, members, limits)
        scratch = Path(tempfile.gettempdir())
        remove_stale(scratch, "parkplan-shp")  # folders of killed imports
        with claim_temp(scratch, "parkplan-shp", directory=True) as tmp:
            total = 0
            # written as "layer" + lower-case extension, whatever the archive's spelling (ENT.SHP + ent.dbf)
            base = Path(shp).stem
            for info in members:
                name = base + info.filename[len(stem):].lower()
                total = _unpack_member(zf, info, Path(tmp) / name, path, limits, total)
            raw = _read_shapefile(Path(tmp) / f"{base}.shp", fmt, source_layer=None, target=None)
    raw.path = path
    raw.source_layer = shp
    return raw


def _is_resource_fork(name: str) -> bool:
    return name.startswith("__MACOSX/") or Path(name).name.startswith("._")


def _check_archive_entries(path: Path, infos: list[zipfile.ZipInfo]) -> None:
    """Refuse an archive with an entry that could write outside a folder, a link, a duplicate or a nested archive."""
    problems: list[Message] = []
    seen = set()
    for info in infos:
        name = info.filename
        parts = name.replace("\\", "/").split("/")
        mode = (info.external_attr >> 16) & 0o170000
        if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
            problems.append(IMPORT("archive.absolute_path", entry=name))
        elif ".." in parts:
            problems.append(IMPORT("archive.outside", entry=name))
        if mode == 0o120000:
            problems.append(IMPORT("archive.symlink", entry=name))
        if name.lower().endswith((".zip", ".7z", ".rar", ".gz", ".tar", ".tgz")) and not _is_resource_fork(name):
            problems.append(IMPORT("archive.nested", entry=name))
        if name.lower() in seen:
            problems.append(IMPORT("archive.duplicate", entry=name))
        seen.add(name.lower())
    if problems:
        shown = Localised("; ".join(p.render("en") for p in problems[:10]), "；".join(p.render("zh") for p in problems[:10]))
        more = IMPORT("archive.and_more", n=len(problems) - 10) if len(problems) > 10 else ""
        raise ImportReadError("archive.refused", name=path.name, problems=shown, more=more)


def _mib(n: float) -> str:
    return f"{n / _MIB:,.1f} MiB"


def _too_big(path: Path, member: str, size: Message, limits: ArchiveLimits) -> ImportReadError:
    return ImportReadError("archive.too_big", name=path.name, member=member, size=size,
                           limit=_mib(limits.max_unpacked_bytes))


def _too_compressed(path: Path, member: str, unpacked: int, packed: int, limits: ArchiveLimits) -> ImportReadError:
    return ImportReadError("archive.too_compressed", name=path.name, member=member, unpacked=_mib(unpacked),
                           packed=_mib(packed), ratio=unpacked / max(packed, 1), limit=limits.max_ratio)


def _check_member_sizes(path: Path, members: list[zipfile.ZipInfo], limits: ArchiveLimits) -> None:
    """Refuse by the sizes the archive declares, before unpacking a byte."""
    total = 0
    for info in members:
        if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise _too_compressed(path, info.filename, info.file_size, info.compress_size, limits)
        total += info.file_size
        if total > limits.max_unpacked_bytes:
            raise _too_big(path, info.filename, IMPORT("archive.declares", size=_mib(info.file_size), total=_mib(total)),
                           limits)


def _unpack_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, path: Path, limits: ArchiveLimits,
                   total: int) -> int:
    """Stream one member to ``target`` in 1 MiB chunks, counting the bytes as they come (the declared sizes
    are not trusted); returns the running total."""
    written = 0
    with zf.open(info) as src, open(target, "wb") as dst:
        while chunk := src.read(_MIB):
            written += len(chunk)
            if total + written > limits.max_unpacked_bytes:
                raise _too_big(path, info.filename, IMPORT("archive.unpacks_to_more", size=_mib(written),
                                                           total=_mib(total + written)), limits)
            if written > limits.ratio_floor_bytes and written > limits.max_ratio * max(info.compress_size, 1):
                raise _too_compressed(path, info.filename, written, info.compress_size, limits)
            dst.write(chunk)
    return total + written


def _sidecar(path: Path, suffix: str) -> Path | None:
    for cand in path.parent.glob(path.stem + ".*"):
        if cand.suffix.lower() == suffix:
            return cand
    return None


_CPG_ALIASES = {
    "936": "gb18030", "cp936": "gb18030", "gbk": "gb18030", "gb2312": "gb18030", "gb18030": "gb18030",
    "54936": "gb18030", "65001": "utf-8", "utf8": "utf-8", "utf-8": "utf-8", "950": "big5",
    "1252": "cp1252", "ansi": "cp1252", "88591": "latin-1", "iso88591": "latin-1", "8859_1": "latin-1",
}


def shapefile_encoding(path: Path) -> tuple[str | None, str | None]:
    """The attribute encoding of a shapefile: its ``.cpg`` if any, else detected from the ``.dbf`` bytes.

    Returns (Python codec name or None for plain ASCII, a note for the import report). GBK is read as
    GB 18030, its superset, so rare characters outside GBK do not fail.
    """
    cpg = _sidecar(path, ".cpg")
    if cpg is not None:
        value = cpg.read_text(encoding="ascii", errors="ignore").strip()
        key = value.lower().replace(" ", "")
        name = _CPG_ALIASES.get(key) or _CPG_ALIASES.get(key.replace("-", ""))
        if name is None:
            try:
                name = codecs.lookup(value).name
            except LookupError:
                raise ImportReadError("read.cpg_unknown", name=cpg.name, value=value) from None
        return name, Note(IMPORT("note.encoding_cpg", encoding=value, file=cpg.name))
    dbf = _sidecar(path, ".dbf")
    if dbf is None:
        return None, None
    text = _dbf_text_bytes(dbf.read_bytes())
    if text.isascii():
        return None, None
    name = detect_text_encoding(text)
    return name, Note(IMPORT("note.encoding_detected_dbf", encoding=name))


def _dbf_text_bytes(data: bytes) -> bytes:
    """Field names and records of a dBASE file: every byte that is text (header numbers left out)."""
    if len(data) < 32:
        return b""
    header_len, = struct.unpack("<H", data[8:10])
    names = b"".join(data[o:o + 11].split(b"\0", 1)[0] for o in range(32, header_len - 31, 32))
    return names + data[header_len:].rstrip(b"\x1a")


def _read_parquet(path: Path, fmt: str, *, source_layer, target) -> RawTable:
    import geopandas as gpd
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata or {}
    if b"geo" in meta:
        gdf = gpd.read_parquet(path)
        frame = pd.DataFrame(gdf)
        geom_col = gdf.geometry.name
        frame = frame.rename(columns={geom_col: "geometry"}) if geom_col != "geometry" else frame
        frame["geometry"] = list(gdf.geometry.array)
        crs = pyproj.CRS.from_user_input(gdf.crs) if gdf.crs is not None else None
        return RawTable(frame, fmt, path, crs=crs, has_geometry=True)
    raw = RawTable(pd.read_parquet(path), "Parquet", path)
    _table_geometry(raw)
    return raw


def _read_csv(path: Path, fmt: str, *, source_layer, target) -> RawTable:
    import csv
    import io

    data = path.read_bytes()
    encoding = detect_text_encoding(data)
    text = data.decode(encoding)
    head = text[:20_000].splitlines()[:20]
    sep = max((",", "\t", ";", "|"), key=lambda d: sum(line.count(d) for line in head))
    reader = csv.reader(io.StringIO(text[:20_000], newline=""), delimiter=sep)
    first, lines = [], []
    for record in reader:
        first.append(record)
        lines.append(reader.line_num)
        if len(first) == 15:
            break
    at, note = _header_row(first, lines)
    header_line = lines[at] if lines else 1
    # the C parser does the bulk; records keep their line numbers (exact unless a cell spans lines)
    frame = pd.read_csv(io.StringIO(text), sep=sep, skiprows=header_line - 1, header=0, dtype=str,
                        keep_default_na=False, na_values=[""], skip_blank_lines=False, skipinitialspace=True)
    numbers = np.arange(len(frame)) + header_line + 1
    frame = frame.apply(lambda col: col.str.strip().replace("", None) if col.dtype != float else col)
    keep = frame.notna().any(axis=1).to_numpy()
    frame = frame[keep].reset_index(drop=True)
    raw = _finish_table(frame, numbers[keep].tolist(), fmt, path)
    raw.notes.extend([note] if note else [])
    raw.encoding = encoding
    if encoding not in ("utf-8", "utf-8-sig"):
        raw.notes.append(Note(IMPORT("note.encoding_detected", encoding=encoding)))
    _table_geometry(raw)
    return raw


def _read_excel(path: Path, fmt: str, *, source_layer, target) -> RawTable:
    """An Excel sheet with calamine (Rust): only cells that hold a value count, so a sheet whose formatting runs
    to row 1,048,576 costs what its data costs (50 rows in a 1,000,000-row formatted sheet: about 1 s,
    where openpyxl's streaming reader walks every row for about a minute; ``tests/geodata/test_import.py``)."""
    from python_calamine import CalamineWorkbook

    wb = CalamineWorkbook.from_path(str(path))
    names = list(wb.sheet_names)
    sheets = {}

    def sheet(name):
        if name not in sheets:
            sheets[name] = wb.get_sheet_by_name(name)
        return sheets[name]

    nonempty = [n for n in names if sheet(n).height > 0 and sheet(n).width > 0] or names
    chosen = _pick(nonempty, source_layer, target, "sheet", path)
    rows, lines = [], []
    # skip_empty_area=False: the range starts at A1, so list index + 1 is the sheet row; it ends at the last value
    for number, record in enumerate(sheet(chosen).to_python(skip_empty_area=False), start=1):
        if any(v != "" for v in record):
            rows.append([_excel_value(v) for v in record])
            lines.append(number)
    raw = _from_rows(rows, lines, fmt, path)
    raw.source_layer = chosen
    if len(names) > 1:
        raw.notes.append(Note(IMPORT("note.sheet", sheet=chosen, sheets=", ".join(names))))
    _table_geometry(raw)
    return raw


def _excel_value(v):
    """A calamine cell as openpyxl gives it: empty -> None, whole numbers -> int, dates -> datetime."""
    if v == "" and isinstance(v, str):
        return None
    if isinstance(v, float) and v.is_integer() and abs(v) < 2 ** 53:
        return int(v)
    if isinstance(v, _dt.date) and not isinstance(v, _dt.datetime):
        return _dt.datetime.combine(v, _dt.time())
    return v


def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and v != v)


def _header_row(rows: list[list], lines: list[int]) -> tuple[int, str]:
    """Index of the header among the first records: the first nearly as wide as the widest, so that
    title lines above a table (common in Chinese statistical sheets) are skipped. And a note if any were."""
    counts = [sum(not _blank(v) for v in r) for r in rows[:15]]
    widest = max(counts, default=0)
    at = next((i for i, c in enumerate(counts) if c >= max(1, min(2, widest), 0.6 * widest)), 0)
    if at and any(counts[:at]):
        return at, Note(IMPORT("note.header_row", row=lines[at]))
    return at, ""


def _from_rows(rows: list[list], lines: list[int], fmt: str, path: Path) -> RawTable:
    """A table from raw records (Excel): header located, empty rows dropped, sheet rows kept."""
    at, note = _header_row(rows, lines)
    header = rows[at] if rows else []
    width = max((len(r) for r in rows[at:]), default=0)
    names = [str(header[k]).strip() if k < len(header) and not _blank(header[k]) else f"Unnamed: {k}"
             for k in range(width)]
    body, numbers = [], []
    for record, line in zip(rows[at + 1:], lines[at + 1:]):
        if all(_blank(v) for v in record):
            continue
        cells = [None if _blank(v) else (v.strip() if isinstance(v, str) else v) for v in record]
        body.append(cells + [None] * (width - len(cells)))
        numbers.append(line)
    frame = pd.DataFrame(body, columns=names, dtype=object) if body else pd.DataFrame(columns=names, dtype=object)
    raw = _finish_table(frame, numbers, fmt, path)
    raw.notes.extend([note] if note else [])
    return raw


def _finish_table(frame: pd.DataFrame, numbers: list[int], fmt: str, path: Path) -> RawTable:
    """Strip header names, number duplicates (``name``, ``name.1``), drop unnamed empty columns; take off
    the formula guard's apostrophe (:func:`geodata.spreadsheet.unguard_frame`) that our exports add."""
    frame = unguard_frame(frame)
    names: list[str] = []
    seen: dict[str, int] = {}
    for c in frame.columns:
        name = str(c).strip()
        seen[name] = seen.get(name, -1) + 1
        names.append(name if seen[name] == 0 else f"{name}.{seen[name]}")
    frame.columns = names
    empty = [c for c in names if c.startswith("Unnamed: ") and frame[c].isna().all()]
    return RawTable(frame.drop(columns=empty), fmt, path, row_numbers=numbers)


def _table_geometry(raw: RawTable) -> None:
    """Find a table's coordinate columns or WKT column (recorded on ``raw``; geometry built in validation)."""
    pair, problems = find_coordinate_columns(raw.frame.columns)
    raw.problems.extend(problems)
    if pair is not None:
        raw.coordinates = pair
        raw.crs_hint = _crs_hint(pair)
        return
    raw.wkt_column = _find_wkt_column(raw.frame.columns)
