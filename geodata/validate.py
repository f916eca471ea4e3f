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

import datetime as _dt
import difflib
import functools
import math
import re
from dataclasses import dataclass, field
from numbers import Number

import numpy as np
import pandas as pd
import pyproj
import shapely

from .crs import metric_crs, parse_crs, transform_geometries
from .readers import RawTable, split_header
from .schema import (
    CATALOGUE_LEVELS,
    FUNDING_TYPES,
    GBT4754_TO_SECTOR,
    LAYERS,
    PARK_KIND_LABELS_ZH,
    PARK_KINDS,
    POLLUTION_CLASSES,
    POLLUTION_LABELS_ZH,
    PROJECT_STATUSES,
    PROTECTED_KINDS,
    PROTECTED_LABELS_ZH,
    SECTOR_IDS,
    SECTOR_LABELS_EN,
    SECTOR_LABELS_ZH,
    SIZE_CLASSES,
    Field,
    LayerSchema,
)

__all__ = ["IMPORTABLE_LAYERS", "ImportValidationError", "Problem", "ValidatedLayer", "header_zh", "validate_layer",
           "zh_labels"]

IMPORTABLE_LAYERS = ("parks", "enterprises", "projects", "protected_areas", "urban_boundaries", "catalogue", "counties",
                     "suppliers", "fixed_asset_investment", "enterprise_years")

ROWS_SHOWN_PER_PROBLEM = 10  # rows listed for each kind of problem before "... and N more"
LOCATION_TOLERANCE_M = 1000.0  # how far outside the province boundary a feature may lie (coastlines, islands)


@dataclass(frozen=True)
class Problem:
    """One problem: where (``row 5``, ``feature 3`` or ``file``), which field, what, and what is accepted."""

    where: str
    field: str | None
    message: str
    accepted: str = ""

    def __str__(self) -> str:
        text = f"{self.where}: " if self.where != "file" else ""
        text += f"{self.field}: " if self.field else ""
        text += self.message
        return text + (f" (accepted: {self.accepted})" if self.accepted else "")


class ImportValidationError(ValueError):
    """A file does not fit a layer. ``problems`` lists every problem; the message shows them grouped."""

    def __init__(self, problems: list[Problem], *, source: str = "", layer: str = "",
                 rows_shown: int = ROWS_SHOWN_PER_PROBLEM):
        self.problems = list(problems)
        self.source = source
        self.layer = layer
        self.rows_shown = rows_shown
        super().__init__(self.render())

    def render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''}"
        if self.source:
            head += f" in {self.source}"
        if self.layer:
            head += f" (layer {self.layer})"
        lines = [head + "; nothing was imported:"]
        groups: dict[tuple, list[Problem]] = {}
        for p in self.problems:
            groups.setdefault((p.field, p.accepted, p.where == "file"), []).append(p)
        for (fld, accepted, _), items in groups.items():
            title = f"column {fld!r}" if fld and fld not in ("geometry", "crs") else (fld or "file")
            if accepted:
                title += f" (accepted: {accepted})"
            lines.append(f"- {title}:")
            for p in items[: self.rows_shown]:
                lines.append(f"    {p.where + ': ' if p.where != 'file' else ''}{p.message}")
            if len(items) > self.rows_shown:
                lines.append(f"    ... and {len(items) - self.rows_shown} more")
        return "\n".join(lines)


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


# --------------------------------------------------------------------------- vocabularies

def _fold(text: str) -> str:
    return re.sub(r"[\s_\-]+", "", split_header(text)[0]) if text else ""


