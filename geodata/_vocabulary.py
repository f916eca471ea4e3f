"""Vocabularies, units and headers accepted by the importer (:mod:`geodata.validate`): Chinese and English
labels, GB/T 4754 codes, unit conversions, header matching."""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass



from ._problems import Problem
from .messages import IMPORT, Localised, Message
from .readers import split_header
from .schema import (
    CATALOGUE_LEVELS,
    FUNDING_TYPES,
    GBT4754_TO_SECTOR,
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


_YEAR_FIELDS = ("established", "start_year", "year")  # also accept dates: the year is kept


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


def _accepted_text(choices: tuple[str, ...]) -> Message:
    zh = _ZH_LABELS.get(choices)
    ids = ", ".join(choices)
    if not zh:
        return IMPORT("accepted.text", text=ids)
    names = ", ".join(zh[c] for c in choices)
    return IMPORT("accepted.sectors" if choices == SECTOR_IDS else "accepted.choices_zh", ids=ids, names=names)


_GBT = re.compile(r"^[a-t]?(\d{2})\d{0,2}$")


def _match_choice(value: str, choices: tuple[str, ...]) -> tuple[str | None, Message | None]:
    """(id, None) when ``value`` names a choice, else (None, the problem with the closest suggestion)."""
    labels = _labels(choices)
    key = _fold(value)
    if key in labels:
        return labels[key], None
    if choices == SECTOR_IDS:
        m = _GBT.match(key)
        if m:
            div = m.group(1)
            if div in GBT4754_TO_SECTOR:
                return GBT4754_TO_SECTOR[div], None
            return None, IMPORT("value.gbt4754_outside", value=value, division=div)
    close = difflib.get_close_matches(key, list(labels), n=1, cutoff=0.5)
    if close:
        return None, IMPORT("value.not_accepted_did_you_mean", value=value, suggestion=labels[close[0]])
    return None, IMPORT("value.not_accepted", value=value)


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
    f: Field | None
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
            for units_table in (_MONEY, _USD, _AREA, _DIST, _PRICE, _ENERGY):
                for u in sorted(units_table, key=len, reverse=True):
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
            problems.append(Problem("file", f.name, IMPORT("file.two_columns_same_field",
                                                           first=mapped[f.name].source, second=col)))
            continue
        table, stored = _units_for(f)
        factor = 1.0
        if unit and table is not None:
            found = table.get(_fold_unit(unit))
            if found is None:
                problems.append(Problem("file", f.name, IMPORT("file.unit_not_recognised", header=col, unit=unit),
                                        accepted_text=IMPORT("accepted.text", text=", ".join(k for k in table))))
                continue
            factor = found
        mapped[f.name] = _Column(col, f, float(factor), unit if factor != 1.0 else "")
    return mapped, ignored, problems


_UNIT_ZH = {"yuan": "元", "USD": "美元", "ha": "公顷", "km": "公里", "yuan/m2": "元/平方米", "tce": "吨标准煤"}


def _accepted_for(f: Field) -> Message:
    """What a field's values may be, for error messages."""
    if f.choices:
        return _accepted_text(f.choices)
    if f.dtype == "list":
        return IMPORT("accepted.sector_list")
    if f.dtype == "bool":
        return IMPORT("accepted.bool")
    if f.dtype in ("int", "float"):
        _, stored = _units_for(f)
        return IMPORT(
            "accepted.number",
            number=IMPORT("accepted.a_whole_number" if f.dtype == "int" else "accepted.a_number"),
            minimum=IMPORT("accepted.at_least", minimum=f.minimum) if f.minimum is not None else "",
            maximum=IMPORT("accepted.at_most", maximum=f.maximum) if f.maximum is not None else "",
            unit=(IMPORT("accepted.in_unit", unit=Localised(stored, _UNIT_ZH.get(stored, stored)),
                         example=_UNIT_EXAMPLES[stored]) if stored in _UNIT_EXAMPLES else ""))
    if f.dtype == "date":
        return IMPORT("accepted.date")
    return IMPORT("accepted.any_text" if not f.required else "accepted.non_empty_text")


def _accepted_headers(f: Field) -> Message:
    if f.zh:
        return IMPORT("accepted.or", first=f.name, second=f.zh)
    return IMPORT("accepted.text", text=f.name)