_EXTRA_LABELS: dict[tuple[str, ...], dict[str, str]] = {
    POLLUTION_CLASSES: {"轻": "light", "中": "medium", "重": "heavy", "低": "light", "高": "heavy",
                        "轻污染": "light", "中污染": "medium", "重污染": "heavy", "low": "light", "high": "heavy"},
    PARK_KINDS: {"乡镇工业区": "township_zone", "乡镇工业功能区": "township_zone", "特色园区": "specialty_park",
                 "特色工业园": "specialty_park", "township": "township_zone", "specialty": "specialty_park"},
    PROTECTED_KINDS: {"生态红线": "ecological_redline", "基本农田": "permanent_farmland",
                      "水源保护区": "water_source", "水源地": "water_source"},
    CATALOGUE_LEVELS: {"鼓励": "encouraged", "鼓励类": "encouraged", "限制": "restricted", "限制类": "restricted",
                       "淘汰": "eliminate", "淘汰类": "eliminate", "eliminated": "eliminate"},
    FUNDING_TYPES: {"国债": "national_debt", "国债资金": "national_debt", "省重点": "provincial_key",
                    "省重点技改": "provincial_key", "自筹": "own", "自有": "own", "自有资金": "own"},
    PROJECT_STATUSES: {"计划": "planned", "拟建": "planned", "在建": "in_progress", "建成": "completed",
                       "竣工": "completed", "完成": "completed", "已完成": "completed", "取消": "cancelled"},
    SIZE_CLASSES: {"规模以上": "above", "规上": "above", "规模以下": "below", "规下": "below"},
}
_ZH_LABELS: dict[tuple[str, ...], dict[str, str]] = {
    SECTOR_IDS: SECTOR_LABELS_ZH, POLLUTION_CLASSES: POLLUTION_LABELS_ZH, PARK_KINDS: PARK_KIND_LABELS_ZH,
    PROTECTED_KINDS: PROTECTED_LABELS_ZH,
    CATALOGUE_LEVELS: {"encouraged": "鼓励类", "restricted": "限制类", "eliminate": "淘汰类"},
    FUNDING_TYPES: {"national_debt": "国债", "provincial_key": "省重点", "own": "自筹"},
    PROJECT_STATUSES: {"planned": "计划", "in_progress": "在建", "completed": "建成", "cancelled": "取消"},
    SIZE_CLASSES: {"above": "规模以上", "below": "规模以下"},
}


def zh_labels(choices: tuple[str, ...]) -> dict[str, str]:
    """The Chinese label of each id of a vocabulary (empty if it has none); an import reads them back."""
    return dict(_ZH_LABELS.get(choices, {}))


@functools.lru_cache(maxsize=None)
def _labels(choices: tuple[str, ...]) -> dict[str, str]:
    """Every accepted spelling (folded) of a vocabulary -> its id."""
    out = {_fold(c): c for c in choices}
    for cid, zh in _ZH_LABELS.get(choices, {}).items():
        out[_fold(zh)] = cid
    if choices == SECTOR_IDS:
        out.update({_fold(en): cid for cid, en in SECTOR_LABELS_EN.items()})
    out.update({_fold(k): v for k, v in _EXTRA_LABELS.get(choices, {}).items()})
    return out


def _accepted_text(choices: tuple[str, ...]) -> str:
    zh = _ZH_LABELS.get(choices)
    text = ", ".join(choices)
    if zh:
        text += " or their Chinese names (" + ", ".join(zh[c] for c in choices) + ")"
    if choices == SECTOR_IDS:
        text += " or a GB/T 4754 code such as C17"
    return text


_GBT = re.compile(r"^[a-t]?(\d{2})\d{0,2}$")


def _match_choice(value: str, choices: tuple[str, ...]) -> tuple[str | None, str]:
    """(id, "") when ``value`` names a choice, else (None, error message with the closest suggestion)."""
    labels = _labels(choices)
    key = _fold(value)
    if key in labels:
        return labels[key], ""
    if choices == SECTOR_IDS:
        m = _GBT.match(key)
        if m:
            div = m.group(1)
            if div in GBT4754_TO_SECTOR:
                return GBT4754_TO_SECTOR[div], ""
            return None, f"{value!r}: GB/T 4754 division {div} is outside the plan's eleven sectors"
    close = difflib.get_close_matches(key, list(labels), n=1, cutoff=0.5)
    hint = f" (did you mean {labels[close[0]]!r}?)" if close else ""
    return None, f"{value!r} is not accepted{hint}"


# --------------------------------------------------------------------------- units

def _unit_table(pairs: dict[str, float]) -> dict[str, float]:
    return {_fold_unit(k): v for k, v in pairs.items()}


def _fold_unit(unit: str) -> str:
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", unit)).lower()


_MONEY = _unit_table({"元": 1, "yuan": 1, "rmb": 1, "cny": 1, "千元": 1e3, "万元": 1e4, "万": 1e4,
                      "10kyuan": 1e4, "10000yuan": 1e4, "百万元": 1e6, "亿元": 1e8, "亿": 1e8})
_USD = _unit_table({"美元": 1, "usd": 1, "$": 1, "千美元": 1e3, "万美元": 1e4, "百万美元": 1e6, "亿美元": 1e8})
_AREA = _unit_table({"公顷": 1, "ha": 1, "hm2": 1, "hm²": 1, "亩": 1 / 15, "mu": 1 / 15, "平方米": 1e-4,
                     "m2": 1e-4, "m²": 1e-4, "㎡": 1e-4, "平方公里": 100, "平方千米": 100, "km2": 100, "km²": 100})
_DIST = _unit_table({"公里": 1, "千米": 1, "km": 1, "米": 1e-3, "m": 1e-3})
_PRICE = _unit_table({"元/平方米": 1, "元/m2": 1, "元/㎡": 1, "yuan/m2": 1, "元/亩": 1 / 666.6667,
                      "万元/亩": 1e4 / 666.6667, "万元/公顷": 1, "元/公顷": 1e-4})
_ENERGY = _unit_table({"吨标准煤": 1, "吨标煤": 1, "tce": 1, "t": 1, "万吨标准煤": 1e4, "万吨标煤": 1e4})
_COUNT = _unit_table({"人": 1, "个": 1, "万人": 1e4})
_YEAR = _unit_table({"年": 1})


_UNIT_EXAMPLES = {"yuan": "(万元), (亿元)", "USD": "(万美元)", "ha": "(亩), (平方米)", "km": "(米)",
                  "yuan/m2": "(万元/亩)", "tce": "(万吨标准煤)"}


def _units_for(f: Field) -> tuple[dict[str, float] | None, str]:
    """The unit table of a field and the name of its stored unit."""
    name = f.name
    if name in ("revenue", "tax", "value_added", "rd_spend", "investment", "subsidy", "sales", "total", "industrial",
                "tech_transformation"):
        return _MONEY, "yuan"
    if name.endswith("_usd"):
        return _USD, "USD"
    if name.endswith("_ha"):
        return _AREA, "ha"
    if name.endswith("_km"):
        return _DIST, "km"
    if name == "land_price":
        return _PRICE, "yuan/m2"
    if name == "energy_tce":
        return _ENERGY, "tce"
    if name == "employees":
        return _COUNT, "persons"
    if name in _YEAR_FIELDS:
        return _YEAR, "year"
    return None, ""


_UNITS_ZH = {"yuan": "元", "USD": "美元", "ha": "公顷", "km": "公里", "yuan/m2": "元/平方米", "tce": "吨标准煤"}


def header_zh(f: Field) -> str:
    """The Chinese header of a field with its stored unit, as an import reads it back: ``营业收入(元)``."""
    if not f.zh:
        return f.name
    unit = _UNITS_ZH.get(_units_for(f)[1])
    return f"{f.zh}({unit})" if unit else f.zh


# --------------------------------------------------------------------------- headers

@dataclass
class _Column:
    source: str
    field: Field
    factor: float = 1.0
    unit: str = ""


# Other headers common in Chinese registers and statistics, beyond each field's own ``zh`` label.
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "enterprise_id": ("统一社会信用代码", "企业代码", "组织机构代码"),
    "name": ("名称", "单位名称", "企业名称"),
    "sector": ("所属行业", "行业类别", "行业代码", "国民经济行业代码"),
    "employees": ("从业人数", "职工人数", "年末从业人员"),
    "revenue": ("主营业务收入", "销售收入", "营业收入"),
    "established": ("成立日期", "成立时间", "设立时间", "设立日期"),
    "start_year": ("开工时间", "开工日期"),
    "county_code": ("行政区划代码", "县区代码"),
}


def _map_columns(columns: list[str], schema: LayerSchema, skip: set[str], keep: set[str]
                 ) -> tuple[dict[str, _Column], list[str], list[Problem]]:
    """Match headers to fields. Returns ({field: column}, ignored headers, problems)."""
    names: dict[str, Field] = {}
    for f in schema.fields:  # aliases first, so a field's own name and label win a clash
        for alias in HEADER_ALIASES.get(f.name, ()):
            names[_fold(alias)] = f
    shapefile_names: dict[str, list[Field]] = {}  # dBASE truncates names to 10 characters
    for f in schema.fields:
        if len(f.name) > 10:
            shapefile_names.setdefault(_fold(f.name[:10]), []).append(f)
    names.update({k: fs[0] for k, fs in shapefile_names.items() if len(fs) == 1})
    for f in schema.fields:
        names[_fold(f.name)] = f
        if f.zh:
            names[_fold(f.zh)] = f
    mapped: dict[str, _Column] = {}
    ignored: list[str] = []
    problems: list[Problem] = []
    for col in columns:
        if col in skip:
            continue
        base, unit = split_header(col)
        key = re.sub(r"[\s_\-]+", "", base)
        f = names.get(key)
        if f is None:  # a unit written without brackets: 营业收入万元
            for table in (_MONEY, _USD, _AREA, _DIST, _PRICE, _ENERGY):
                for u in sorted(table, key=len, reverse=True):
                    if key.endswith(u) and names.get(key[: -len(u)]) is not None:
                        f, unit = names[key[: -len(u)]], u
                        break
                if f is not None:
                    break
        if f is None:
            if col in keep:
                continue
            ignored.append(col)
            continue
        if f.name in mapped:
            problems.append(Problem("file", f.name, f"two columns mean the same field: {mapped[f.name].source!r} "
                                    f"and {col!r}; keep one"))
            continue
        table, stored = _units_for(f)
        factor = 1.0
        if unit and table is not None:
            factor = table.get(_fold_unit(unit))
            if factor is None:
                problems.append(Problem("file", f.name, f"header {col!r}: unit {unit!r} is not recognised",
                                        accepted=", ".join(k for k in table)))
                continue
        mapped[f.name] = _Column(col, f, float(factor), unit if factor != 1.0 else "")
    return mapped, ignored, problems


def _accepted_for(f: Field) -> str:
    """What a field's values may be, for error messages."""
    if f.choices:
        return _accepted_text(f.choices)
    if f.dtype == "list":
        return "sector ids, Chinese names or GB/T 4754 codes, separated by commas"
    if f.dtype == "bool":
        return "是/否, Y/N, 1/0, true/false"
    if f.dtype in ("int", "float"):
        text = "a whole number" if f.dtype == "int" else "a number"
        if f.minimum is not None:
            text += f" >= {f.minimum:g}"
        if f.maximum is not None:
            text += f" <= {f.maximum:g}"
        _, stored = _units_for(f)
        if stored in _UNIT_EXAMPLES:
            text += f" in {stored} (or with the unit in the header, e.g. {_UNIT_EXAMPLES[stored]})"
        return text
    if f.dtype == "date":
        return "a date YYYY-MM-DD (2003-06-30, 2003/6/30, 2003年6月30日)"
    return "any text" if not f.required else "non-empty text"


def _accepted_headers(f: Field) -> str:
    return f"{f.name}" + (f" or {f.zh}" if f.zh else "")


# --------------------------------------------------------------------------- values

def _missing(v) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    if isinstance(v, str) and not v.strip():
        return True
    return False


def _as_number(v) -> float:
    if isinstance(v, bool):
        raise ValueError
    if isinstance(v, Number):
        return float(v)
    text = str(v).strip().replace(",", "").replace("，", "").replace(" ", "")
    return float(text)


_YEAR_FIELDS = ("established", "start_year", "year")  # also accept dates: the year is kept
_DATE_RE = re.compile(r"^(\d{4})(?:[-/.]|\s*年\s*)?(\d{1,2})(?:[-/.]|\s*月\s*)?(\d{1,2})(?:\s*日)?"
                      r"(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_TRUE = {"true", "t", "yes", "y", "1", "1.0", "是", "√", "✓", "对", "有", "真"}
_FALSE = {"false", "f", "no", "n", "0", "0.0", "否", "×", "x", "无", "假", "不是"}
_YEAR_RE = re.compile(r"^\s*(\d{4})(?:\s*年.*|[-/.]\d{1,2}(?:[-/.]\d{1,2})?.*)?\s*$")


def _convert(values: list, col: _Column) -> tuple[list, list[tuple[int, str]]]:
    """Convert one column's values to the field's stored type. Returns (values, [(row, message)]).

    Plain numbers take a vectorised path; everything else is converted once per distinct value
    (registers repeat the same sector, class and flag spellings), so a million rows stay quick.
    """
    f = col.field
    if f.dtype in ("int", "float") and f.name not in _YEAR_FIELDS:
        return _convert_numbers(values, col)
    out: list = []
    errors: list[tuple[int, str]] = []
    cache: dict = {}
    for i, v in enumerate(values):
        try:
            key = (type(v), v)
            hit = cache.get(key)
        except TypeError:  # unhashable
            key, hit = None, None
        if hit is None:
            hit = _convert_cell(v, f, col.factor)
            if key is not None:
                cache[key] = hit
        value, message = hit
        if message:
            errors.append((i, message))
        out.append(value)
    return out, errors


def _convert_cell(v, f: Field, factor: float) -> tuple[object, str]:
    """(converted value or None, error message or "")."""
    if _missing(v):
        return None, "empty (required)" if f.required else ""
    try:
        return _convert_one(v, f, factor), ""
    except ValueError as exc:
        return None, str(exc)


def _convert_numbers(values: list, col: _Column) -> tuple[list, list[tuple[int, str]]]:
    f = col.field
    with np.errstate(all="ignore"):
        x = pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(dtype=float) * col.factor
    slow = ~np.isfinite(x)
    fails = np.zeros(len(x), dtype=bool)
    if f.dtype == "int":
        fails |= ~slow & (np.abs(x - np.round(x)) > 1e-6)
    if f.minimum is not None:
        fails |= ~slow & (x < f.minimum)
    if f.maximum is not None:
        fails |= ~slow & (x > f.maximum)
    if f.dtype == "float":
        out: list = x.tolist()
    else:
        ints = np.where(slow | fails, 0, np.round(np.nan_to_num(x))).astype(np.int64)
        out = ints.tolist()
    errors: list[tuple[int, str]] = []
    for i in np.flatnonzero(slow | fails):  # the per-cell path says what is wrong
        value, message = _convert_cell(values[i], f, col.factor)
        out[i] = value
        if message:
            errors.append((int(i), message))
    return out, errors


def _as_date(v) -> str:
    """An ISO date ``YYYY-MM-DD`` from a date, a datetime or text (2003-06-30, 2003/6/30, 2003.6.30,
    2003年6月30日, 20030630); refuses anything else and impossible days."""
    if isinstance(v, (_dt.datetime, pd.Timestamp)):
        return v.date().isoformat()
    if isinstance(v, _dt.date):
        return v.isoformat()
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    text = str(v).strip()
    m = _DATE_RE.match(text)
    if m is None:
        raise ValueError(f"{v!r} is not a date")
    try:
        return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        raise ValueError(f"{v!r} is not a date (no such day)") from None


def _convert_one(v, f: Field, factor: float):
    if f.dtype == "date":
        return _as_date(v)
    if f.dtype in ("str", "date"):
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        text = v.isoformat() if isinstance(v, (_dt.date, _dt.datetime)) else str(v).strip()
        if f.choices:
            cid, msg = _match_choice(text, f.choices)
            if cid is None:
                raise ValueError(msg)
            return cid
        return text
    if f.dtype == "list":
        items = [s for s in re.split(r"[,，、;；/|\s]+", str(v).strip()) if s]
        ids = []
        for item in items:
            cid, msg = _match_choice(item, SECTOR_IDS)
            if cid is None:
                raise ValueError(msg)
            if cid not in ids:
                ids.append(cid)
        return ",".join(ids)
    if f.dtype == "bool":
        if isinstance(v, (bool, np.bool_)):
            return bool(v)
        key = str(v).strip().lower()
        if key in _TRUE:
            return True
        if key in _FALSE:
            return False
        raise ValueError(f"{v!r} is not yes/no")
    # numbers
    if f.dtype == "int" and f.name in _YEAR_FIELDS:
        if isinstance(v, (_dt.date, _dt.datetime, pd.Timestamp)):
            return int(v.year)
        if isinstance(v, str):
            m = _YEAR_RE.match(v)
            if m:
                return int(m.group(1))
    try:
        x = _as_number(v)
    except (ValueError, TypeError):
        raise ValueError(f"{v!r} is not a number") from None
    if not math.isfinite(x):
        raise ValueError(f"{v!r} is not a finite number")
    x *= factor
    if f.dtype == "int":
        if abs(x - round(x)) > 1e-6:
            raise ValueError(f"{v!r} is not a whole number")
        x = int(round(x))
    if f.minimum is not None and x < f.minimum:
        raise ValueError(f"{v!r} is below the minimum {f.minimum:g}")
    if f.maximum is not None and x > f.maximum:
        raise ValueError(f"{v!r} is above the maximum {f.maximum:g}")
    return x


def _typed(values: list, f: Field) -> pd.Series:
    has_na = values.count(None) > 0
    if f.dtype == "int":
        return pd.Series(values, dtype="Int64" if has_na else "int64")
    if f.dtype == "float":
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    if f.dtype == "bool":
        return pd.Series(values, dtype="boolean" if has_na else "bool")
    return pd.Series(values, dtype="str")


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
        for j in np.flatnonzero(~(np.isfinite(xs) & np.isfinite(ys))):  # the per-cell path says what is wrong
            lon, lat = lons[j], lats[j]
            if _missing(lon) or _missing(lat):
                problems.append(Problem(raw.row_label(j), "geometry",
                                        f"no coordinates ({lon_col!r}/{lat_col!r} empty)"))
                reported.add(j)
                continue
            try:
                xs[j], ys[j] = _as_number(lon), _as_number(lat)
            except (ValueError, TypeError):
                problems.append(Problem(raw.row_label(j), "geometry",
                                        f"coordinates ({lon!r}, {lat!r}) in {lon_col!r}/{lat_col!r} are not numbers"))
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
                problems.append(Problem(raw.row_label(j), "geometry", f"{str(t)[:40]!r} is not WKT"))
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
        if message:
            accepted = ", ".join(_ACCEPTED_TYPES[wanted]) if message.startswith("a ") else ""
            problems.append(Problem(raw.row_label(int(j)), "geometry", message, accepted=accepted))
    return out, repaired


_TYPE_IDS = {"Point": 0, "Polygon": 3, "MultiPolygon": 6}


def _check_geometry(g, wanted: str, repair: bool, reported: bool) -> tuple[object, str, bool]:
    """One geometry that is not simply right: (geometry to store or None, problem or "", repaired?)."""
    if g is None:
        return None, "" if reported else "no geometry", False
    if g.is_empty:
        return None, "empty geometry", False
    fitted = _fit_type(g, wanted)
    if fitted is None:
        return None, f"a {g.geom_type}; this layer holds {wanted}s", False
    if fitted.is_valid:
        return fitted, "", False
    reason = shapely.is_valid_reason(fitted)
    if not repair:
        return None, f"invalid geometry: {reason}; fix it or import with --repair", False
    fixed = _repair(fitted)
    fixed = _fit_type(fixed, wanted) if fixed is not None and not fixed.is_empty else None
    if fixed is None or not fixed.is_valid:
        return None, f"invalid ({reason}) and cannot be repaired", False
    return fixed, "", True


def _check_location(raw: RawTable, geoms: np.ndarray, province, province_name: str,
                    problems: list[Problem], tolerance_m: float) -> None:
    """Report features outside the province (beyond ``tolerance_m``), noting swapped lon/lat."""
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
        problems.append(Problem("file", "geometry", f"longitude and latitude look exchanged in {int(swapped.sum())} "
                                f"of {idx.size} rows: swap the columns (longitude is the east-west value)"))
    for j, g, d, sw in zip(out_idx, outside, dist, swapped):
        if np.isfinite(d) and d <= tolerance_m:
            continue
        p = g if g.geom_type == "Point" else g.representative_point()
        where = f"({p.x:.6g}, {p.y:.6g})"
        away = f", {d / 1000:.0f} km away" if np.isfinite(d) else ""
        if sw:
            msg = (f"{where} lies outside {province_name}{away}; with longitude and latitude exchanged it lies "
                   "inside: are the longitude and latitude swapped?")
        else:
            msg = f"{where} lies outside {province_name}{away} (a wrong --crs, or a feature of another province?)"
        problems.append(Problem(raw.row_label(int(j)), "geometry", msg))


def _looks_projected(geoms: np.ndarray) -> bool:
    valid = [g for g in geoms if g is not None and not g.is_empty]
    if not valid:
        return False
    b = shapely.total_bounds(np.asarray(valid, dtype=object))
    return bool(np.nanmax(np.abs(b)) > 360)


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
    problems = [Problem("file", None, text) for text in raw.problems]
    frame = raw.frame
    n = len(frame)
    if n == 0:
        problems.append(Problem("file", None, "the file has no rows"))

    geometry_columns = {"geometry"} | set(raw.coordinates or ()) | ({raw.wkt_column} if raw.wkt_column else set())
    keep = set(keep_columns or ()) - {f.name for f in schema.fields}
    mapped, ignored, header_problems = _map_columns(list(frame.columns), schema, geometry_columns, keep)
    problems.extend(header_problems)
    for f in schema.fields:
        if f.required and f.name not in mapped and not any(p.field == f.name for p in header_problems):
            problems.append(Problem("file", f.name, "required column missing", accepted=_accepted_headers(f)))

    values: dict[str, list] = {}
    for name, col in mapped.items():
        converted, errors = _convert(frame[col.source].tolist(), col)
        values[name] = converted
        accepted = _accepted_for(col.field)
        for j, msg in errors:
            problems.append(Problem(raw.row_label(j), col.source, msg, accepted=accepted))

    _check_ids(raw, schema, mapped, values, existing_ids, problems)
    _check_unique(raw, schema, mapped, values, problems)
    for fname, (ref_layer, ids) in (references or {}).items():
        if fname in values and ids:
            for j, v in enumerate(values[fname]):
                if v is not None and v not in ids:
                    problems.append(Problem(raw.row_label(j), mapped[fname].source,
                                            f"{v!r} is not in the {ref_layer} layer"))

    notes = list(raw.notes)
    crs_used, geoms, repaired = None, None, 0
    if schema.geometry is not None:
        crs_used, geoms, repaired = _geometry(raw, schema, crs, repair, province, province_name, tolerance_m,
                                              problems, notes)
    elif raw.has_geometry or raw.coordinates:
        notes.append("the file's geometry is ignored: this layer is a table")

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
            listed = ", ".join(raw.row_label(j) for j in rows[:5]) + (", ..." if len(rows) > 5 else "")
            problems.append(Problem(raw.row_label(rows[1]), source, f"duplicate id {v!r} ({listed})",
                                    accepted="each id once"))
    if existing_ids:
        for v, rows in seen.items():
            if v in existing_ids:
                problems.append(Problem(raw.row_label(rows[0]), source,
                                        f"id {v!r} is already in the layer (append adds new ids only; "
                                        "--mode replace replaces the whole layer)"))


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
            listed = ", ".join(raw.row_label(j) for j in rows[:5]) + (", ..." if len(rows) > 5 else "")
            problems.append(Problem(raw.row_label(rows[1]), source, f"duplicate {' + '.join(schema.unique)} "
                                    f"{' / '.join(map(str, key))} ({listed})", accepted="each combination once"))


def _same_crs(a: str | pyproj.CRS, b: pyproj.CRS) -> bool:
    """``a`` (a pyproj CRS, or 'gcj02'/'bd09') is ``b``, axis order aside."""
    return isinstance(a, pyproj.CRS) and a.equals(b, ignore_axis_order=True)


def _geometry(raw, schema, crs, repair, province, province_name, tolerance_m, problems, notes):
    geoms, reported = _table_geometries(raw, problems)
    if geoms is None:
        problems.append(Problem("file", "geometry", f"no geometry: this layer needs {schema.geometry}s",
                                accepted="a GIS file (GeoJSON, GeoPackage, Shapefile, GeoParquet), or a table with "
                                "coordinate columns (经度/纬度, lon/lat, lng/lat, longitude/latitude, x/y) or a "
                                "WKT column (wkt)"))
        return None, None, 0
    geoms, repaired = _check_geometries(raw, schema, geoms, repair, problems, reported)
    if repaired:
        notes.append(f"{repaired} invalid geometr{'y' if repaired == 1 else 'ies'} repaired (shapely.make_valid)")
    source = None
    if crs is not None:
        try:
            source = parse_crs(crs)
        except ValueError as exc:
            problems.append(Problem("file", "crs", str(exc)))
            return None, geoms, repaired
        if raw.crs is not None and not _same_crs(source, raw.crs):
            notes.append(f"the file declares {raw.crs.to_string()}; the stated --crs {crs} was used")
    elif raw.crs is not None:
        source = raw.crs
    else:
        hint = ""
        if raw.crs_hint:
            hint = f"; its header suggests --crs {raw.crs_hint}"
        elif _looks_projected(geoms):
            hint = "; the coordinates look projected (metres), e.g. --crs 4549 for CGCS2000 GK zone 40"
        problems.append(Problem("file", "crs", f"the file states no coordinate reference system{hint}",
                                accepted="--crs 4326 (WGS 84, GPS), gcj02 (AMap, Tencent), bd09 (Baidu) or an "
                                "EPSG code"))
        return None, geoms, repaired
    label = source if isinstance(source, str) else (f"EPSG:{source.to_epsg()}" if source.to_epsg() else source.name)
    present = np.array([g is not None for g in geoms])
    if present.any() and not _same_crs(source, pyproj.CRS(4326)):
        with np.errstate(all="ignore"):
            geoms[present] = transform_geometries(geoms[present], source)
    if province is not None and present.any():
        _check_location(raw, geoms, province, province_name, problems, tolerance_m)
    return label, geoms, repaired
